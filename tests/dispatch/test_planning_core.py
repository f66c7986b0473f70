"""The planning core as the product uses it: one ripple, one eligibility rule, every team."""

from __future__ import annotations

from datetime import time

import pytest
from django.contrib.auth.models import User

from dispatch.demo import demo_build
from dispatch.models import ServiceCall
from dispatch.planning import choice
from dispatch.selectors.candidates import call_candidates, every_technician, needs_of
from dispatch.selectors.planning import stop_of_call, world_load
from dispatch.services.moves import call_move, call_move_preview
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db
CALLS = "/api/v1/calls/"


def preview(api, user, call, tech_id, position):
    call.refresh_from_db()
    body = {"technician": tech_id, "position": position, "expected_version": call.version}
    response = api.as_user(user).post(f"{CALLS}{call.pk}/move/preview/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


# --- every team -------------------------------------------------------------------------------


def test_a_call_nobody_in_its_team_can_take_goes_to_the_able_technician_of_another_team(
    api, dispatcher, tom, tina, otto, skills, make_call, clock_at
):
    clock_at(local(9))
    call = make_call(skills=[skills["plumbing"], skills["electrical"]], deadline=local(16))
    body = api.as_user(dispatcher).get(f"{CALLS}{call.pk}/candidates/").json()
    assert [(c["technician_name"], c["other_team"]) for c in body["candidates"]] == [("Otto", True)]
    reasons = {e["technician_name"]: e["reason"] for e in body["excluded"]}
    assert reasons == {
        "Tom": "missing skill: electrical",
        "Tina": "missing skill: plumbing",
    }


def test_own_team_ranks_before_an_equally_placed_technician_of_another_team(
    dispatcher, tom, otto, skills, make_call, clock_at
):
    twin = make_technician("ann", otto.team, skills=[skills["plumbing"]], home=(41.88, -87.63))
    call = make_call(skills=[skills["plumbing"]], deadline=local(16))
    found, _ = call_candidates(user=dispatcher, call_id=call.pk, now=local(8))
    names = [c.technician.name for c in found]
    # Tom and Ann start from the same home: the same place, the same cost; Tom is north's.
    assert names.index("Tom") < names.index("Ann") and twin.team_id != tom.team_id
    assert [c.other_team for c in found if c.technician.name in ("Tom", "Ann")] == [False, True]


# --- the same numbers everywhere --------------------------------------------------------------


def test_every_candidate_on_the_demo_board_shows_the_ripple_the_move_preview_reports(api, clock_at):
    now = local(10, 30)
    demo_build(seed=1, day=DAY, now=now)
    clock_at(now)
    dispatcher = User.objects.get(username="dispatcher")
    open_calls = ServiceCall.objects.filter(
        scheduled_day=DAY, status__in=("new", "assigned")
    ).order_by("id")
    compared = shifted_seen = 0
    for call in open_calls[:20]:
        body = api.as_user(dispatcher).get(f"{CALLS}{call.pk}/candidates/").json()
        for candidate in body["candidates"][:3]:
            got = preview(api, dispatcher, call, candidate["technician"], candidate["position"])
            assert (got["shifted_calls"], got["max_shift_minutes"]) == (
                candidate["shifted_calls"],
                candidate["max_shift_minutes"],
            ), (call.pk, candidate)
            compared += 1
            shifted_seen += candidate["shifted_calls"]
    assert compared >= 20  # the demo board really was asked
    assert shifted_seen > 0  # and some choices do push other customers later


def test_the_product_ranks_exactly_what_the_planning_core_ranks():
    now = local(10, 30)
    demo_build(seed=2, day=DAY, now=now)
    dispatcher = User.objects.get(username="dispatcher")
    for call in ServiceCall.objects.filter(scheduled_day=DAY, status="new").order_by("id")[:6]:
        found, excluded = call_candidates(user=dispatcher, call_id=call.pk, now=now)
        plan = world_load(techs=every_technician(None), day=DAY, now=now)
        core, core_excluded = choice.candidates(
            plan.world,
            stop_of_call(call),
            needs_of(call),
            emergency=call.priority == "emergency",
            home_team=None,
        )
        assert [(c.technician.pk, c.position) for c in found] == [
            (c.technician_id, c.position) for c in core
        ]
        assert sorted(e.technician.pk for e in excluded) == sorted(t for t, _ in core_excluded)


# --- eligibility on a move --------------------------------------------------------------------


def test_a_dispatchers_missing_skill_drop_is_warned_and_waits_for_confirmation(
    api, dispatcher, tom, tina, skills, make_call, clock_at
):
    clock_at(local(9))
    call = make_call(skills=[skills["plumbing"]], deadline=local(16))
    got = preview(api, dispatcher, call, tina.pk, 0)
    assert got["warnings"] == ["Tina: missing skill: plumbing"]
    assert got["needs_confirmation"] is True
    result = call_move(
        user=dispatcher,
        call_id=call.pk,
        technician_id=tina.pk,
        position=0,
        expected_version=call.version,
        require_confirmation=True,
        now=local(9),
    )
    assert not result.applied
    call.refresh_from_db()
    assert call.technician_id is None
    # Confirmed, the override goes through.
    call_move(
        user=dispatcher,
        call_id=call.pk,
        technician_id=tina.pk,
        position=0,
        expected_version=call.version,
        now=local(9),
    )
    call.refresh_from_db()
    assert call.technician_id == tina.pk


def test_a_technician_or_csr_cannot_move_a_call_to_someone_without_the_skill(
    api, csr, tom, tina, skills, make_call, clock_at
):
    clock_at(local(9))
    call = make_call(skills=[skills["plumbing"]], deadline=local(16))
    body = {"technician": tina.pk, "position": 0, "expected_version": call.version}
    claim = api.as_user(tina.user).post(f"{CALLS}{call.pk}/move/", body, format="json")
    assert claim.status_code == 403
    assert "missing skill: plumbing" in claim.json()["detail"]
    booked = api.as_user(csr).post(f"{CALLS}{call.pk}/move/", body, format="json")
    assert booked.status_code == 403 and "missing skill: plumbing" in booked.json()["detail"]
    call.refresh_from_db()
    assert call.technician_id is None
    ok = api.as_user(csr).post(
        f"{CALLS}{call.pk}/move/", body | {"technician": tom.pk}, format="json"
    )
    assert ok.status_code == 200


def test_a_drop_after_the_shift_end_names_the_hours(dispatcher, tom, skills, make_call):
    tom.shift_end = time(10, 0)
    tom.save()
    make_call(tom, duration_minutes=150, deadline=local(18))
    call = make_call(deadline=local(18))
    plan = call_move_preview(
        user=dispatcher,
        call_id=call.pk,
        technician_id=tom.pk,
        position=1,
        expected_version=call.version,
        now=local(9),
    )
    assert plan.warnings == ["Tom: shift ends 10:00"] and plan.needs_confirmation


# --- promised ETAs ----------------------------------------------------------------------------


def test_a_drop_that_moves_a_promised_eta_half_an_hour_asks_first(
    dispatcher, tom, make_call, settings
):
    settings.PROMISE_TOLERANCE_MINUTES = 45  # the promise itself holds: only the shift asks
    promised = make_call(tom, duration_minutes=30, deadline=local(17))
    from dispatch.services.etas import etas_refresh_day

    etas_refresh_day(day=DAY, now=local(8))
    promised.refresh_from_db()
    promised.promised_eta = promised.eta
    promised.save()
    call = make_call(duration_minutes=30, deadline=local(17))
    # Put a 30-minute job (same site, so no travel) ahead of the promised call.
    plan = call_move_preview(
        user=dispatcher,
        call_id=call.pk,
        technician_id=tom.pk,
        position=0,
        expected_version=call.version,
        now=local(8),
    )
    entry = next(e for e in plan.ripple if e.call_id == promised.pk)
    assert entry.risk_before == entry.risk_after == "ok" and not entry.promise_broken
    assert entry.shift_minutes == pytest.approx(30, abs=1)
    assert plan.promised_shifted == [promised.pk] and plan.needs_confirmation
    assert plan.summary.shifted == (promised.pk,)
    assert plan.summary.words() == "1 customer later by up to 30 min"
    # The same drop of a call nobody was promised a time for commits at once.
    promised.promised_eta = None
    promised.save()
    settings.PROMISE_TOLERANCE_MINUTES = 15
    again = call_move_preview(
        user=dispatcher,
        call_id=call.pk,
        technician_id=tom.pk,
        position=0,
        expected_version=call.version,
        now=local(8),
    )
    assert again.promised_shifted == [] and not again.needs_confirmation
    assert again.summary.max_shift_minutes == pytest.approx(30, abs=1)


def test_a_technician_asking_for_candidates_sees_only_their_own_team(
    api, tom, tina, otto, skills, make_call, clock_at
):
    clock_at(local(9))
    call = make_call(skills=[skills["electrical"]], deadline=local(16))
    body = api.as_user(tina.user).get(f"{CALLS}{call.pk}/candidates/").json()
    names = {c["technician_name"] for c in body["candidates"]} | {
        e["technician_name"] for e in body["excluded"]
    }
    assert names == {"Tom", "Tina"}  # Otto, of team South, is the office's to see


def test_a_drop_that_runs_into_overtime_asks_first_unless_it_is_an_emergency(
    dispatcher, tom, make_call
):
    tom.shift_end = time(10, 0)
    tom.save()

    def preview_of(call):
        return call_move_preview(
            user=dispatcher,
            call_id=call.pk,
            technician_id=tom.pk,
            position=0,
            expected_version=call.version,
            now=local(8),
        )

    long = make_call(duration_minutes=150, deadline=local(18))  # arrives 08:00, ends 10:30
    plan = preview_of(long)
    assert plan.warnings == [] and plan.after[long.pk].overtime
    assert plan.needs_confirmation
    gas = make_call(duration_minutes=150, deadline=local(18), priority="emergency")
    assert not preview_of(gas).needs_confirmation  # overtime is the price of going
