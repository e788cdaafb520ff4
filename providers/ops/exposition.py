"""The Prometheus text exposition format, version 0.0.4 (what every scraper reads).

https://prometheus.io/docs/instrumenting/exposition_formats/ : one ``# HELP`` and
``# TYPE`` line per metric family, then ``name{label="value",...} value`` lines.
Label values escape backslash, double quote and line feed; help text escapes
backslash and line feed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Iterable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")

Labels = tuple[tuple[str, str], ...]


@dataclass
class MetricFamily:
    name: str
    kind: Literal["counter", "gauge", "summary", "untyped"]
    help: str
    samples: list[tuple[Labels, float | int | Decimal]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _METRIC_NAME.match(self.name):
            raise ValueError(f"invalid metric name {self.name!r}")

    def add(self, value: float | int | Decimal, **labels: str) -> None:
        for name in labels:
            if not _LABEL_NAME.match(name) or name.startswith("__"):
                raise ValueError(f"invalid label name {name!r}")
        self.samples.append((tuple(labels.items()), value))


def escape_label_value(value: str) -> str:
    return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


def escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def format_value(value: float | int | Decimal) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return repr(number)


def _sample_line(name: str, labels: Labels, value: float | int | Decimal) -> str:
    if not labels:
        return f"{name} {format_value(value)}"
    pairs = ",".join(f'{key}="{escape_label_value(text)}"' for key, text in labels)
    return f"{name}{{{pairs}}} {format_value(value)}"


def render(families: Iterable[MetricFamily]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        lines.extend(_sample_line(family.name, labels, value) for labels, value in family.samples)
    return "\n".join(lines) + "\n"
