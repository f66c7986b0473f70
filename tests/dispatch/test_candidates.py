"""Which technician should go: ranked candidates with their ripple, and exclusions in words."""

from __future__ import annotations

from datetime import time

import pytest

from dispatch.selectors.candidates import call_candidates
from dispatch.services.etas import etas_refresh_day
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _morning(clock_at):
    clock_at(local(7, 30))


def by_name(rows):
    return {row.technician.name: row for row in rows}


def test_candidates_rank_by_ripple_then_travel_and_never_break_a_tight_call(
    dispatcher, tom, tina, north, skills, make_call
):
    busy = make_technician("bea", north, skills=[skills["plumbing"]])
    make_call(busy, deadline=local(8, 30), duration_minutes=60)
    call = make_call(deadline=local(12), skills=[skills["plumbing"]])
    etas_refresh_day(day=DAY, now=local(7, 30))
    candidates, excluded = call_candidates(user=dispatcher, call_id=call.pk, now=local(7, 30))
    # Neither hurts anyone; Bea is already at that address, Tom would drive from home.
    assert [c.technician.name for c in candidates] == ["Bea", "Tom"]
    bea, tom_ = by_name(candidates)["Bea"], by_name(candidates)["Tom"]
    assert bea.position == 1  # after her tight call, which must not slip
    assert bea.added_lateness_minutes == 0 and bea.turned_worse == []
    assert bea.travel_added_minutes == 0 < tom_.travel_added_minutes
    assert "Tina" in {e.technician.name for e in excluded}


def test_exclusions_say_why_in_words(dispatcher, tom, tina, north, skills, make_call):
    off = make_technician("olga", north, skills=list(skills.values()))
    off.status = "off"
    off.save()
    early = make_technician("ed", north, skills=list(skills.values()))
    early.shift_start, early.shift_end = time(7, 0), time(8, 0)
    early.save()
    # Tom is on a four-hour job until about 11:30: nothing can go ahead of work under way.
    make_call(tom, duration_minutes=240, status="on_site", started_at=local(7, 30))
    call = make_call(deadline=local(9), duration_minutes=30, skills=[skills["plumbing"]])
    candidates, excluded = call_candidates(user=dispatcher, call_id=call.pk, now=local(7, 30))
    reasons = {e.technician.name: e.reason for e in excluded}
    assert reasons["Tina"] == "missing skill: plumbing"
    assert reasons["Tom"].startswith("would arrive late by")
    assert reasons["Ed"] == "would push this call into overtime"
    # Before her 08:00 shift Olga's "off" is just the night: she starts on time and is offered.
    assert [c.technician.name for c in candidates] == ["Olga"]
    # During her shift "off" means marked off: the same rule says so, in words.
    _, excluded = call_candidates(user=dispatcher, call_id=call.pk, now=local(8, 5))
    reasons = {e.technician.name: e.reason for e in excluded}
    assert reasons["Olga"] == "marked off today"
    assert reasons["Ed"] == "shift ended 08:00"


def test_candidates_api(api, dispatcher, tom, tina, make_call, skills):
    call = make_call(skills=[skills["hvac"]])
    response = api.as_user(dispatcher).get(f"/api/v1/calls/{call.pk}/candidates/")
    assert response.status_code == 200
    body = response.json()
    assert [c["technician_name"] for c in body["candidates"]] == ["Tom"]
    assert body["candidates"][0]["position"] == 0
    assert body["excluded"] == [
        {"technician": tina.pk, "technician_name": "Tina", "reason": "missing skill: hvac"}
    ]
    assert api.as_user(tina.user).get(f"/api/v1/calls/{call.pk}/candidates/").status_code == 200
    other = make_call(tom)
    assert api.as_user(tina.user).get(f"/api/v1/calls/{other.pk}/candidates/").status_code == 404


def test_a_skilled_but_far_technician_beats_an_unskilled_near_one(
    dispatcher, tom, north, skills, make_call
):
    far = make_technician("fay", north, skills=[skills["electrical"]], home=(42.05, -87.75))
    call = make_call(deadline=local(12), skills=[skills["electrical"]])
    candidates, excluded = call_candidates(user=dispatcher, call_id=call.pk, now=local(7, 30))
    assert [c.technician.name for c in candidates] == ["Fay"]
    assert candidates[0].travel_added_minutes > 30  # far indeed: about 21 km
    assert {e.technician.name: e.reason for e in excluded} == {"Tom": "missing skill: electrical"}
    assert far.pk == candidates[0].technician.pk


def test_inserting_in_the_middle_beats_appending_when_it_keeps_everyone_on_time(
    dispatcher, tom, skills, make_call, customer
):
    from customers.models import Site

    far_site = Site.objects.create(customer=customer, address="far", lat=42.04, lng=-87.76)
    tight = make_call(tom, deadline=local(9, 30), summary="tight, here")
    make_call(tom, deadline=local(15), site=far_site, summary="loose, far away")
    call = make_call(deadline=local(11), skills=[skills["plumbing"]])
    etas_refresh_day(day=DAY, now=local(7, 30))
    (best,), _ = call_candidates(user=dispatcher, call_id=call.pk, now=local(7, 30))
    # First would push the tight call under its margin; last means a 40-minute drive back and
    # arriving after 11:00. Right after the tight call, at the same address, costs nothing.
    assert best.position == 1
    assert best.travel_added_minutes == 0
    assert best.added_lateness_minutes == 0 and best.turned_worse == []
    assert best.slack_minutes > 0
    assert tight.pk not in best.turned_worse


def test_candidates_are_read_in_the_same_number_of_queries_for_3_or_30_technicians(
    dispatcher, tom, tina, north, south, skills, make_call
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = make_call(deadline=local(16), skills=[skills["plumbing"]])

    def queries_with(extra: int) -> tuple[int, int]:
        for i in range(extra):
            team = north if i % 2 else south  # every team is asked
            tech = make_technician(f"t{extra}x{i}", team, skills=[skills["plumbing"]])
            for _ in range(3):
                make_call(tech, deadline=local(16))
        call_candidates(user=dispatcher, call_id=call.pk, now=local(7, 30))  # roles cached
        with CaptureQueriesContext(connection) as ctx:
            found, _ = call_candidates(user=dispatcher, call_id=call.pk, now=local(7, 30))
        return len(ctx.captured_queries), len(found)

    small, few = queries_with(1)
    large, many = queries_with(27)
    assert many > few >= 2  # the bigger day really was asked
    assert large == small <= 8
