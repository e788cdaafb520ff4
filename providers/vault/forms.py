"""The form that registers a key (R12). Secret inputs are password fields that never
render a value back, so a re-shown form (after an error) carries no secret."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from providers.vault.errors import CredentialInvalid
from providers.vault.schema import (
    BYOK_PROVIDERS,
    PROVIDER_FIELDS,
    PROVIDER_LABELS,
    credential_secrets_validate,
)


def secret_field_providers() -> dict[str, list[str]]:
    """Secret field name → providers that take it, in form order."""
    owners: dict[str, list[str]] = {}
    for provider in BYOK_PROVIDERS:
        for spec in PROVIDER_FIELDS[provider]:
            owners.setdefault(spec.name, []).append(provider)
    return owners


class CredentialForm(forms.Form):
    provider = forms.ChoiceField(
        label=_("Provider"),
        choices=[(p, PROVIDER_LABELS[p]) for p in BYOK_PROVIDERS],
        widget=forms.Select(attrs={"data-vault-provider": ""}),
    )
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        required=False,
        help_text=_("Optional, to tell your keys apart (for example, the project)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {spec.name: spec for specs in PROVIDER_FIELDS.values() for spec in specs}
        for name, providers in secret_field_providers().items():
            spec = labels[name]
            self.fields[name] = forms.CharField(
                label=spec.label,
                required=False,
                strip=True,
                max_length=spec.max_length,
                widget=forms.PasswordInput(
                    render_value=False,
                    attrs={
                        "autocomplete": "off",
                        "spellcheck": "false",
                        "data-providers": " ".join(providers),
                    },
                ),
            )

    def secret_field_rows(self) -> list[tuple[forms.BoundField, str, str]]:
        """Each secret input with the providers that take it: their codes (for the
        script that shows only the chosen provider's inputs) and their names."""
        return [
            (self[name], " ".join(providers), ", ".join(str(PROVIDER_LABELS[p]) for p in providers))
            for name, providers in secret_field_providers().items()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        provider = cleaned.get("provider")
        if not provider:
            return cleaned
        names = {spec.name for spec in PROVIDER_FIELDS[provider]}
        given = {name: cleaned.get(name) or "" for name in names}
        try:
            cleaned["secrets"] = credential_secrets_validate(provider, given)
        except CredentialInvalid as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        # Fields of other providers are ignored, and never kept.
        for name in secret_field_providers():
            cleaned.pop(name, None)
        return cleaned
