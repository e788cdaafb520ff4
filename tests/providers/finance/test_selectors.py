"""Dashboard figures checked against sums computed straight from the ledger rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from providers.finance.periods import Period
from providers.finance.scope import usage_scope_for
from providers.finance.selectors import (
    rate_table,
    usage_by_day,
    usage_by_department,
    usage_by_model,
    usage_by_user,
    usage_report,
)
from providers.finance.tally import tally_total
from tests.providers.finance.conftest import Ledger, expected_krw, in_departments

pytestmark = pytest.mark.django_db
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))


def test_each_department_in_won_equals_the_ledger_at_each_days_rate(ledger: Ledger) -> None:
    p = ledger.personas
    lines = usage_by_department(usage_scope_for(p.platform_admin), MARCH, rate_table())
    by_code = {line.department.code if line.department else None: line for line in lines}
    for department in (p.eng, p.eng_plat, p.hr, p.fin):
        want = expected_krw(ledger.rows, in_departments(department), MARCH.first, MARCH.last)
        got = by_code[department.code].own
        assert (got.krw, got.cost_usd, got.unconverted_usd, got.requests) == (
            want["krw"],
            want["usd"],
            want["unconverted"],
            want["requests"],
        ), department.code
    # A hand check of one line: ENG-PLAT's 03-03..03-14 rows at 1,450.25, 03-31 at 1,462.80;
    # its 03-01 row has no rate; its April row (still March in UTC) is not in March.
    eng_plat = by_code["ENG-PLAT"].own
    exact = (Decimal("0.0100000001") + Decimal("0.2333333333") + Decimal("2.5")) * Decimal(
        "1450.25"
    ) + Decimal("1.2345678901") * Decimal("1462.80")
    assert eng_plat.krw_exact == exact
    assert eng_plat.krw == 5784  # ₩5,784.445... rounded half up
    assert eng_plat.unconverted_usd == Decimal("0.4125")
    assert eng_plat.missing_days == (date(2025, 3, 1),)


def test_a_day_before_any_rate_is_reported_not_counted_as_zero(ledger: Ledger) -> None:
    p = ledger.personas
    days = {
        line.day: line for line in usage_by_day(usage_scope_for(p.finance), MARCH, rate_table())
    }
    first = days[date(2025, 3, 1)]
    assert first.rate is None
    assert first.tally.cost_usd == Decimal("0.4125")
    assert first.tally.unconverted_usd == Decimal("0.4125")
    assert not first.tally.has_krw  # shown as "no rate", never as ₩0
    assert days[date(2025, 3, 3)].rate is not None
    assert days[date(2025, 3, 3)].rate.krw_per_unit == Decimal("1450.25")  # type: ignore[union-attr]
    assert days[date(2025, 3, 15)].rate.krw_per_unit == Decimal("1462.80")  # type: ignore[union-attr]
    assert len(days) == 31


def test_finance_reads_the_eng_subtree_only_with_a_rollup(ledger: Ledger) -> None:
    p = ledger.personas
    report = usage_report(usage_scope_for(p.finance), MARCH)
    codes = [line.department.code for line in report.departments if line.department]
    assert codes == ["ENG", "ENG-PLAT"]
    eng, eng_plat = report.departments
    assert eng.depth == 0 and eng_plat.depth == 1
    assert eng.subtree.krw == eng.own.krw + eng_plat.own.krw
    want = expected_krw(
        ledger.rows,
        lambda row: row.department_id in (p.eng.pk, p.eng_plat.pk),
        MARCH.first,
        MARCH.last,
    )
    assert report.total.cost_usd == want["usd"]
    assert report.total.unconverted_usd == want["unconverted"]
    # The total is the sum of the displayed lines.
    assert report.total.krw == sum(line.own.krw for line in report.departments)
    assert report.total.missing_days == (date(2025, 3, 1), date(2025, 3, 2))


def test_platform_admins_also_see_rows_without_a_department(ledger: Ledger) -> None:
    p = ledger.personas
    report = usage_report(usage_scope_for(p.platform_admin), MARCH)
    assert report.departments[-1].department is None
    assert report.departments[-1].own.cost_usd == Decimal("0.25")
    everything = expected_krw(ledger.rows, lambda row: True, MARCH.first, MARCH.last)
    assert report.total.cost_usd == everything["usd"]


def test_requests_count_final_attempts_and_cost_counts_every_attempt(ledger: Ledger) -> None:
    p = ledger.personas
    models = {
        line.key: line.tally
        for line in usage_by_model(usage_scope_for(p.dept_admin), MARCH, rate_table())
    }
    # req-retry: a failed gpt-4o attempt (not final) and a claude-sonnet fallback.
    assert models["claude-sonnet"].requests == 2
    # gpt-4o: three client requests (03-01, 03-02, 03-14) and the failed attempt of 03-03.
    assert models["gpt-4o"].requests == 3
    assert models["gpt-4o"].attempts == 4
    assert models["gpt-4o"].cost_usd == Decimal("0.4125") + Decimal("1.0005") + Decimal(
        "0.0100000001"
    ) + Decimal("2.5")


def test_users_of_a_department_subtree(ledger: Ledger) -> None:
    p = ledger.personas
    scope = usage_scope_for(p.finance)
    eng = scope.department(p.eng.pk)
    assert eng is not None
    lines = usage_by_user(scope.narrowed_to(eng), MARCH, rate_table())
    assert {line.email for line in lines} == {p.member.email, p.dept_admin.email}
    want = expected_krw(
        ledger.rows,
        lambda row: row.department_id in (p.eng.pk, p.eng_plat.pk),
        MARCH.first,
        MARCH.last,
    )
    total = tally_total(line.tally for line in lines)
    assert (total.cost_usd, total.requests) == (want["usd"], want["requests"])
    member = next(line for line in lines if line.email == p.member.email)
    assert (
        member.tally.krw
        == expected_krw(
            ledger.rows,
            lambda row: row.user_id == p.member.pk and row.department_id == p.eng_plat.pk,
            MARCH.first,
            MARCH.last,
        )["krw"]
    )
