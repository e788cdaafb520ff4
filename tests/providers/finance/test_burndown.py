"""Budget burn-down on the department page: this window's spend against the limit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from providers.budgets.models import Budget, Scope
from providers.budgets.periods import window_bounds
from providers.finance.burndown import department_burndowns
from providers.finance.scope import usage_scope_for
from providers.finance.selectors import rate_table
from providers.models import UsageRecord
from tests.personas import Personas
from tests.providers.finance.conftest import usage

pytestmark = pytest.mark.django_db


@pytest.fixture
def monthly(personas: Personas) -> Budget:
    p = personas
    now = timezone.now()
    start, _ = window_bounds("month", now)
    UsageRecord.objects.bulk_create(
        [
            usage(at=start + timedelta(minutes=5), user=p.member, department=p.eng_plat, cost="2"),
            usage(at=start + timedelta(minutes=7), user=p.dept_admin, department=p.eng, cost="1.5"),
            # Outside the subtree, and before the window: neither counts.
            usage(at=start + timedelta(minutes=7), user=p.outsider, department=p.hr, cost="50"),
            usage(at=start - timedelta(minutes=5), user=p.member, department=p.eng_plat, cost="50"),
        ]
    )
    return Budget.objects.create(
        scope=Scope.DEPARTMENT,
        organization=p.org,
        department=p.eng,
        period=Budget.Period.MONTH,
        limit_usd=Decimal("10"),
    )


def test_the_burndown_counts_the_subtree_in_the_current_window(
    personas: Personas, monthly: Budget
) -> None:
    scope = usage_scope_for(personas.finance)
    eng = scope.department(personas.eng.pk)
    assert eng is not None
    (burndown,) = department_burndowns(eng, now=timezone.now(), rates=rate_table())
    assert burndown.spent.cost_usd == Decimal("3.5")
    assert burndown.remaining_usd == Decimal("6.5")
    assert burndown.percent_used == 35 and not burndown.over
    known = [value for value in burndown.cumulative_usd if value is not None]
    assert known[-1] == Decimal("3.5") and known == sorted(known)
    assert burndown.ideal_usd[-1] == Decimal("10")
    assert burndown.days[0].day == 1 and len(burndown.days) in (28, 29, 30, 31)
    assert not burndown.spent.has_krw  # no exchange rate in this test: reported, not ₩0


def test_the_department_page_shows_the_burndown(
    client: Client, personas: Personas, monthly: Budget
) -> None:
    client.force_login(personas.dept_admin)
    page = client.get(
        f"/finance/departments/{personas.eng.pk}/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert f'data-budget="{monthly.pk}"' in page
    assert 'data-testid="budget-spent">$3.50' in page
    assert 'data-testid="budget-remaining">$6.50' in page
    assert "chart-lines" in page and "chart-meter" in page
    # ENG-PLAT has no budget of its own.
    page = client.get(f"/finance/departments/{personas.eng_plat.pk}/").content.decode()
    assert 'data-testid="burndown"' not in page
