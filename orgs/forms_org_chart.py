"""Inputs of the org chart upload page: one form per step (R12).

Both forms parse the YAML in ``clean``, so a valid form carries a parsed ``chart``; the
confirm step parses the carried text again rather than trusting the preview.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from orgs.org_chart import OrgChart, OrgChartInvalid, org_chart_parse

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def _parse(text: str, filename: str) -> OrgChart:
    try:
        return org_chart_parse(text, filename=filename)
    except OrgChartInvalid as exc:
        # One error per line, each already "file:line: problem".
        raise ValidationError(exc.message.splitlines(), code="invalid") from None


def _check_size(size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError(_("The file is larger than 2 MB."), code="too_large")


class OrgChartUploadForm(forms.Form):
    file = forms.FileField(label=_("Org chart file (YAML)"))
    deactivate_missing = forms.BooleanField(
        label=_("Deactivate the organization's users who are not in the file"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chart: OrgChart | None = None
        self.text = ""
        self.filename = ""

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        _check_size(upload.size or 0)
        try:
            self.text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text."), code="encoding") from None
        self.filename = PurePath(upload.name or "org_chart.yaml").name[:200]
        return upload

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.text and not self.errors:
            self.chart = _parse(self.text, self.filename)
        return cleaned


class OrgChartConfirmForm(forms.Form):
    """The previewed file, carried back in hidden fields and validated again."""

    text = forms.CharField(widget=forms.HiddenInput, strip=False)
    filename = forms.CharField(widget=forms.HiddenInput, max_length=200)
    deactivate_missing = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chart: OrgChart | None = None

    def clean_text(self) -> str:
        # Browsers send the hidden field's line breaks as CRLF; YAML counts lines the same.
        text: str = self.cleaned_data["text"]
        _check_size(len(text.encode()))
        return text

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if not self.errors:
            self.chart = _parse(self.cleaned_data["text"], self.cleaned_data["filename"])
        return cleaned
