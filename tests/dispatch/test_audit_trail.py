"""The audit trail: call events are append-only in the database and hash-chained per call.

Real PostgreSQL throughout: the trigger, the row locks and the unique (call, prev_hash) are the
database's, so nothing here is mocked.
"""

from __future__ import annotations

import threading
import time
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from dispatch.audit import GENESIS
from dispatch.models import CallEvent, ServiceCall
from dispatch.services.events import event_record

pytestmark = pytest.mark.django_db
TRIGGER = "dispatch_callevent_append_only"


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def seed() -> None:
    call_command("seed_demo", "--seed", "1", "--yes-wipe-everything", stdout=StringIO())


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def refused(sql: str, params=()) -> str:
    """Run a statement that must fail; the message. A savepoint keeps the test's transaction."""
    with pytest.raises(DatabaseError) as failure, transaction.atomic():
        raw(sql, params)
    return str(failure.value)


@pytest.fixture
def history(make_call, dispatcher):
    call = make_call()
    for kind in ("booked", "edited", "status"):
        event_record(call=call, actor=dispatcher, kind=kind, note=f"{kind} by hand")
    return call


def test_events_carry_the_hash_of_the_calls_previous_event(history, make_call, dispatcher):
    other = make_call()
    event_record(call=other, actor=None, kind="booked")
    events = list(CallEvent.objects.filter(call=history).order_by("id"))
    assert [e.prev_hash for e in events] == [GENESIS, events[0].hash, events[1].hash]
    assert len({e.hash for e in events}) == 3 and all(len(e.hash) == 64 for e in events)
    # Each call has its own chain.
    assert CallEvent.objects.get(call=other).prev_hash == GENESIS


def test_a_raw_update_or_delete_of_an_event_is_refused_by_the_database(history):
    event = CallEvent.objects.filter(call=history).order_by("id").first()
    message = refused("UPDATE dispatch_callevent SET kind = 'cancelled' WHERE id = %s", [event.pk])
    assert "append-only" in message and "UPDATE" in message
    message = refused("DELETE FROM dispatch_callevent WHERE id = %s", [event.pk])
    assert "append-only" in message and "DELETE" in message
    assert CallEvent.objects.get(pk=event.pk).kind == "booked"
    # The ORM cannot either: saving would skip the chain or rewrite history.
    with pytest.raises(TypeError):
        event.save()


def test_the_applications_role_cannot_update_an_event_even_with_every_grant(history):
    # A login role like the app's, not a superuser, granted everything on the table: the
    # trigger still refuses. The name is unique: roles are shared by the whole server.
    role = f"dispatch_app_probe_{uuid.uuid4().hex[:8]}"
    raw(f"CREATE ROLE {role} NOSUPERUSER")
    raw(f"GRANT ALL ON dispatch_callevent TO {role}")
    raw(f"SET LOCAL ROLE {role}")
    assert "append-only" in refused("UPDATE dispatch_callevent SET payload = '{}'")
    assert "append-only" in refused("DELETE FROM dispatch_callevent")
    raw("RESET ROLE")


def test_the_grant_alternative_refuses_updates_by_privilege(history):
    # docs/operations.md: an app role with SELECT and INSERT only (and the sequence).
    role = f"dispatch_app_probe_{uuid.uuid4().hex[:8]}"
    raw(f"CREATE ROLE {role} NOSUPERUSER")
    raw(f"GRANT SELECT, INSERT ON dispatch_callevent TO {role}")
    raw(f"SET LOCAL ROLE {role}")
    assert "permission denied" in refused("UPDATE dispatch_callevent SET payload = '{}'")
    assert "permission denied" in refused("TRUNCATE dispatch_callevent")
    raw("RESET ROLE")


def test_audit_verify_passes_on_a_seeded_database():
    seed()
    events = CallEvent.objects.count()
    assert events > 100
    assert f"audit trail intact: {events} events" in verify()


