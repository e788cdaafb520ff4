"""Reads on the gateway configuration."""

from __future__ import annotations

from providers.models import Deployment, Fallback
from providers.types import ModelInfo


def deployment_list_for_model(model_name: str) -> list[Deployment]:
    return list(Deployment.objects.filter(model_name=model_name, is_enabled=True).order_by("id"))


def fallback_model_names(model_name: str, *, kind: str = Fallback.Kind.GENERAL) -> list[str]:
    return list(
        Fallback.objects.filter(model_name=model_name, kind=kind)
        .order_by("position")
        .values_list("fallback_model_name", flat=True)
    )


def model_info_list(*, mode: str | None = None) -> list[ModelInfo]:
    """One entry per public model name with at least one enabled deployment."""
    seen: dict[str, ModelInfo] = {}
    queryset = Deployment.objects.filter(is_enabled=True).order_by("model_name", "id")
    if mode is not None:
        queryset = queryset.filter(mode=mode)
    for d in queryset:
        if d.model_name not in seen:
            seen[d.model_name] = ModelInfo(
                name=d.model_name,
                description=d.description,
                max_input_tokens=d.max_input_tokens,
                mode=d.mode,
            )
    return list(seen.values())
