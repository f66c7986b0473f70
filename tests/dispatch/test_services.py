"""The move protocol and the recompute, against PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.errors import InvalidInput, MoveConflict, NotAllowed
from dispatch.models import CallEvent, ServiceCall
from dispatch.selectors.durations import learned_durations
from dispatch.services.etas import etas_refresh_day, etas_refresh_technicians
from dispatch.services.moves import call_move, call_move_preview
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db


def queue(tech) -> list[int]:
    return list(
        ServiceCall.objects.filter(
            technician=tech, scheduled_day=DAY, status__in=("assigned", "en_route", "on_site")
        )
        .order_by("position")
        .values_list("id", flat=True)
    )


def positions(tech) -> list[int]:
    return list(
        ServiceCall.objects.filter(technician=tech, scheduled_day=DAY, position__isnull=False)
        .order_by("position")
        .values_list("position", flat=True)
    )


def move(user, call, technician, position, now, **kw):
    call.refresh_from_db()
    return call_move(
        user=user,
        call_id=call.pk,
        technician_id=technician.pk if technician else None,
        position=position,
        expected_version=call.version,
        now=now,
        **kw,
    )


def test_assigning_a_call_places_it_and_computes_its_eta(dispatcher, tom, make_call, morning):
    call = make_call(deadline=local(12))
    move(dispatcher, call, tom, 0, morning)
    call.refresh_from_db()
    assert (call.technician, call.position, call.status, call.version) == (tom, 0, "assigned", 2)
    # Shift starts at 08:00; the site is a couple of km away, so arrival is a few minutes later.
    assert local(8) < call.eta < local(8, 20)
    assert call.risk == "ok"
    assert list(call.events.values_list("kind", flat=True)) == ["assigned"]


def test_moving_between_technicians_rewrites_both_queues_densely(
    dispatcher, tom, tina, make_call, morning
):
    a, b, c = (make_call(tom, summary=s) for s in "abc")
    d = make_call(tina, summary="d")
    move(dispatcher, b, tina, 0, morning)
    assert queue(tom) == [a.pk, c.pk]
    assert queue(tina) == [b.pk, d.pk]
    assert positions(tom) == [0, 1] and positions(tina) == [0, 1]
    c.refresh_from_db()
    # c now comes straight after a, so it is planned earlier than a third stop would be.
    assert c.eta is not None and c.eta < local(10, 30)


def test_reorder_within_a_queue_moves_later_calls(dispatcher, tom, make_call, morning):
    a, b, c = (make_call(tom, summary=s) for s in "abc")
    etas_refresh_technicians(technician_ids=[tom.pk], day=DAY, now=morning)
    move(dispatcher, c, tom, 0, morning)
    assert queue(tom) == [c.pk, a.pk, b.pk]
    assert CallEvent.objects.filter(call=c).get().kind == "reordered"


def test_every_move_writes_exactly_one_event(dispatcher, tom, tina, make_call, morning):
    a = make_call()
    for target, pos in [(tom, 0), (tina, 0), (tina, 0), (None, None)]:
        move(dispatcher, a, target, pos, morning)
    assert list(a.events.values_list("kind", flat=True)) == [
        "assigned",
        "moved",
        "reordered",
        "moved",
    ]
    a.refresh_from_db()
    assert (a.status, a.technician, a.position) == ("new", None, None)


def test_move_with_stale_version_is_rejected_and_changes_nothing(
    dispatcher, tom, tina, make_call, morning
):
    a = make_call(tom)
    stale = a.version
    move(dispatcher, a, tom, 0, morning)
    with pytest.raises(MoveConflict):
        call_move(
            user=dispatcher,
            call_id=a.pk,
            technician_id=tina.pk,
            position=0,
            expected_version=stale,
            now=morning,
        )
    a.refresh_from_db()
    assert a.technician == tom and queue(tina) == []
    assert a.events.count() == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"position": -1}, "negative"),
        ({"technician_id": 999999}, "does not exist"),
        ({"position": "2"}, "whole number"),
    ],
)
def test_bad_moves_are_refused_with_a_clear_message(
    dispatcher, tom, make_call, morning, change, message
):
    call = make_call()
    args = {"technician_id": tom.pk, "position": 0} | change
    with pytest.raises(InvalidInput, match=message):
        call_move(
            user=dispatcher, call_id=call.pk, expected_version=call.version, now=morning, **args
        )


def test_cancelled_and_completed_calls_cannot_be_moved(dispatcher, tom, make_call, morning):
    for status in ("cancelled", "completed"):
        call = make_call(status=status)
        with pytest.raises(InvalidInput, match=status):
            call_move(
                user=dispatcher,
                call_id=call.pk,
                technician_id=tom.pk,
                position=0,
                expected_version=call.version,
                now=morning,
            )


def test_preview_shows_the_ripple_and_writes_nothing(dispatcher, tom, make_call, morning):
    a = make_call(tom, deadline=local(9, 30))
    b = make_call(tom, deadline=local(11))
    c = make_call(duration_minutes=120)
    etas_refresh_technicians(technician_ids=[tom.pk], day=DAY, now=morning)
    before = list(ServiceCall.objects.order_by("id").values())
    plan = call_move_preview(
        user=dispatcher,
        call_id=c.pk,
        technician_id=tom.pk,
        position=0,
        expected_version=c.version,
        now=morning,
    )
    assert list(ServiceCall.objects.order_by("id").values()) == before
    assert CallEvent.objects.count() == 0
    rippled = {e.call_id: e for e in plan.ripple}
    assert rippled[c.pk].moved
    assert rippled[a.pk].shift_minutes >= 119 and rippled[a.pk].risk_after == "late"
    assert rippled[b.pk].shift_minutes >= 119
    assert plan.needs_confirmation


def test_harmful_move_needing_confirmation_is_not_applied(dispatcher, tom, make_call, morning):
    make_call(tom, deadline=local(9, 30))
    c = make_call(duration_minutes=120)
    result = move(dispatcher, c, tom, 0, morning, require_confirmation=True)
    assert not result.applied
    c.refresh_from_db()
    assert c.technician is None and c.events.count() == 0


def test_shifting_a_promised_eta_counts_a_reschedule(dispatcher, tom, make_call, morning):
    a = make_call(tom)
    etas_refresh_technicians(technician_ids=[tom.pk], day=DAY, now=morning)
    a.refresh_from_db()
    ServiceCall.objects.filter(pk=a.pk).update(promised_eta=a.eta)
    big = make_call(duration_minutes=90)
    move(dispatcher, big, tom, 0, morning)
    a.refresh_from_db()
    assert a.reschedule_count == 1
    assert a.events.filter(kind="eta_changed", payload__rescheduled=True).exists()


def test_taking_a_call_from_a_technician_on_the_way_needs_a_reason(
    dispatcher, csr, tom, tina, make_call, morning
):
    call = make_call(tom, status="en_route")
    with pytest.raises(InvalidInput, match="reason"):
        move(dispatcher, call, tina, 0, morning)
    with pytest.raises(NotAllowed):
        move(csr, call, tina, 0, morning, reason="customer asked")
    move(dispatcher, call, tina, 0, morning, reason="Tom's van broke down")
    call.refresh_from_db()
    assert (call.technician, call.status) == (tina, "assigned")
    assert set(call.events.values_list("kind", flat=True)) == {"moved", "tech_notified"}


def test_nothing_can_be_queued_ahead_of_a_job_on_site(dispatcher, tom, make_call, morning):
    working = make_call(tom, status="on_site", started_at=local(7))
    other = make_call()
    move(dispatcher, other, tom, 0, morning)
    assert queue(tom) == [working.pk, other.pk]


def test_fleet_recompute_writes_only_changed_rows(dispatcher, tom, tina, make_call, morning):
    for tech in (tom, tina):
        for _ in range(3):
            make_call(tech, deadline=local(16))
    make_call(deadline=local(8))
    assert etas_refresh_day(day=DAY, now=morning) == 7
    assert etas_refresh_day(day=DAY, now=morning) == 0
    # Later in the day, time passing shrinks every slack.
    later = local(9)
    assert etas_refresh_day(day=DAY, now=later) == 7
    assert ServiceCall.objects.get(status="new").risk == "late"


def test_fleet_recompute_query_count_does_not_grow_with_the_fleet(north, make_call, morning):
    from tests.conftest import make_technician

    def run_with(n_techs: int) -> int:
        techs = [make_technician(f"t{n_techs}_{i}", north) for i in range(n_techs)]
        for tech in techs:
            make_call(tech)
        with CaptureQueriesContext(connection) as ctx:
            etas_refresh_day(day=DAY, now=morning + timedelta(minutes=n_techs))
        return len(ctx)

    learned_durations()  # cached after the first read (refitted nightly): warm for both sizes
    assert run_with(3) == run_with(30)


def test_recompute_command_refreshes_a_day_and_refuses_a_bad_day(tom, make_call):
    from io import StringIO

    from django.core.management import CommandError, call_command

    call = make_call(tom)
    out = StringIO()
    call_command("recompute_etas", "--day", DAY.isoformat(), stdout=out)
    assert "1 calls changed" in out.getvalue()
    call.refresh_from_db()
    assert call.eta is not None
    with pytest.raises(CommandError, match="2026-03-10"):
        call_command("recompute_etas", "--day", "10/03/2026")


def test_a_technician_hands_off_only_to_a_teammate(tom, tina, otto, make_call, morning):
    mine = make_call(tom)
    with pytest.raises(NotAllowed, match="teammate"):
        move(tom.user, mine, otto, 0, morning)
    move(tom.user, mine, tina, 0, morning)
    mine.refresh_from_db()
    assert mine.technician == tina


def test_a_call_under_way_is_not_reordered_and_nothing_jumps_ahead_of_it(
    dispatcher, csr, tom, make_call, morning
):
    on_the_way = make_call(tom, status="en_route")
    other = make_call(tom)
    with pytest.raises(InvalidInput, match="stays first"):
        move(dispatcher, on_the_way, tom, 1, morning)
    newcomer = make_call()
    move(csr, newcomer, tom, 0, morning)
    assert queue(tom) == [on_the_way.pk, newcomer.pk, other.pk]


def test_taking_work_from_the_board_asks_for_the_reason_in_the_confirm_step(
    dispatcher, tom, tina, make_call, morning
):
    call = make_call(tom, status="on_site", started_at=local(7))
    result = move(dispatcher, call, tina, 0, morning, require_confirmation=True)
    assert not result.applied and result.plan.takes_from_working_tech
    with pytest.raises(InvalidInput, match="reason"):
        move(dispatcher, call, tina, 0, morning)
    assert move(dispatcher, call, tina, 0, morning, reason="Tom is needed elsewhere").applied


def test_sending_a_promised_call_back_to_unassigned_counts_as_a_broken_promise(
    dispatcher, tom, make_call, morning
):
    call = make_call(tom)
    etas_refresh_technicians(technician_ids=[tom.pk], day=DAY, now=morning)
    call.refresh_from_db()
    ServiceCall.objects.filter(pk=call.pk).update(promised_eta=call.eta)
    result = move(dispatcher, call, None, None, morning, require_confirmation=True)
    assert not result.applied and result.plan.ripple[0].promise_broken
    move(dispatcher, call, None, None, morning)
    call.refresh_from_db()
    assert call.reschedule_count == 1


def test_ripple_shown_to_a_technician_keeps_teammates_calls_anonymous(
    tom, tina, make_call, morning
):
    mine = make_call(tom)
    make_call(tina, summary="Tina's private job")
    plan = call_move_preview(
        user=tom.user,
        call_id=mine.pk,
        technician_id=tina.pk,
        position=0,
        expected_version=mine.version,
        now=morning,
    )
    summaries = {e.summary for e in plan.ripple_for(tom.user)}
    assert "Tina's private job" not in summaries and "A teammate's call" in summaries


def test_a_csr_cannot_cancel_a_call_a_technician_is_already_on(csr, dispatcher, tom, make_call):
    from dispatch.services.calls import call_cancel

    call = make_call(tom, status="en_route")
    with pytest.raises(NotAllowed):
        call_cancel(user=csr, call=call, reason="customer called off")
    call_cancel(user=dispatcher, call=call, reason="customer called off")
    assert set(call.events.values_list("kind", flat=True)) == {"cancelled", "tech_notified"}
    assert queue(tom) == []


def test_times_far_from_the_scheduled_day_are_refused(csr, customer, site):
    from dispatch.services.calls import call_book

    with pytest.raises(InvalidInput, match="not on or near"):
        call_book(
            user=csr,
            customer=customer,
            site=site,
            summary="x",
            scheduled_day=DAY,
            duration_minutes=30,
            window_start=local(9, day=DAY.replace(year=9999)),
        )


class _PgError(Exception):
    def __init__(self, pgcode: str) -> None:
        super().__init__(pgcode)
        self.pgcode = pgcode


def _db_error(pgcode: str):
    from django.db import OperationalError

    error = OperationalError(f"simulated {pgcode}")
    error.__cause__ = _PgError(pgcode)
    return error


def test_deadlocks_are_retried_then_answered_as_busy_without_half_a_move(
    api, dispatcher, tom, make_call, monkeypatch
):
    from dispatch.services import moves

    call = make_call()
    attempts = []

    def deadlocked(*args, **kwargs):
        attempts.append(1)
        raise _db_error("40P01")

    monkeypatch.setattr(moves, "_plan", deadlocked)
    monkeypatch.setattr(moves.time, "sleep", lambda seconds: None)
    response = api.as_user(dispatcher).post(
        f"/api/v1/calls/{call.pk}/move/",
        {"technician": tom.pk, "position": 0, "expected_version": call.version},
        format="json",
    )
    assert response.status_code == 503 and "try again" in response.json()["detail"]
    assert len(attempts) == moves.MAX_ATTEMPTS
    call.refresh_from_db()
    assert call.technician is None and call.events.count() == 0


def test_a_serialization_failure_that_clears_is_retried_transparently(
    dispatcher, tom, make_call, morning, monkeypatch
):
    from dispatch.services import moves

    call = make_call()
    real_plan, failures = moves._plan, [_db_error("40001")]

    def flaky(*args, **kwargs):
        if failures:
            raise failures.pop()
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(moves, "_plan", flaky)
    monkeypatch.setattr(moves.time, "sleep", lambda seconds: None)
    assert move(dispatcher, call, tom, 0, morning).applied
    assert call.events.count() == 1


def test_a_move_costs_the_same_queries_whatever_the_queue_length(
    dispatcher, north, make_call, morning
):
    from common.roles import roles_of
    from tests.conftest import make_technician

    roles_of(dispatcher)  # roles are read once per request; keep that out of the comparison

    def queries_for(queue_length: int) -> int:
        source, target = (make_technician(f"m{queue_length}_{i}", north) for i in range(2))
        for tech in (source, target):
            for _ in range(queue_length):
                make_call(tech)
        call = ServiceCall.objects.filter(technician=source).order_by("position").first()
        with CaptureQueriesContext(connection) as ctx:
            move(dispatcher, call, target, 1, morning)
        assert positions(source) == list(range(queue_length - 1))
        assert positions(target) == list(range(queue_length + 1))
        return len(ctx)

    learned_durations()  # cached after the first read (refitted nightly): warm for both sizes
    small, large = queries_for(3), queries_for(30)
    assert small == large <= 18
