"""Two dispatchers (or eight) acting at once never lose an update or break the board."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from common.errors import Busy, MoveConflict
from customers.models import Site
from dispatch.models import CallEvent, ServiceCall
from dispatch.services.moves import call_move, call_move_within
from tests.conftest import DAY, local

THREADS = 8
MOVES_PER_THREAD = 15


def _stale_move(rng, dispatcher, call_ids, tech_ids) -> str:
    """A move with a version nobody holds: it must be refused whatever else is going on."""
    call_id = rng.choice(call_ids)
    current = ServiceCall.objects.get(pk=call_id)
    try:
        call_move(
            user=dispatcher,
            call_id=call_id,
            technician_id=rng.choice(tech_ids),
            position=0,
            expected_version=current.version + 1000,
            now=local(7, 30),
        )
    except MoveConflict:
        return "stale refused"
    except Busy:
        return "busy"
    return "error: a stale version was accepted"


def _hammer(seed: int, dispatcher, call_ids, tech_ids, outcomes: Counter, lock) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data
    try:
        stale = _stale_move(rng, dispatcher, call_ids, tech_ids)
        with lock:
            outcomes[stale] += 1
        for _ in range(MOVES_PER_THREAD):
            call_id = rng.choice(call_ids)
            current = ServiceCall.objects.get(pk=call_id)
            target = rng.choice([*tech_ids, None])
            try:
                call_move(
                    user=dispatcher,
                    call_id=call_id,
                    technician_id=target,
                    position=rng.randint(0, 4),
                    expected_version=current.version,
                    now=local(7, 30),
                )
                result = "moved"
            except MoveConflict:
                result = "conflict"
            except Busy:
                result = "busy"
            except Exception as exc:  # any other error is a failure of the protocol
                result = f"error: {exc!r}"
            with lock:
                outcomes[result] += 1
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_eight_threads_moving_the_same_calls_keep_every_invariant(dispatcher, tom, tina, make_call):
    for tech in (tom, tina):
        for _ in range(3):
            make_call(tech)
    for _ in range(3):
        make_call()
    call_ids = list(ServiceCall.objects.values_list("id", flat=True))
    versions_before = dict(ServiceCall.objects.values_list("id", "version"))
    outcomes: Counter = Counter()
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=_hammer, args=(i, dispatcher, call_ids, [tom.pk, tina.pk], outcomes, lock)
        )
        for i in range(THREADS)
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began

    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes["moved"] > 0
    assert outcomes["stale refused"] >= THREADS // 2
    assert sum(outcomes.values()) == THREADS * (MOVES_PER_THREAD + 1)
    # Locks in id order keep the moves queueing, not retrying: a board that deadlocks or gives up
    # answers "busy" far more often, and a move without its technician lock takes minutes here.
    assert outcomes["busy"] <= THREADS * MOVES_PER_THREAD // 10, outcomes
    assert elapsed < 60, f"{elapsed:.0f} s for {THREADS * MOVES_PER_THREAD} moves"
    calls = list(ServiceCall.objects.all())
    # Each open call is in exactly one place: a queue with a position, or unassigned.
    assert len(calls) == len(call_ids)
    for call in calls:
        assert (call.technician_id is None) == (call.position is None) == (call.status == "new")
    # Dense positions 0..n-1 in every queue.
    for tech in (tom, tina):
        positions = sorted(c.position for c in calls if c.technician_id == tech.pk)
        assert positions == list(range(len(positions)))
    # One event per accepted move; versions only grow, by exactly the moves accepted.
    move_events = CallEvent.objects.filter(kind__in=["assigned", "moved", "reordered"])
    assert move_events.count() == outcomes["moved"]
    per_call = Counter(move_events.values_list("call_id", flat=True))
    for call in calls:
        assert call.version == versions_before[call.pk] + per_call[call.pk]
    assert DAY == calls[0].scheduled_day
    # Eight writers, one linear hash chain per call (moves, ripples and risk events included).
    assert "audit trail intact" in _audit_verify()


def _waiting_on_a_lock() -> int:
    """Backends of this test database blocked on a lock, as PostgreSQL itself reports them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_moves_into_one_queue_wait_for_each_other_and_lose_no_position(
    dispatcher, tom, customer, make_call, caplog
):
    """The technician lock, alone: the first move holds Tom's queue open, uncommitted, while
    the second is asked for. The second must queue behind it on Tom's lock and then plan from
    the queue the first left, at its first attempt. Without the lock the second plans from the
    queue as it was (its version check passes: the first never touched that call), writes a
    position the first also took, and the two deadlock on the deferred unique position: one
    is thrown away and retried (on a busy board, "busy" after four tries)."""
    caplog.set_level(logging.WARNING, logger="dispatch.services.moves")

    # Each at its own address: the call's row lock also locks its site's row, which would
    # serialize two moves of calls at one address whatever the technician lock did.
    def at_own_site(tech, name: str, north: float):
        site = Site.objects.create(customer=customer, address=name, lat=41.88 + north, lng=-87.63)
        return make_call(tech, summary=name, site=site)

    booked = at_own_site(tom, "Booked", 0.0)
    first, second = at_own_site(None, "First", 0.01), at_own_site(None, "Second", 0.02)
    first_written, release = threading.Event(), threading.Event()
    errors: list[str] = []

    def hold_open() -> None:
        try:
            with transaction.atomic():
                call_move_within(
                    user=dispatcher, call_id=first.pk, technician_id=tom.pk, position=0,
                    expected_version=first.version, now=local(7, 30),
                )  # fmt: skip
                first_written.set()
                assert release.wait(30), "the test never let the first move commit"
        except Exception as exc:  # reported by the test thread, not lost in this one
            errors.append(f"first: {exc!r}")
        finally:
            first_written.set()
            connection.close()

    def move_second() -> None:
        try:
            call_move(
                user=dispatcher, call_id=second.pk, technician_id=tom.pk, position=0,
                expected_version=second.version, now=local(7, 30),
            )  # fmt: skip
        except Exception as exc:
            errors.append(f"second: {exc!r}")
        finally:
            connection.close()

    holder = threading.Thread(target=hold_open)
    holder.start()
    assert first_written.wait(30) and not errors, errors
    mover = threading.Thread(target=move_second)
    mover.start()
    # Let the first commit only once the second is blocked inside the database (on Tom's lock,
    # or without it on a row the first wrote): the second has then read what it plans from.
    deadline = time.monotonic() + 30
    while _waiting_on_a_lock() == 0 and mover.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    release.set()
    holder.join(30)
    mover.join(30)
    assert not holder.is_alive() and not mover.is_alive(), "a move never finished"

    assert errors == []
    assert [r.getMessage() for r in caplog.records if "retry" in r.getMessage()] == []
    queue = list(
        ServiceCall.objects.filter(technician=tom, scheduled_day=DAY)
        .order_by("position")
        .values_list("id", "position")
    )
    # Both moves asked for the front: the later one is first, nothing lost, no position twice.
    assert queue == [(second.pk, 0), (first.pk, 1), (booked.pk, 2)]
    moves = Counter(CallEvent.objects.filter(kind="assigned").values_list("call_id", flat=True))
    assert moves == {first.pk: 1, second.pk: 1}


