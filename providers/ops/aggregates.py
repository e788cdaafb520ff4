"""PostgreSQL expressions the operations selectors need and Django lacks."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db.models import Aggregate, DateTimeField, FloatField, Func

# The percentiles every latency figure is given at (fractions, ascending).
QUANTILES: tuple[float, ...] = (0.5, 0.95, 0.99)


class Percentiles(Aggregate):
    """``percentile_cont(ARRAY[...]) WITHIN GROUP (ORDER BY expr)``: one float per
    fraction of ``QUANTILES``, linearly interpolated; NULL when no row matches.

    The fractions are our own float constants, so they are written into the SQL."""

    function = "percentile_cont"
    template = "%(function)s(%(fractions)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = ArrayField(FloatField())

    def __init__(self, expression: Any, **extra: Any) -> None:
        fractions = ", ".join(repr(float(q)) for q in QUANTILES)
        super().__init__(expression, fractions=f"ARRAY[{fractions}]::float8[]", **extra)


class DateBin(Func):
    """``date_bin(stride, source, origin)``: the start of the bucket holding ``source``."""

    function = "date_bin"
    output_field = DateTimeField()
