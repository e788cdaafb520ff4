"""The charts of the finance pages, drawn from the reports (``providers.charts``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from providers.charts import (
    LIMIT_COLOR,
    PALETTE,
    REST_COLOR,
    Bar,
    Line,
    Point,
    Segment,
    ShareRow,
    bar_series,
    line_chart,
    meter,
    palette_for,
    ranking_bars,
    share_bars,
)
from providers.finance.formatting import (
    day_axis_label,
    day_label,
    usd_compact,
    won_compact,
)
from providers.finance.money import format_usd, format_won

if TYPE_CHECKING:
    from django.utils.safestring import SafeString

    from providers.finance.burndown import BurnDown
    from providers.finance.selectors import DayLine, DepartmentLine, KeyedLine, UserLine
    from providers.finance.tally import Tally

TOP_DEPARTMENTS = 10
TOP_PEOPLE = 10
MIX_MODELS = 8
# The ranking and the mix sit side by side in half a page: a narrower drawing keeps
# their text as large as the full-width charts'.
HALF_WIDTH = 480


def _money(tally: Tally) -> str:
    if not tally.has_krw:
        return _("no rate (%(usd)s)") % {"usd": format_usd(tally.cost_usd)}
    text = f"{format_won(tally.krw)} · {format_usd(tally.cost_usd)}"
    if tally.has_unconverted:
        text += " · " + _("%(usd)s without a rate") % {"usd": format_usd(tally.unconverted_usd)}
    return text


def daily_cost_chart(days: list[DayLine]) -> SafeString:
    points = []
    for line in days:
        unknown = line.tally.cost_usd > 0 and line.rate is None
        tooltip = f"{day_label(line.day)}: {_money(line.tally)}"
        if line.tally.requests:
            tooltip += " · " + _("%(count)s requests") % {"count": f"{line.tally.requests:,}"}
        points.append(
            Point(
                label=day_axis_label(line.day),
                value=None if unknown else float(line.tally.krw),
                tooltip=tooltip,
            )
        )
    return bar_series(
        points,
        label=_("Cost per day in won"),
        axis_format=won_compact,
        missing_label=_("no exchange rate"),
    )


def top_departments_chart(lines: list[DepartmentLine]) -> SafeString:
    """The departments whose own usage cost the most (own rows, so bars never overlap)."""
    ranked = sorted(
        (line for line in lines if line.own.cost_usd > 0),
        key=lambda line: (-line.own.krw, -line.own.cost_usd),
    )[:TOP_DEPARTMENTS]
    bars = [
        Bar(
            label=line.department.name if line.department else _("No department"),
            value=float(line.own.krw),
            display=format_won(line.own.krw) if line.own.has_krw else _("no rate"),
            tooltip=f"{line.department or _('No department')}: {_money(line.own)}",
            color=PALETTE[0],
        )
        for line in ranked
    ]
    return ranking_bars(
        bars,
        label=_("Departments with the highest cost, in won"),
        width=HALF_WIDTH,
        label_width=130,
    )


def top_people_chart(lines: list[UserLine]) -> SafeString:
    ranked = sorted(
        (line for line in lines if line.tally.cost_usd > 0),
        key=lambda line: (-line.tally.krw, -line.tally.cost_usd),
    )[:TOP_PEOPLE]
    bars = [
        Bar(
            label=line.name or line.email or _("No user"),
            value=float(line.tally.krw),
            display=format_won(line.tally.krw) if line.tally.has_krw else _("no rate"),
            tooltip=f"{line.name or line.email or _('No user')}: {_money(line.tally)}",
            color=PALETTE[3],
        )
        for line in ranked
    ]
    return ranking_bars(
        bars,
        label=_("People with the highest cost, in won"),
        width=HALF_WIDTH,
        label_width=130,
    )


def model_mix_chart(models: list[KeyedLine]) -> SafeString:
    """Each model's share of the cost and of the tokens (the cheapest grouped as "other")."""
    shown = models[:MIX_MODELS]
    rest = models[MIX_MODELS:]
    colors = palette_for([line.key for line in shown])
    other = _("Other models")

    def segments(measure: str) -> list[Segment]:
        items = [
            Segment(
                name=line.key,
                value=_measure(line.tally, measure),
                tooltip=f"{line.key}: {_describe(line.tally, measure)}",
                color=colors[line.key],
            )
            for line in shown
        ]
        rest_value = sum(_measure(line.tally, measure) for line in rest)
        if rest_value > 0:
            items.append(Segment(other, rest_value, other, REST_COLOR))
        return items

    legend = [(line.key or _("unknown"), colors[line.key]) for line in shown]
    if rest:
        legend.append((other, REST_COLOR))
    return share_bars(
        [ShareRow(_("Cost"), segments("cost")), ShareRow(_("Tokens"), segments("tokens"))],
        label=_("Share of each model in cost (USD basis) and tokens"),
        legend=legend,
        width=HALF_WIDTH,
        label_width=56,
    )


def _measure(tally: Tally, measure: str) -> float:
    return float(tally.cost_usd) if measure == "cost" else float(tally.total_tokens)


def _describe(tally: Tally, measure: str) -> str:
    if measure == "cost":
        return _money(tally)
    return _("%(count)s tokens") % {"count": f"{tally.total_tokens:,}"}


def burndown_chart(burndown: BurnDown) -> SafeString:
    tooltips = [
        f"{day_label(day)}: {format_usd(value)}" if value is not None else day_label(day)
        for day, value in zip(burndown.days, burndown.cumulative_usd, strict=True)
    ]
    limit = float(burndown.limit_usd)
    return line_chart(
        [day_axis_label(day) for day in burndown.days],
        [
            Line(_("Limit"), [limit] * len(burndown.days), LIMIT_COLOR, dashed=True),
            Line(_("Even pace"), [float(v) for v in burndown.ideal_usd], REST_COLOR, dashed=True),
            Line(
                _("Spent so far"),
                [None if v is None else float(v) for v in burndown.cumulative_usd],
                PALETTE[0],
                markers=True,
            ),
        ],
        label=_("Cumulative spend against the budget, in USD"),
        axis_format=usd_compact,
        tooltips=tooltips,
    )


def budget_meter(burndown: BurnDown) -> SafeString:
    fraction = float(burndown.spent.cost_usd / burndown.limit_usd) if burndown.limit_usd else 0.0
    return meter(
        fraction,
        label=_("%(percent)s%% of the budget used") % {"percent": burndown.percent_used},
    )
