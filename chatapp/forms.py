"""Inputs of the chat pages (R12)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class ConversationCreateForm(forms.Form):
    model = forms.ChoiceField(label=_("Model"))
    system_prompt = forms.CharField(
        label=_("System prompt"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, models: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [(name, name) for name in models]  # type: ignore[attr-defined]


class ConversationRenameForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)


class SystemPromptForm(forms.Form):
    system_prompt = forms.CharField(
        label=_("System prompt"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Instructions the model follows in every answer of this conversation."),
    )


class PromptTemplateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    body = forms.CharField(
        label=_("Prompt"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Write {{name}} where the user fills something in."),
    )
    scope = forms.ChoiceField(label=_("Shared with"))

    def __init__(self, *args: Any, may_share_org_wide: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from chatapp.models import PromptTemplate

        choices = [
            (PromptTemplate.Scope.PRIVATE, PromptTemplate.Scope.PRIVATE.label),
            (PromptTemplate.Scope.DEPARTMENT, PromptTemplate.Scope.DEPARTMENT.label),
        ]
        if may_share_org_wide:
            choices.append(
                (PromptTemplate.Scope.ORGANIZATION, PromptTemplate.Scope.ORGANIZATION.label)
            )
        self.fields["scope"].choices = choices  # type: ignore[attr-defined]


class ComparisonForm(forms.Form):
    prompt = forms.CharField(
        label=_("Prompt"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 4})
    )
    models = forms.MultipleChoiceField(label=_("Models"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, model_names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["models"].choices = [(name, name) for name in model_names]  # type: ignore[attr-defined]

    def clean_models(self) -> list[str]:
        chosen: list[str] = list(self.cleaned_data["models"])
        if not 2 <= len(chosen) <= 4:
            raise forms.ValidationError(_("Choose two to four models."))
        return chosen
