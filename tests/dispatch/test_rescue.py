"""Rescue for a call at risk or late, and emergency insertion: hand-built days, known answers."""

from __future__ import annotations

from datetime import time

import pytest

from customers.models import Site
from dispatch.models import CallEvent, ServiceCall
from dispatch.selectors.candidates import call_send_now
from dispatch.selectors.rescue import call_rescue
from dispatch.services.etas import etas_refresh_day
from dispatch.services.swaps import calls_swap
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db

NOW = local(7, 30)


@pytest.fixture(autouse=True)
def _morning(clock_at):
    clock_at(NOW)


@pytest.fixture
def far_site(customer):
    # About 21 km north of the usual site: some 40 minutes' drive at the travel model's speed.
    return Site.objects.create(customer=customer, address="9 Far Rd", lat=42.04, lng=-87.76)


@pytest.fixture
def fay(north, skills):
    """A plumber who lives up north and works a short day (08:00-10:30)."""
    tech = make_technician("fay", north, skills=[skills["plumbing"]], home=(42.05, -87.75))
    tech.shift_end = time(10, 30)
    tech.save()
    return tech


def test_rescue_finds_the_swap_when_no_single_move_saves_the_call(
    dispatcher, tom, tina, fay, skills, make_call, far_site
):
    # Tom (in the south) holds a tight call up north; Fay (up north) holds a loose one down south
    # and has no room for a second call before her shift ends. Trading them saves the tight one.
    tight = make_call(tom, deadline=local(8, 35), site=far_site, skills=[skills["plumbing"]])
    loose = make_call(fay, deadline=local(14), summary="loose")
    etas_refresh_day(day=DAY, now=NOW)
    tight.refresh_from_db()
    assert tight.risk == "late"

    rescue = call_rescue(user=dispatcher, call_id=tight.pk, now=NOW)

    assert rescue.needed and rescue.clean
    best = rescue.options[0]
    assert best.kind == "swap" and best.swap_with == loose.pk
    assert best.technician == fay and best.on_time and not best.hurts
    assert [(m.call_id, m.technician_id, m.position) for m in best.moves] == [
        (tight.pk, fay.pk, 0),
        (loose.pk, tom.pk, 0),
    ]
    reasons = {e.technician.name: e.reason for e in rescue.excluded}
    assert reasons["Fay"] == f"would push call #{loose.pk} into overtime"
    assert reasons["Tina"] == "missing skill: plumbing"


def test_applying_the_swap_moves_both_calls_and_logs_both(
    dispatcher, tom, fay, skills, make_call, far_site
):
    tight = make_call(tom, deadline=local(8, 35), site=far_site, skills=[skills["plumbing"]])
    loose = make_call(fay, deadline=local(14))
    etas_refresh_day(day=DAY, now=NOW)
    tight.refresh_from_db()
    loose.refresh_from_db()
    calls_swap(
        user=dispatcher,
        call_id=tight.pk,
        other_id=loose.pk,
        expected_version=tight.version,
        other_expected_version=loose.version,
        now=NOW,
    )
    tight.refresh_from_db()
    loose.refresh_from_db()
    assert (tight.technician, tight.position, tight.risk) == (fay, 0, "ok")
    assert (loose.technician, loose.position, loose.risk) == (tom, 0, "ok")
    assert CallEvent.objects.filter(call=tight, kind="moved").count() == 1
    assert CallEvent.objects.filter(call=loose, kind="moved").count() == 1


def test_a_stale_swap_changes_nothing(dispatcher, tom, fay, make_call, far_site):
    from common.errors import MoveConflict

    tight = make_call(tom, deadline=local(8, 35), site=far_site)
    loose = make_call(fay, deadline=local(14))
    with pytest.raises(MoveConflict):
        calls_swap(
            user=dispatcher,
            call_id=tight.pk,
            other_id=loose.pk,
            expected_version=tight.version,
            other_expected_version=loose.version + 1,
            now=NOW,
        )
    assert ServiceCall.objects.get(pk=tight.pk).technician == tom  # the first move rolled back


def test_moving_earlier_in_its_own_queue_is_the_smallest_rescue(dispatcher, tom, make_call):
    make_call(tom, deadline=local(16), summary="loose")
    late = make_call(tom, deadline=local(9), summary="tight")
    etas_refresh_day(day=DAY, now=NOW)
    rescue = call_rescue(user=dispatcher, call_id=late.pk, now=NOW)
    best = rescue.options[0]
    assert rescue.clean and best.kind == "earlier"
    assert [(m.technician_id, m.position) for m in best.moves] == [(tom.pk, 0)]
    assert "up to place 1" in rescue.verdict


