"""The hash-chained audit trail: recording, verification, and the database guard."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from orgs.audit import GENESIS_HASH, RequestContext, audit_record, audit_verify, event_hash
from orgs.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def record_events(count: int) -> list[AuditEvent]:
    return [
        audit_record(actor=None, action="test.event", details={"n": n, "이름": "인사팀"})
        for n in range(1, count + 1)
    ]


@contextmanager
def append_only_guard_disabled() -> Iterator[None]:
    """Lets a test play the attacker who got past the trigger. ALTER TABLE is
    transactional, so the guard is back at the end of the test's transaction anyway."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE orgs_auditevent DISABLE TRIGGER orgs_auditevent_append_only")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE orgs_auditevent ENABLE TRIGGER orgs_auditevent_append_only")


def run_verify_audit() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_each_event_links_to_the_one_before() -> None:
    # when
    events = record_events(3)
    # then
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    for stored in AuditEvent.objects.all():
        assert event_hash(stored) == stored.hash  # the hash survives the round trip
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (3, events[2].hash)


def test_verify_reports_an_intact_chain() -> None:
    # given
    record_events(4)
    # when
    result = audit_verify()
    output = run_verify_audit()
    # then
    assert result.ok
    assert result.checked == 4
    assert result.first_bad_seq is None
    assert output.strip() == "Audit chain intact: 4 events"


def test_an_empty_trail_is_intact() -> None:
    assert audit_verify().ok
    assert run_verify_audit().strip() == "Audit chain intact: 0 events"


def test_an_edited_event_is_named() -> None:
    # given
    record_events(5)
    # when someone rewrites what event #3 says
    with append_only_guard_disabled(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orgs_auditevent SET details = %s::jsonb WHERE seq = 3",
            ['{"n": 99, "이름": "인사팀"}'],
        )
    # then
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == 3
    assert result.checked == 2
    assert "hash mismatch" in result.problem
    with pytest.raises(CommandError, match=r"Audit chain broken at event #3: .*hash mismatch"):
        run_verify_audit()


def test_an_edit_that_recomputes_the_hash_breaks_the_next_link() -> None:
    # given
    record_events(4)
    forged = AuditEvent.objects.get(seq=2)
    forged.action = "test.innocent"
    forged.hash = event_hash(forged)
    # when event #2 is rewritten together with a matching hash of its own
    with append_only_guard_disabled(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orgs_auditevent SET action = %s, hash = %s WHERE seq = 2",
            [forged.action, forged.hash],
        )
    # then the event after it no longer follows
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "prev_hash mismatch" in result.problem


def test_a_deleted_event_in_the_middle_is_detected() -> None:
    # given
    record_events(5)
    # when
    with append_only_guard_disabled(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM orgs_auditevent WHERE seq = 2")
    # then
    result = audit_verify()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 2, 1)
    assert "missing" in result.problem
    with pytest.raises(CommandError, match="#2"):
        run_verify_audit()


def test_deleting_the_newest_events_is_detected() -> None:
    # given
    record_events(5)
    # when
    with append_only_guard_disabled(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM orgs_auditevent WHERE seq >= 4")
    # then
    result = audit_verify()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 3)
    assert "newest events were removed" in result.problem
    with pytest.raises(CommandError, match="#4"):
        run_verify_audit()


def test_a_removed_chain_head_is_refused_and_detected() -> None:
    # given
    record_events(2)
    # when deleting the head is attempted, the database refuses
    with pytest.raises(DatabaseError, match="only moves forward"), transaction.atomic():
        AuditChainHead.objects.all().delete()
    # when it is removed past the guard anyway
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE orgs_auditchainhead DISABLE TRIGGER orgs_auditchainhead_forward_only"
        )
        cursor.execute("DELETE FROM orgs_auditchainhead")
        cursor.execute(
            "ALTER TABLE orgs_auditchainhead ENABLE TRIGGER orgs_auditchainhead_forward_only"
        )
    # then
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert "chain head" in result.problem


def test_the_database_refuses_update_and_delete() -> None:
    # given
    event = record_events(1)[0]
    # when / then: every way of changing or removing a row is refused
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="test.changed")
    event.action = "test.changed"
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        event.save()
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with (
        pytest.raises(DatabaseError, match="append-only: DELETE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM orgs_auditevent")
    # then the event is untouched and the chain intact
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"
    assert audit_verify().ok


@pytest.mark.parametrize(
    ("remote_addr", "stored"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("::FFFF:203.0.113.7", "::ffff:203.0.113.7"),
        ("unknown", None),
        ("203.0.113.7:5123", None),
    ],
)
def test_addresses_are_recorded_as_the_database_keeps_them(
    remote_addr: str, stored: str | None
) -> None:
    # given a request whose address arrived unnormalised (or as junk) from a proxy header
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr)
    # when
    event = audit_record(
        actor=None, action="test.event", context=RequestContext.from_request(request)
    )
    # then
    assert AuditEvent.objects.get(pk=event.pk).ip == stored
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_valid_chain() -> None:
    # given
    threads_count, per_thread = 6, 15
    start = threading.Barrier(threads_count)
    errors: list[Exception] = []

    def append(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                audit_record(actor=None, action="test.concurrent", details={"w": worker, "n": n})
        except Exception as exc:  # handed to the test thread, which fails on it
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads_count)]
    # when
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    # then
    assert not any(worker.is_alive() for worker in workers)
    assert errors == []
    total = threads_count * per_thread
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    result = audit_verify()
    assert (result.ok, result.checked) == (True, total)
    per_worker = {w: AuditEvent.objects.filter(details__w=w).count() for w in range(threads_count)}
    assert per_worker == dict.fromkeys(range(threads_count), per_thread)
