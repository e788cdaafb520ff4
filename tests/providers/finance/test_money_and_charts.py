"""Money arithmetic, the rate lookup and the SVG chart builders (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from providers.charts import (
    Bar,
    Line,
    Point,
    Segment,
    ShareRow,
    bar_series,
    line_chart,
    meter,
    nice_ticks,
    ranking_bars,
    share_bars,
)
from providers.finance.formatting import day_axis_label, won_compact
from providers.finance.money import format_rate, format_usd, format_won, round_won, vat_on
from providers.finance.rates import AppliedRate, RateTable
from providers.finance.tally import DaySums, tally_line, tally_total

EVIL = '<script>alert("x")</script>&'


def test_won_is_rounded_half_up_once() -> None:
    assert round_won(Decimal("1.5")) == 2
    assert round_won(Decimal("2.5")) == 3  # not banker's rounding
    assert round_won(Decimal("2.4999")) == 2
    assert vat_on(12345, Decimal("0.10")) == 1235  # 1234.5 → 1235
    assert format_won(1234567) == "₩1,234,567"
    assert format_won(-5) == "-₩5"
    assert format_usd(Decimal("1234.565")) == "$1,234.57"
    assert format_usd(Decimal("0.001")) == "<$0.01"
    assert format_usd(Decimal(0)) == "$0.00"
    assert format_rate(Decimal("1387.5000")) == "₩1,387.50"


def test_the_rate_of_a_day_is_the_latest_starting_on_or_before_it() -> None:
    table = RateTable(
        [
            AppliedRate(2, "USD", date(2025, 3, 15), Decimal("1462.80")),
            AppliedRate(1, "USD", date(2025, 3, 3), Decimal("1450.25")),
        ]
    )
    assert table.rate_on(date(2025, 3, 2)) is None
    assert table.rate_on(date(2025, 3, 3)).id == 1  # type: ignore[union-attr]
    assert table.rate_on(date(2025, 3, 14)).id == 1  # type: ignore[union-attr]
    assert table.rate_on(date(2025, 3, 15)).id == 2  # type: ignore[union-attr]
    assert table.rate_on(date(2030, 1, 1)).id == 2  # type: ignore[union-attr]


def test_a_line_rounds_once_and_a_total_adds_the_displayed_lines() -> None:
    table = RateTable([AppliedRate(1, "USD", date(2025, 3, 1), Decimal("1000"))])

    def day(n: int, cost: str) -> DaySums:
        return DaySums(date(2025, 3, n), 1, 1, 0, 0, Decimal(cost))

    # 0.0004 + 0.0004 USD → 0.8 won: one line rounds to 1 (never 0 + 0).
    line = tally_line([day(1, "0.0004"), day(2, "0.0004")], table)
    assert line.krw == 1
    halves = [tally_line([day(1, "0.0015")], table) for _ in range(3)]  # ₩1.5 each → 2
    assert tally_total(halves).krw == 6
    without = tally_line([DaySums(date(2025, 2, 28), 1, 1, 0, 0, Decimal("3"))], table)
    assert (without.krw, without.unconverted_usd, without.has_krw) == (0, Decimal(3), False)


def test_every_chart_escapes_labels_and_describes_itself() -> None:
    charts = [
        bar_series(
            [Point(EVIL, 3.0, EVIL), Point("b", None, EVIL)],
            label=EVIL,
            axis_format=str,
            missing_label=EVIL,
        ),
        line_chart(
            [EVIL, "b"],
            [Line(EVIL, [1.0, None], "#000", markers=True)],
            label=EVIL,
            axis_format=str,
            tooltips=[EVIL],
        ),
        ranking_bars([Bar(EVIL, 2.0, EVIL, EVIL)], label=EVIL),
        share_bars(
            [ShareRow(EVIL, [Segment(EVIL, 1.0, EVIL, "#000")])],
            label=EVIL,
            legend=[(EVIL, "#000")],
        ),
        meter(0.5, label=EVIL),
    ]
    for svg in charts:
        assert "<script" not in svg
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in svg
        assert svg.startswith("<svg ")
        assert 'role="img"' in svg and 'aria-label="&lt;script&gt;' in svg and "viewBox=" in svg
        assert "style=" not in svg  # strict CSP: no inline styles


def test_a_value_without_a_rate_is_drawn_as_missing_not_as_zero() -> None:
    svg = bar_series(
        [Point("03-01", None, "no rate"), Point("03-02", 10.0, "₩10")],
        label="cost",
        axis_format=str,
        missing_label="no exchange rate",
    )
    assert svg.count('class="chart-missing"') == 2  # the column and its legend key
    assert "no exchange rate" in svg


def test_axis_steps_are_round() -> None:
    assert nice_ticks(0) == [0.0, 1.0]
    assert nice_ticks(95) == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert nice_ticks(1_234_567)[-1] >= 1_234_567


@pytest.mark.parametrize(
    ("language", "label", "amount"), [("ko", "3월 5일", "₩350만"), ("en", "03-05", "₩3.5M")]
)
def test_days_and_amounts_follow_the_language(language: str, label: str, amount: str) -> None:
    with translation.override(language):
        assert day_axis_label(date(2025, 3, 5)) == label
        assert won_compact(3_500_000) == amount