def _audit_verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_an_answer_and_a_move_at_once_queue_and_never_deadlock(dispatcher, tom, tina, make_call):
    """The technician taps "Yes, I'll make it" while the dispatcher takes the call anyway: both
    lock the call before the ask, so one waits for the other; neither fails with a deadlock."""
    from dispatch.services.asks import tech_ask, tech_ask_answer

    asked_at, later = local(9), local(9, 10)
    outcomes: Counter = Counter()
    lock = threading.Lock()
    for _ in range(6):
        call = make_call(tom, status="en_route", en_route_at=local(8, 50), deadline=local(11))
        ask = tech_ask(
            user=dispatcher, call_id=call.pk, expected_version=call.version, now=asked_at
        )
        start = threading.Barrier(2)

        def answer(ask_id=ask.pk, start=start):
            start.wait()
            try:
                tech_ask_answer(user=tom.user, ask_id=ask_id, answer="yes", now=later)
                result = "answered"
            except MoveConflict:
                result = "answer too late"
            except Exception as exc:
                result = f"error: {exc!r}"
            finally:
                connection.close()
            with lock:
                outcomes[result] += 1

        def take(call_id=call.pk, version=call.version, start=start):
            start.wait()
            try:
                call_move(
                    user=dispatcher,
                    call_id=call_id,
                    technician_id=tina.pk,
                    position=0,
                    expected_version=version,
                    reason="Tina is closer",
                    now=later,
                )
                result = "taken"
            except Exception as exc:
                result = f"error: {exc!r}"
            finally:
                connection.close()
            with lock:
                outcomes[result] += 1

        threads = [threading.Thread(target=answer), threading.Thread(target=take)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ask.refresh_from_db()
        assert ask.status in ("kept", "overtaken")
        assert ServiceCall.objects.get(pk=call.pk).technician_id == tina.pk
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes["taken"] == 6
    assert "audit trail intact" in _audit_verify()
