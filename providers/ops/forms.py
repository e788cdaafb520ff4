"""Typed input of the operations view, read from the query string (R12)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from providers.ops.latency_map import METRICS, PERCENTS
from providers.ops.windows import DEFAULT_WINDOW, WINDOWS, Window, window_get

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.http import QueryDict


@dataclass(frozen=True)
class OpsFilters:
    window: Window
    metric: str
    percent: int
    model: str  # "" = every model group


class OpsFilterForm(forms.Form):
    """Every field has a default, so a bare ``/ops/`` shows the last 24 hours."""

    DEFAULTS = MappingProxyType(
        {"window": DEFAULT_WINDOW, "metric": "latency", "percentile": "95", "model": ""}
    )

    window = forms.ChoiceField(label=_("Period"), choices=[(w.key, w.label) for w in WINDOWS])
    metric = forms.ChoiceField(label=_("Heatmap shows"), choices=METRICS)
    percentile = forms.TypedChoiceField(
        label=_("Percentile"),
        choices=[(str(p), f"p{p}") for p in PERCENTS],
        coerce=int,
    )
    model = forms.ChoiceField(
        label=_("Model"), required=False, widget=forms.Select(attrs={"data-autosubmit": ""})
    )

    def __init__(self, query: QueryDict, *, models: Sequence[str], **kwargs: Any) -> None:
        given = {key: value for key in self.DEFAULTS if (value := query.get(key, "").strip())}
        data = {**self.DEFAULTS, **given}
        super().__init__(data, **kwargs)
        model_field = self.fields["model"]
        assert isinstance(model_field, forms.ChoiceField)  # noqa: S101 - for mypy
        # Choices are read per request, never at import (R8).
        model_field.choices = [("", _("All models")), *((m, m) for m in models)]

    def filters(self) -> OpsFilters:
        """Precondition: ``is_valid()`` returned True."""
        data = self.cleaned_data
        return OpsFilters(
            window=window_get(data["window"]),
            metric=data["metric"],
            percent=data["percentile"],
            model=data["model"] or "",
        )