def test_seeding_again_wipes_the_old_history_and_nothing_else_may():
    seed()
    seed()  # the demo's wipe is the one DELETE the trigger lets through
    verify()
    assert "append-only" in refused("DELETE FROM dispatch_callevent")
    # The wipe's switch was transaction-local and switched off straight after.
    raw("SELECT set_config('dispatch.audit_wipe', 'off', true)")


def tamper(sql: str, params) -> None:
    # As the superuser the tests connect as: only the table owner can disable the trigger.
    # (The seed's deferred foreign-key checks are run first; ALTER TABLE waits for none.)
    raw("SET CONSTRAINTS ALL IMMEDIATE")
    raw(f"ALTER TABLE dispatch_callevent DISABLE TRIGGER {TRIGGER}")
    raw(sql, params)
    raw(f"ALTER TABLE dispatch_callevent ENABLE TRIGGER {TRIGGER}")


def first_call_with_history() -> list[CallEvent]:
    call_ids = CallEvent.objects.order_by("call_id").values_list("call_id", flat=True)
    for call_id in call_ids.distinct():
        events = list(CallEvent.objects.filter(call_id=call_id).order_by("id"))
        if len(events) >= 3:
            return events
    raise AssertionError("the demo has calls with three events or more")


def test_audit_verify_names_an_edited_event():
    seed()
    events = first_call_with_history()
    target = events[1]
    tamper(
        'UPDATE dispatch_callevent SET payload = payload || \'{"reason": "forged"}\' WHERE id = %s',
        [target.pk],
    )
    # A later call broken too: the report names the first link only.
    last = CallEvent.objects.order_by("-call_id", "-id").first()
    tamper("UPDATE dispatch_callevent SET kind = 'cancelled' WHERE id = %s", [last.pk])
    with pytest.raises(CommandError) as failure:
        verify()
    message = str(failure.value)
    assert f"call {target.call_id}, event {target.pk}:" in message
    assert "edited" in message


def test_audit_verify_names_the_event_after_a_removed_one():
    seed()
    events = first_call_with_history()
    tamper("DELETE FROM dispatch_callevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError) as failure:
        verify()
    message = str(failure.value)
    assert f"call {events[2].call_id}, event {events[2].pk}:" in message
    assert f"does not match event {events[0].pk}" in message


def test_audit_verify_reads_a_batch_of_calls_at_a_time_and_checks_every_event(monkeypatch):
    # No server-side cursor (PgBouncer's transaction mode cannot keep one): batches of calls.
    from dispatch.management.commands import audit_verify

    seed()
    monkeypatch.setattr(audit_verify, "CALLS_PER_BATCH", 7)
    assert ServiceCall.objects.count() > 3 * 7
    events = CallEvent.objects.count()
    assert f"audit trail intact: {events} events" in verify()
    last = CallEvent.objects.order_by("-call_id", "-id").first()
    tamper("UPDATE dispatch_callevent SET kind = 'cancelled' WHERE id = %s", [last.pk])
    with pytest.raises(CommandError) as failure:
        verify()
    assert f"call {last.call_id}, event {last.pk}:" in str(failure.value)


# --- two writers at once ----------------------------------------------------------------------


def others_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        # Activity is read once per transaction unless the snapshot is dropped.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_writers_for_one_call_keep_its_chain_linear(make_call, dispatcher):
    call = make_call()
    event_record(call=call, actor=dispatcher, kind="booked")
    first_wrote = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                event_record(call=call, actor=dispatcher, kind="edited", who="first")
                first_wrote.set()
                # Commit only once the second writer is blocked behind this transaction, so
                # the two really overlap (polling the server, no timing guess).
                deadline = time.monotonic() + 20
                while not others_waiting_on_a_lock():
                    assert time.monotonic() < deadline, "the second writer never waited"
                    time.sleep(0.02)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    def second() -> None:
        try:
            assert first_wrote.wait(20)
            with transaction.atomic():
                event_record(call=call, actor=dispatcher, kind="edited", who="second")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    events = list(CallEvent.objects.filter(call=call).order_by("id"))
    assert [e.payload.get("who") for e in events] == [None, "first", "second"]
    assert [e.prev_hash for e in events] == [GENESIS, events[0].hash, events[1].hash]
    verify()
