"""Number formats of the operations page."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

from providers.ops.heatmap import EMPTY, format_ms

register = template.Library()


@register.filter
def ms(value: float | None) -> str:
    return format_ms(value)


@register.filter
def percent(value: float | None) -> str:
    """A share (0..1) as a percentage with one decimal; a dash when undefined."""
    if value is None:
        return EMPTY
    return number_format(value * 100, decimal_pos=1) + " %"


@register.filter
def count(value: int) -> str:
    return number_format(value, force_grouping=True)
