"""Writes of the PII guard: policy rules (audited) and audit events for hits.

Callers have checked permissions (``providers.pii.permissions``). Saving or
deleting a rule drops this process's cached policy table (see ``receivers``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from orgs.audit import audit_record
from orgs.models import Department, User
from providers.pii.detect import PiiKind
from providers.pii.errors import PiiPolicyConflict
from providers.pii.models import PiiPolicy

if TYPE_CHECKING:
    from orgs.audit import RequestContext

_KINDS = frozenset(kind.value for kind in PiiKind)


def _snapshot(policy: PiiPolicy) -> dict[str, Any]:
    department = policy.department
    return {
        "department_id": department.pk if department is not None else None,
        "department": department.code if department is not None else None,
        "model_name": policy.model_name,
        "action": policy.action,
    }


def _save(policy: PiiPolicy) -> None:
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        raise PiiPolicyConflict(
            _("There is already a rule for this department and model: edit that one.")
        ) from None


@transaction.atomic
def pii_policy_create(
    *,
    department: Department | None,
    model_name: str,
    action: str,
    actor: User,
    context: RequestContext | None = None,
) -> PiiPolicy:
    policy = PiiPolicy(
        department=department,
        model_name=model_name.strip(),
        action=action,
        created_by=actor,
        updated_by=actor,
    )
    _save(policy)
    audit_record(
        actor=actor,
        action="pii_policy.create",
        target=policy,
        department=department,
        details=_snapshot(policy),
        context=context,
    )
    return policy


@transaction.atomic
def pii_policy_update(
    *,
    policy: PiiPolicy,
    department: Department | None,
    model_name: str,
    action: str,
    actor: User,
    context: RequestContext | None = None,
) -> PiiPolicy:
    before = _snapshot(policy)
    policy.department = department
    policy.model_name = model_name.strip()
    policy.action = action
    policy.updated_by = actor
    _save(policy)
    audit_record(
        actor=actor,
        action="pii_policy.update",
        target=policy,
        department=department,
        details={"before": before, "after": _snapshot(policy)},
        context=context,
    )
    return policy


@transaction.atomic
def pii_policy_delete(
    *, policy: PiiPolicy, actor: User, context: RequestContext | None = None
) -> None:
    audit_record(
        actor=actor,
        action="pii_policy.delete",
        target=policy,
        department=policy.department,
        details=_snapshot(policy),
        context=context,
    )
    policy.delete()


def pii_hits_record(
    *,
    user_id: int | None,
    department_id: int | None,
    model_name: str,
    provider: str,
    action: str,
    counts: dict[str, int],
    source: str,
) -> None:
    """One ``pii.detected`` audit event for a screened request that held personal
    data: which kinds and how many, the action taken, the model and provider. Only
    kind names and counts are accepted, so neither a value nor the text around it
    can reach the audit trail. Nothing is written when ``counts`` is empty.

    Blocking (database); the gateway calls it through ``sync_to_async``.
    """
    if not counts:
        return
    for kind, count in counts.items():
        if kind not in _KINDS or not isinstance(count, int) or isinstance(count, bool):
            raise ValueError("counts maps PiiKind values to integers")
    actor = User.objects.filter(pk=user_id).first() if user_id is not None else None
    department = (
        Department.objects.filter(pk=department_id).first() if department_id is not None else None
    )
    audit_record(
        actor=actor,
        action="pii.detected",
        department=department,
        details={
            "kinds": {kind: counts[kind] for kind in sorted(counts)},
            "hits": sum(counts.values()),
            "action": action,
            "model": model_name,
            "provider": provider,
            "source": source,
        },
    )
