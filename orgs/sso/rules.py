"""Writes on the claim mapping rules (platform admins only; checked by the caller)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from orgs.audit import RequestContext, audit_record
from orgs.models import ClaimMappingRule, Organization, User

RULE_FIELDS = ("position", "claim", "value", "action", "target", "is_enabled")


def _snapshot(rule: ClaimMappingRule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in RULE_FIELDS}


@transaction.atomic
def claim_rule_create(
    *,
    organization: Organization,
    actor: User,
    context: RequestContext | None = None,
    **values: Any,
) -> ClaimMappingRule:
    rule = ClaimMappingRule.objects.create(organization=organization, **values)
    audit_record(
        actor=actor, action="sso.rule_create", target=rule, details=_snapshot(rule), context=context
    )
    return rule


@transaction.atomic
def claim_rule_update(
    *, rule: ClaimMappingRule, actor: User, context: RequestContext | None = None, **values: Any
) -> ClaimMappingRule:
    before = _snapshot(rule)
    for name, value in values.items():
        setattr(rule, name, value)
    rule.save()
    audit_record(
        actor=actor,
        action="sso.rule_update",
        target=rule,
        details={"before": before, "after": _snapshot(rule)},
        context=context,
    )
    return rule


@transaction.atomic
def claim_rule_delete(
    *, rule: ClaimMappingRule, actor: User, context: RequestContext | None = None
) -> None:
    audit_record(
        actor=actor, action="sso.rule_delete", target=rule, details=_snapshot(rule), context=context
    )
    rule.delete()
