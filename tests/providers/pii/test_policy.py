"""Which rule applies: the department tree, model-specific rules, the default setting."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from orgs.models import Department
from providers.pii.models import PiiPolicy
from providers.pii.policy import PolicyCache, policy_table, policy_table_load
from providers.pii.services import pii_policy_create, pii_policy_delete
from tests.aio import run

if TYPE_CHECKING:
    from pytest_django import DjangoAssertNumQueries
    from pytest_django.fixtures import Settings

    from tests.personas import Personas

pytestmark = pytest.mark.django_db


def rule(department: Department | None, model_name: str, action: str) -> PiiPolicy:
    return PiiPolicy.objects.create(department=department, model_name=model_name, action=action)


def test_without_rules_the_setting_decides(personas: Personas, settings: Settings) -> None:
    settings.PII_DEFAULT_ACTION = "block"
    assert policy_table().action_for(personas.eng_plat.pk, "gpt-4o") == "block"
    settings.PII_DEFAULT_ACTION = "allow"  # the cached table follows the setting
    assert policy_table().action_for(personas.eng_plat.pk, "gpt-4o") == "allow"
    assert policy_table().action_for(None, "gpt-4o") == "allow"


def test_organisation_wide_rules_and_model_specific_wins(personas: Personas) -> None:
    rule(None, "", "mask")
    rule(None, "gpt-4o", "block")
    table = policy_table_load()
    assert table.action_for(personas.hr.pk, "gpt-4o") == "block"
    assert table.action_for(personas.hr.pk, "claude-sonnet") == "mask"
    assert table.action_for(None, "gpt-4o") == "block"  # callers without a department


def test_the_nearest_department_wins_over_the_organisation(personas: Personas) -> None:
    rule(None, "gpt-4o", "block")
    rule(personas.eng, "", "allow")
    table = policy_table_load()
    # ENG's rule for every model is nearer than the organisation's rule naming the model.
    assert table.action_for(personas.eng.pk, "gpt-4o") == "allow"
    assert table.action_for(personas.eng_plat.pk, "gpt-4o") == "allow"  # inherited
    assert table.action_for(personas.hr.pk, "gpt-4o") == "block"
    resolution = table.resolve(personas.eng_plat.pk, "gpt-4o")
    assert (resolution.department_id, resolution.model_name) == (personas.eng.pk, "")


def test_a_level_without_a_rule_for_the_model_is_passed_over(
    personas: Personas, settings: Settings
) -> None:
    settings.PII_DEFAULT_ACTION = "mask"
    rule(personas.eng, "", "allow")
    rule(personas.eng_plat, "gpt-4o", "block")
    table = policy_table_load()
    assert table.action_for(personas.eng_plat.pk, "gpt-4o") == "block"
    # ENG-PLAT has no rule for this model: its parent's rule for every model applies.
    assert table.action_for(personas.eng_plat.pk, "claude-sonnet") == "allow"
    assert table.action_for(personas.eng.pk, "gpt-4o") == "allow"
    assert table.action_for(personas.fin.pk, "gpt-4o") == "mask"
    assert table.resolve(personas.fin.pk, "gpt-4o").from_default


def test_same_level_model_rule_beats_every_model_rule(personas: Personas) -> None:
    rule(personas.eng_plat, "", "block")
    rule(personas.eng_plat, "gemini-pro", "mask")
    table = policy_table_load()
    assert table.action_for(personas.eng_plat.pk, "gemini-pro") == "mask"
    assert table.action_for(personas.eng_plat.pk, "gpt-4o") == "block"


def test_a_grandchild_inherits_through_the_whole_chain(personas: Personas) -> None:
    from orgs.services import department_create

    team = department_create(
        organization=personas.org, code="ENG-PLAT-DB", name="DB파트", parent=personas.eng_plat
    )
    rule(personas.eng, "gpt-4o", "allow")
    rule(None, "", "block")
    table = policy_table_load()
    assert table.action_for(team.pk, "gpt-4o") == "allow"
    assert table.action_for(team.pk, "other") == "block"


def test_unknown_department_falls_back_to_the_organisation(personas: Personas) -> None:
    rule(personas.eng, "", "allow")
    rule(None, "", "block")
    assert policy_table_load().action_for(999_999, "gpt-4o") == "block"


def test_one_query_without_department_rules_two_with(
    personas: Personas, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    rule(None, "", "mask")
    with django_assert_num_queries(1):
        policy_table_load()
    rule(personas.eng, "", "allow")
    with django_assert_num_queries(2):
        policy_table_load()


def test_the_cache_serves_without_queries_and_drops_on_change(
    personas: Personas, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    first = policy_table()
    with django_assert_num_queries(0):
        assert policy_table() is first
    policy = pii_policy_create(
        department=personas.eng, model_name="gpt-4o", action="block", actor=personas.dept_admin
    )
    assert policy_table() is not first
    assert policy_table().action_for(personas.eng_plat.pk, "gpt-4o") == "block"
    pii_policy_delete(policy=policy, actor=personas.dept_admin)
    assert policy_table().action_for(personas.eng_plat.pk, "gpt-4o") != "block"


def test_the_cache_expires(personas: Personas) -> None:
    cache = PolicyCache(max_age=0.0)
    first = cache.get()
    # Rows written without the services' signal (another process) show after max_age.
    PiiPolicy.objects.bulk_create([PiiPolicy(department=None, model_name="", action="block")])
    assert cache.get() is not first
    assert cache.get().action_for(None, "x") == "block"


def test_a_moved_department_follows_its_new_parent(personas: Personas) -> None:
    from orgs.services import department_move

    rule(personas.eng, "", "allow")
    rule(personas.hr, "", "block")
    assert policy_table().action_for(personas.eng_plat.pk, "m") == "allow"
    department_move(department=personas.eng_plat, new_parent=personas.hr)
    assert policy_table().action_for(personas.eng_plat.pk, "m") == "block"


@pytest.mark.django_db(transaction=True)
def test_async_reads_load_through_a_thread_and_then_hit_the_cache(personas: Personas) -> None:
    from asgiref.sync import sync_to_async
    from django.db import connections

    from providers.pii.policy import apolicy_table

    rule(personas.eng, "gpt-4o", "block")
    try:
        table = run(apolicy_table())
        assert table.action_for(personas.eng_plat.pk, "gpt-4o") == "block"
        assert run(apolicy_table()) is table
    finally:
        # The load ran on asgiref's thread: close its connection before the flush.
        run(sync_to_async(connections.close_all, thread_sensitive=True)())