def test_no_rescue_without_breaking_another_promise_lists_the_least_bad(
    dispatcher, tom, tina, make_call, skills
):
    first = make_call(tom, deadline=local(9), skills=[skills["plumbing"]], summary="first")
    late = make_call(tom, deadline=local(9), skills=[skills["plumbing"]], summary="second")
    etas_refresh_day(day=DAY, now=NOW)
    rescue = call_rescue(user=dispatcher, call_id=late.pk, now=NOW)
    assert not rescue.clean
    assert rescue.verdict.startswith("No rescue without breaking another promise")
    best = rescue.options[0]
    assert best.kind == "earlier" and best.on_time and first.pk in best.turned_worse
    assert best.added_lateness_minutes > 0


def test_a_call_on_time_needs_no_rescue(dispatcher, tom, make_call):
    call = make_call(tom, deadline=local(16))
    etas_refresh_day(day=DAY, now=NOW)
    rescue = call_rescue(user=dispatcher, call_id=call.pk, now=NOW)
    assert not rescue.needed and rescue.options == []
    assert "needs no rescue" in rescue.verdict


def test_send_now_puts_the_emergency_after_the_current_job_of_the_nearest(
    dispatcher, tom, fay, skills, make_call, far_site
):
    # Tom is on site next door until 09:00; Fay is free but some 40 minutes away.
    make_call(tom, status="on_site", started_at=local(8, 15), duration_minutes=45)
    waiting = make_call(tom, deadline=local(16), summary="waiting")
    emergency = make_call(priority="emergency", skills=[skills["plumbing"]], summary="gas smell")
    now = local(8, 45)
    etas_refresh_day(day=DAY, now=now)
    options, excluded = call_send_now(user=dispatcher, call_id=emergency.pk, now=now)
    assert [o.technician.name for o in options] == ["Tom", "Fay"]
    tom_option = options[0]
    assert tom_option.position == 1  # after the job under way, before the waiting call
    assert tom_option.arrival < options[1].arrival
    assert waiting.pk not in tom_option.turned_worse  # waiting has hours of slack


def test_rescue_and_send_now_api(api, dispatcher, tom, fay, tina, skills, make_call, far_site):
    tight = make_call(tom, deadline=local(8, 35), site=far_site, skills=[skills["plumbing"]])
    make_call(fay, deadline=local(14))
    etas_refresh_day(day=DAY, now=NOW)
    client = api.as_user(dispatcher)
    body = client.get(f"/api/v1/calls/{tight.pk}/rescue/").json()
    assert body["needed"] is True and body["clean"] is True
    assert body["options"][0]["kind"] == "swap"
    assert body["options"][0]["moves"][0] == {
        "call": tight.pk,
        "technician": fay.pk,
        "position": 0,
        "expected_version": tight.version,
    }
    assert body["verdict"].startswith("Rescue: swap")
    sent = client.get(f"/api/v1/calls/{tight.pk}/send-now/").json()
    assert [o["technician_name"] for o in sent["candidates"]] == ["Fay"]
    assert api.as_user(tina.user).get(f"/api/v1/calls/{tight.pk}/rescue/").status_code == 404
    assert client.get("/api/v1/calls/999999/rescue/").status_code == 404
    unassigned = make_call(deadline=local(8, 10))
    refused = api.as_user(tina.user).get(f"/api/v1/calls/{unassigned.pk}/rescue/")
    assert refused.status_code == 403 and "for the office" in refused.json()["detail"]


def test_swap_api_applies_both_moves_and_refuses_a_stale_version(
    api, dispatcher, tom, fay, make_call, far_site
):
    tight = make_call(tom, deadline=local(8, 35), site=far_site)
    loose = make_call(fay, deadline=local(14))
    client = api.as_user(dispatcher)
    url = f"/api/v1/calls/{tight.pk}/swap/"
    body = {"other": loose.pk, "expected_version": tight.version, "other_expected_version": 99}
    stale = client.post(url, body, format="json")
    assert stale.status_code == 409 and stale.json()["call"]["technician"] == tom.pk
    body["other_expected_version"] = loose.version
    done = client.post(url, body, format="json")
    assert done.status_code == 200
    assert done.json()["call"]["technician"] == fay.pk
    assert done.json()["other"]["technician"] == tom.pk
    assert client.post(url, {"other": "x"}, format="json").status_code == 400


def test_swapping_within_one_queue_or_a_call_under_way_is_refused_in_words(
    api, dispatcher, tom, fay, make_call, far_site
):
    first, second = make_call(tom), make_call(tom)
    working = make_call(fay, status="en_route")
    client = api.as_user(dispatcher)

    def swap(a, b):
        body = {"other": b.pk, "expected_version": a.version, "other_expected_version": b.version}
        return client.post(f"/api/v1/calls/{a.pk}/swap/", body, format="json")

    same = swap(first, second)
    assert same.status_code == 400 and "same queue" in same.json()["detail"]
    under_way = swap(first, working)
    assert under_way.status_code == 400 and "only waiting calls" in under_way.json()["detail"]
    assert ServiceCall.objects.get(pk=first.pk).version == first.version
