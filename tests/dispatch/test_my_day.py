"""The technician's own day: call status, claims and hand-offs, through the services and the API.

Every test runs on DAY with the services' clock fixed; nothing sleeps for time to pass.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from common.errors import InvalidInput, MoveConflict, NotAllowed, NotFound
from dispatch.models import CallEvent, ServiceCall
from dispatch.services.call_status import call_status_update
from dispatch.services.claims import call_claim
from dispatch.services.etas import etas_refresh_day
from dispatch.services.handoffs import (
    handoff_accept,
    handoff_decline,
    handoff_offer,
    handoff_offers_expire,
)
from technicians.models import HandoffOffer, Technician
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db

NINE = local(9)


def fresh(call: ServiceCall) -> ServiceCall:
    return ServiceCall.objects.get(pk=call.pk)


def queue(tech) -> list[int]:
    return list(
        ServiceCall.objects.filter(
            technician=tech, scheduled_day=DAY, status__in=ServiceCall.QUEUED_STATUSES
        )
        .order_by("position")
        .values_list("id", flat=True)
    )


def kinds(call) -> list[str]:
    return list(CallEvent.objects.filter(call=call).order_by("id").values_list("kind", flat=True))


@pytest.fixture
def day_of_tom(tom, make_call, clock_at):
    clock_at(NINE)
    first = make_call(tom, summary="Boiler", duration_minutes=60)
    second = make_call(tom, summary="Radiator", duration_minutes=45)
    etas_refresh_day(day=DAY, now=NINE)
    return fresh(first), fresh(second)


# --- status -------------------------------------------------------------------------------------


def test_on_my_way_arrived_done_moves_the_call_and_the_technician_along(day_of_tom, tom):
    first, second = day_of_tom
    eta_before = fresh(second).eta
    user = tom.user

    call = call_status_update(
        user=user,
        call_id=first.pk,
        status="en_route",
        expected_version=first.version,
        lat=41.95,
        lng=-87.70,
        now=NINE,
    )
    tom.refresh_from_db()
    assert (call.status, tom.status) == ("en_route", "en_route")
    assert (tom.last_lat, tom.last_lng, tom.last_seen_at) == (41.95, -87.70, NINE)
    assert call.en_route_at == NINE
    # Setting out from farther away than home: the queue's ETAs were recomputed at once.
    assert fresh(first).eta_computed_at == NINE
    assert fresh(second).eta != eta_before

    arrived_at = NINE + timedelta(minutes=20)
    call = call_status_update(
        user=user, call_id=first.pk, status="on_site", expected_version=call.version, now=arrived_at
    )
    tom.refresh_from_db()
    assert (call.status, call.started_at, tom.status) == ("on_site", arrived_at, "on_site")

    done_at = arrived_at + timedelta(minutes=50)
    call = call_status_update(
        user=user, call_id=first.pk, status="completed", expected_version=call.version, now=done_at
    )
    tom.refresh_from_db()
    assert (call.status, call.completed_at, call.actual_minutes) == ("completed", done_at, 50)
    assert call.position is None and tom.status == "available"
    assert queue(tom) == [second.pk] and fresh(second).position == 0
    events = CallEvent.objects.filter(call=first, kind="status").order_by("id")
    assert [e.payload["action"] for e in events] == ["en_route", "on_site", "completed"]
    assert events.last().payload["actual_minutes"] == 50
    assert events.first().payload["location"] == [41.95, -87.70]


def test_done_records_the_actual_duration_the_technician_gives(day_of_tom, tom):
    first, _ = day_of_tom
    call = call_status_update(
        user=tom.user, call_id=first.pk, status="on_site", expected_version=first.version, now=NINE
    )
    call = call_status_update(
        user=tom.user,
        call_id=first.pk,
        status="completed",
        expected_version=call.version,
        actual_minutes=75,
        now=NINE + timedelta(minutes=5),
    )
    assert call.actual_minutes == 75


def test_on_my_way_to_a_later_call_puts_it_first_through_the_move_service(day_of_tom, tom):
    first, second = day_of_tom
    call_status_update(
        user=tom.user, call_id=second.pk, status="en_route", expected_version=second.version
    )
    assert queue(tom) == [second.pk, first.pk]
    assert "reordered" in kinds(second) and fresh(second).status == "en_route"


def test_on_my_way_while_still_on_another_call_is_refused(day_of_tom, tom):
    first, second = day_of_tom
    call_status_update(
        user=tom.user, call_id=first.pk, status="on_site", expected_version=first.version
    )
    with pytest.raises(InvalidInput, match=f"still on site for call #{first.pk}"):
        call_status_update(
            user=tom.user, call_id=second.pk, status="en_route", expected_version=second.version
        )


def test_done_before_arrived_is_refused_with_what_to_do(day_of_tom, tom):
    first, _ = day_of_tom
    with pytest.raises(InvalidInput, match="Arrived"):
        call_status_update(
            user=tom.user, call_id=first.pk, status="completed", expected_version=first.version
        )
    assert fresh(first).status == "assigned"


def test_cant_complete_gives_the_call_back_with_the_reason(day_of_tom, tom):
    first, second = day_of_tom
    call = call_status_update(
        user=tom.user, call_id=first.pk, status="on_site", expected_version=first.version
    )
    call = call_status_update(
        user=tom.user,
        call_id=first.pk,
        status="cant_complete",
        expected_version=call.version,
        reason="Needs a part we don't carry",
    )
    tom.refresh_from_db()
    assert (call.status, call.technician_id, call.position) == ("new", None, None)
    assert tom.status == "available" and queue(tom) == [second.pk]
    status_event = CallEvent.objects.filter(call=first, kind="status").last()
    assert status_event.payload["reason"] == "Needs a part we don't carry"
    assert status_event.payload["after"]["status"] == "new"


def test_cant_complete_without_a_reason_is_refused(day_of_tom, tom):
    first, _ = day_of_tom
    with pytest.raises(InvalidInput, match="Say why"):
        call_status_update(
            user=tom.user, call_id=first.pk, status="cant_complete", expected_version=first.version
        )


def test_status_with_a_stale_version_is_a_conflict(day_of_tom, tom):
    first, _ = day_of_tom
    with pytest.raises(MoveConflict):
        call_status_update(
            user=tom.user, call_id=first.pk, status="en_route", expected_version=first.version - 1
        )
    assert fresh(first).status == "assigned"


def test_a_technician_cannot_report_on_a_teammates_call(day_of_tom, tina):
    first, _ = day_of_tom
    with pytest.raises(NotFound):
        call_status_update(
            user=tina.user, call_id=first.pk, status="en_route", expected_version=first.version
        )


def test_a_dispatcher_may_report_for_the_technician(day_of_tom, dispatcher):
    first, _ = day_of_tom
    call = call_status_update(
        user=dispatcher, call_id=first.pk, status="en_route", expected_version=first.version
    )
    assert call.status == "en_route"


def test_a_csr_cannot_report_status(day_of_tom, csr):
    first, _ = day_of_tom
    with pytest.raises(NotAllowed):
        call_status_update(
            user=csr, call_id=first.pk, status="en_route", expected_version=first.version
        )


# --- claims ------------------------------------------------------------------------------------


def test_a_claim_puts_the_call_in_my_queue_with_an_event(tom, make_call, skills, clock_at):
    clock_at(NINE)
    waiting = make_call(skills=[skills["plumbing"]], summary="Leak", deadline=local(16))
    result = call_claim(user=tom.user, call_id=waiting.pk, expected_version=waiting.version)
    assert result.call.technician_id == tom.pk and queue(tom) == [waiting.pk]
    assert kinds(waiting)[-2:] == ["assigned", "claimed"]


def test_a_claim_without_the_skill_is_refused_with_the_reason(tina, make_call, skills, clock_at):
    clock_at(NINE)
    waiting = make_call(skills=[skills["hvac"]])
    with pytest.raises(NotAllowed, match="hvac"):
        call_claim(user=tina.user, call_id=waiting.pk, expected_version=waiting.version)
    assert fresh(waiting).technician_id is None


def test_a_claim_that_would_make_my_own_call_late_is_refused_with_the_reason(
    tom, make_call, clock_at
):
    clock_at(NINE)
    # Tom's own call is due at 10:30 and fits; a long job claimed ahead of it would sink it.
    mine = make_call(tom, summary="Boiler", deadline=local(10, 30), duration_minutes=30)
    urgent = make_call(summary="Flood", deadline=local(9, 30), duration_minutes=180)
    etas_refresh_day(day=DAY, now=NINE)
    with pytest.raises(NotAllowed, match="late") as refused:
        call_claim(user=tom.user, call_id=urgent.pk, expected_version=urgent.version)
    assert f"call #{mine.pk}" in refused.value.message
    assert fresh(urgent).technician_id is None and queue(tom) == [mine.pk]


def test_a_dispatcher_may_still_assign_a_call_that_makes_others_late(
    tom, dispatcher, make_call, clock_at
):
    from dispatch.services.moves import call_move

    clock_at(NINE)
    boiler = make_call(tom, summary="Boiler", deadline=local(10, 30), duration_minutes=30)
    urgent = make_call(summary="Flood", deadline=local(9, 30), duration_minutes=180)
    etas_refresh_day(day=DAY, now=NINE)
    before = fresh(boiler)
    assert before.risk == "ok" and before.eta < before.deadline  # fine until the move
    result = call_move(
        user=dispatcher,
        call_id=urgent.pk,
        technician_id=tom.pk,
        position=0,
        expected_version=urgent.version,
    )
    assert result.applied and queue(tom) == [urgent.pk, boiler.pk]
    # Where a claim is refused, the dispatcher's move goes through, and the other call pays for
    # it: the three-hour flood comes first, so the boiler is reached after its 10:30 deadline,
    # saved as late, and the ripple says so (this is what the dispatcher was shown to confirm).
    after = fresh(boiler)
    assert after.eta >= NINE + timedelta(minutes=180) > after.deadline
    assert after.risk == "late"
    (entry,) = [e for e in result.plan.ripple if e.call_id == boiler.pk]
    assert (entry.risk_before, entry.risk_after) == ("ok", "late") and entry.worsened
    assert entry.eta_after == after.eta


# --- hand-offs ---------------------------------------------------------------------------------


@pytest.fixture
def offered(day_of_tom, tom, tina):
    first, _ = day_of_tom
    tina.skills.add(*tom.skills.all())
    offer = handoff_offer(
        user=tom.user,
        call_id=first.pk,
        to_technician_id=tina.pk,
        expected_version=first.version,
        note="Running behind",
        now=NINE,
    )
    return offer


def test_an_offer_accepted_moves_the_call_to_the_teammate(offered, tom, tina, settings):
    offer = handoff_accept(user=tina.user, offer_id=offered.pk, now=NINE)
    assert offer.status == "accepted"
    assert queue(tina) == [offered.call_id] and offered.call_id not in queue(tom)
    assert kinds(offered.call)[-3:] == ["handoff_offered", "moved", "handoff_accepted"]
    moved = CallEvent.objects.get(call=offered.call, kind="moved")
    assert moved.payload["after"]["technician"] == tina.pk
    assert offered.expires_at == NINE + timedelta(minutes=settings.HANDOFF_OFFER_MINUTES)


def test_an_offer_declined_leaves_the_call_where_it_was(offered, tom, tina):
    handoff_decline(user=tina.user, offer_id=offered.pk, note="Full day", now=NINE)
    assert offered.call_id in queue(tom)
    assert HandoffOffer.objects.get(pk=offered.pk).status == "declined"


def test_only_the_teammate_offered_to_can_answer(offered, tom, make_technician_in_north):
    other = make_technician_in_north("tess")
    with pytest.raises(NotFound):
        handoff_accept(user=other.user, offer_id=offered.pk, now=NINE)
    with pytest.raises(NotFound):
        handoff_accept(user=tom.user, offer_id=offered.pk, now=NINE)


def test_an_offer_of_a_call_changed_since_is_refused_and_nothing_moves(
    offered, tom, tina, dispatcher
):
    from dispatch.services.moves import call_move

    call = fresh(offered.call)
    call_move(
        user=dispatcher,
        call_id=call.pk,
        technician_id=tom.pk,
        position=1,
        expected_version=call.version,
    )
    with pytest.raises(MoveConflict, match="changed since it was offered"):
        handoff_accept(user=tina.user, offer_id=offered.pk, now=NINE)
    assert queue(tina) == []


def test_an_unanswered_offer_expires_and_the_dispatcher_is_told(
    offered, client, dispatcher, settings, clock_at
):
    later = NINE + timedelta(minutes=settings.HANDOFF_OFFER_MINUTES)
    assert handoff_offers_expire(now=later - timedelta(seconds=1)) == 0
    assert handoff_offers_expire(now=later) == 1
    assert handoff_offers_expire(now=later) == 0  # idempotent
    assert HandoffOffer.objects.get(pk=offered.pk).status == "expired"
    event = CallEvent.objects.get(call=offered.call, kind="handoff_expired")
    assert event.actor is None
    clock_at(later)
    client.force_login(dispatcher)
    page = client.get(f"/board/?day={DAY.isoformat()}").content.decode()
    assert "expired unanswered" in page


def test_an_expired_offer_cannot_be_accepted(offered, tina, settings):
    later = NINE + timedelta(minutes=settings.HANDOFF_OFFER_MINUTES + 1)
    with pytest.raises(MoveConflict, match="expired"):
        handoff_accept(user=tina.user, offer_id=offered.pk, now=later)


def test_one_open_offer_per_call(offered, tom, make_technician_in_north):
    other = make_technician_in_north("tess")
    other.skills.add(*tom.skills.all())
    call = fresh(offered.call)
    with pytest.raises(InvalidInput, match="already offered"):
        handoff_offer(
            user=tom.user,
            call_id=call.pk,
            to_technician_id=other.pk,
            expected_version=call.version,
            now=NINE,
        )


def test_an_offer_to_a_teammate_without_the_skill_is_refused(day_of_tom, tom, tina, skills):
    first, _ = day_of_tom
    first.skills.set([skills["hvac"]])
    with pytest.raises(InvalidInput, match="missing skill: hvac"):
        handoff_offer(
            user=tom.user,
            call_id=first.pk,
            to_technician_id=tina.pk,
            expected_version=first.version,
            now=NINE,
        )


def test_an_offer_to_another_team_is_refused(day_of_tom, tom, otto):
    first, _ = day_of_tom
    with pytest.raises(NotAllowed, match="teammate"):
        handoff_offer(
            user=tom.user,
            call_id=first.pk,
            to_technician_id=otto.pk,
            expected_version=first.version,
            now=NINE,
        )


def test_a_technician_cannot_offer_a_teammates_call(day_of_tom, tina, tom):
    first, _ = day_of_tom
    with pytest.raises(NotFound):
        handoff_offer(
            user=tina.user,
            call_id=first.pk,
            to_technician_id=tom.pk,
            expected_version=first.version,
            now=NINE,
        )


@pytest.fixture
def make_technician_in_north(north):
    from tests.conftest import make_technician

    def make(name: str) -> Technician:
        return make_technician(name, north)

    return make


def test_an_expiry_changes_the_board_fingerprint_so_open_boards_show_it(offered, north, settings):
    from dispatch.selectors import board_version

    before = board_version(day=DAY, team=north)
    handoff_offers_expire(now=NINE + timedelta(minutes=settings.HANDOFF_OFFER_MINUTES))
    assert board_version(day=DAY, team=north) != before


def test_an_offer_of_a_call_moved_since_is_not_shown_to_the_teammate(
    offered, tom, tina, dispatcher
):
    from dispatch.services.moves import call_move
    from technicians.selectors import my_day_get

    assert [o.pk for o in my_day_get(user=tina.user, day=DAY, now=NINE).offers_to_me] == [
        offered.pk
    ]
    call = fresh(offered.call)
    call_move(
        user=dispatcher,
        call_id=call.pk,
        technician_id=tom.pk,
        position=1,
        expected_version=call.version,
    )
    assert my_day_get(user=tina.user, day=DAY, now=NINE).offers_to_me == []


def test_setting_out_for_an_offered_call_withdraws_the_offer(offered, tom):
    call = fresh(offered.call)
    call_status_update(
        user=tom.user, call_id=call.pk, status="en_route", expected_version=call.version, now=NINE
    )
    assert HandoffOffer.objects.get(pk=offered.pk).status == "withdrawn"
    event = CallEvent.objects.filter(call=call, kind="handoff_declined").get()
    assert (
        event.payload["withdrawn"] is True and event.payload["reason"] == "the call went en_route"
    )


# --- a call taken away while the technician is under way (issue 15) ------------------------------


def _set_out(call, tom):
    return call_status_update(
        user=tom.user, call_id=call.pk, status="en_route", expected_version=call.version, now=NINE
    )


@pytest.mark.parametrize("to", ["tina", None])
def test_an_en_route_call_moved_away_makes_the_technician_available(
    day_of_tom, tom, tina, dispatcher, to
):
    from dispatch.services.moves import call_move

    first, _ = day_of_tom
    call = _set_out(first, tom)
    tom.refresh_from_db()
    assert tom.status == "en_route"
    target = tina if to else None
    call_move(
        user=dispatcher,
        call_id=call.pk,
        technician_id=target.pk if target else None,
        position=0 if target else None,
        expected_version=call.version,
        reason="customer asked for someone else",
        now=NINE,
    )
    tom.refresh_from_db()
    tina.refresh_from_db()
    assert tom.status == "available"
    assert tina.status == "available"  # the new technician has not set out: still assigned
    assert fresh(call).status == ("assigned" if target else "new")


def test_an_en_route_call_cancelled_makes_the_technician_available(day_of_tom, tom, dispatcher):
    from dispatch.services.calls import call_cancel

    first, _ = day_of_tom
    call = _set_out(first, tom)
    call_cancel(user=dispatcher, call=call, reason="customer fixed it", now=NINE)
    tom.refresh_from_db()
    assert tom.status == "available"


def test_a_reorder_of_another_call_leaves_an_en_route_technician_en_route(
    day_of_tom, tom, dispatcher, make_call
):
    from dispatch.services.moves import call_move

    first, second = day_of_tom
    _set_out(first, tom)
    third = make_call(tom, summary="Tap")
    call_move(
        user=dispatcher,
        call_id=third.pk,
        technician_id=tom.pk,
        position=1,
        expected_version=third.version,
        now=NINE,
    )
    tom.refresh_from_db()
    assert tom.status == "en_route"
