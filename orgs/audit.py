"""The append-only, hash-chained audit trail. ``audit_record`` is the one way in.

Each event's hash is SHA-256 over the previous hash and a canonical JSON of the
event's content. Appends are serialised by a transaction-scoped advisory lock,
and the chain head row lets ``verify_audit`` notice removed newest rows.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Subquery, Value
from django.db.models.functions import Coalesce
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
            ip=_client_ip(request.META.get("REMOTE_ADDR")),
            user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:300],
        )


def _client_ip(remote_addr: object) -> str | None:
    """REMOTE_ADDR as an address the ``inet`` column accepts, else None. Behind a proxy
    it is copied from a header, so it may be anything (``unknown``, ``host:port``)."""
    if not isinstance(remote_addr, str):
        return None
    try:
        # A zone (``fe80::1%eth0``) is dropped: PostgreSQL's inet has no room for it.
        return str(ipaddress.ip_address(remote_addr.strip().split("%", 1)[0]))
    except ValueError:
        return None


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
            # The cast hands back the address the way the inet column will return it
            # (``2001:DB8:0::1`` is kept as ``2001:db8::1``), so the hash covers what
            # verify_audit reads back, as the details round trip below does for JSON.
            cursor.execute("SELECT pg_advisory_xact_lock(%s), %s::inet", [_LOCK_KEY, context.ip])
            row = cursor.fetchone()
        stored_ip: str | None = row[1] if row is not None else None
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
            ip=stored_ip,
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


VERIFY_BATCH_SIZE = 2000


@dataclass(frozen=True)
class AuditVerification:
    """What ``audit_verify`` found. When not ``ok``, ``first_bad_seq`` names the first
    event where the chain breaks and ``problem`` says how; ``checked`` counts the
    events verified before it."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def audit_verify() -> AuditVerification:
    """Walk the chain in ``seq`` order and report the first place it breaks.

    Detects an edited event (its hash no longer matches its content), a removed
    event in the middle (a gap in ``seq``, or a ``prev_hash`` that does not match
    the previous event) and removed newest events (the chain head is ahead of the
    newest event). The head is read first and only events up to it are walked:
    ``audit_record`` commits an event and the head together, so events appended
    while the walk runs are left for the next run instead of looking like damage.
    Events are read in batches, never all at once.
    """
    # Inside a transaction the iterator streams from a server-side cursor; in
    # autocommit PostgreSQL would first copy the whole result (WITH HOLD).
    with transaction.atomic():
        head = AuditChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
        head_seq, head_hash = head if head is not None else (0, GENESIS_HASH)
        checked, prev_hash, expected_seq = 0, GENESIS_HASH, 1
        events = AuditEvent.objects.filter(seq__lte=head_seq).order_by("seq")
        for event in events.iterator(chunk_size=VERIFY_BATCH_SIZE):
            if event.seq != expected_seq:
                return AuditVerification(
                    ok=False,
                    checked=checked,
                    first_bad_seq=expected_seq,
                    problem=f"the event is missing (the sequence jumps to #{event.seq})",
                )
            if event_hash(event) != event.hash:
                return AuditVerification(
                    ok=False,
                    checked=checked,
                    first_bad_seq=event.seq,
                    problem="the event was changed after it was recorded (hash mismatch)",
                )
            if event.prev_hash != prev_hash:
                return AuditVerification(
                    ok=False,
                    checked=checked,
                    first_bad_seq=event.seq,
                    problem=(
                        f"the event does not follow event #{event.seq - 1} "
                        "(prev_hash mismatch: an event before it was changed or replaced)"
                    ),
                )
            checked, prev_hash, expected_seq = checked + 1, event.hash, event.seq + 1
        newest_seq = expected_seq - 1
        if newest_seq != head_seq:
            newest = f"the newest event is #{newest_seq}" if newest_seq else "no event is left"
            return AuditVerification(
                ok=False,
                checked=checked,
                first_bad_seq=newest_seq + 1,
                problem=(
                    f"the newest events were removed (the chain head is at #{head_seq}, {newest})"
                ),
            )
        if prev_hash != head_hash:
            return AuditVerification(
                ok=False,
                checked=checked,
                first_bad_seq=head_seq,
                problem="the chain head's hash does not match the newest event",
            )
        beyond = _first_seq_beyond_head()
        if beyond is not None:
            return AuditVerification(
                ok=False,
                checked=checked,
                first_bad_seq=beyond,
                problem="the event is newer than the chain head (the head was removed or rewound)",
            )
    return AuditVerification(ok=True, checked=checked)


def _first_seq_beyond_head() -> int | None:
    """The lowest seq above the chain head, or None. One statement, so the head and
    the events come from the same snapshot: with every append committing both, a
    healthy chain never has an event above its head."""
    head_seq = Coalesce(Subquery(AuditChainHead.objects.filter(pk=1).values("seq")[:1]), Value(0))
    return (
        AuditEvent.objects.filter(seq__gt=head_seq)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
