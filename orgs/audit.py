"""The append-only, hash-chained audit trail. ``audit_record`` is the one way in.

Each event's hash is SHA-256 over the previous hash and a canonical JSON of the
event's content. Appends are serialised by a transaction-scoped advisory lock,
and the chain head row lets ``verify_audit`` notice removed newest rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from orgs.models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from django.db.models import Model
    from django.http import HttpRequest

    from orgs.models import Department, User

GENESIS_HASH = "0" * 64
_LOCK_KEY = 0x41554454  # "AUDT": one advisory lock for the chain


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest | None) -> RequestContext:
        if request is None:
            return cls()
        return cls(
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:300],
        )


def event_payload(event: AuditEvent) -> dict[str, Any]:
    """The hashed content of an event: everything but its own hash."""
    created: datetime = event.created_at
    return {
        "seq": event.seq,
        "created_at": created.isoformat(),
        "actor_id": event.actor_id,
        "actor_email": event.actor_email,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_repr": event.target_repr,
        "department_id": event.department_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }


def event_hash(event: AuditEvent) -> str:
    canonical = json.dumps(
        event_payload(event), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: Model | None = None,
    target_repr: str = "",
    department: Department | None = None,
    details: dict[str, Any] | None = None,
    context: RequestContext | None = None,
    actor_email: str = "",
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it records,
    so the event exists exactly when the change does."""
    context = context or RequestContext()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.seq + 1,
            # Microseconds dropped: the hash must survive a round trip through any export.
            created_at=timezone.now().replace(microsecond=0),
            actor=actor if actor is not None and actor.pk else None,
            actor_email=actor_email or (actor.email if actor is not None else ""),
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_repr=(target_repr or (str(target) if target is not None else ""))[:300],
            department=department,
            ip=context.ip,
            user_agent=context.user_agent[:300],
            details=details or {},
            prev_hash=head.hash,
        )
        # JSON round trip first, so the hash is computed over what the database returns.
        event.details = json.loads(json.dumps(event.details, default=str))
        event.hash = event_hash(event)
        event.save(force_insert=True)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    return event
