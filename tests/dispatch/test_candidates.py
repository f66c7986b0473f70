"""Which technician should go: ranked candidates with their ripple, and exclusions in words."""

from __future__ import annotations

from datetime import time

import pytest

from dispatch.services.candidates import call_candidates
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
    assert reasons["Olga"] == "off shift"
    assert reasons["Tom"].startswith("would arrive late by")
    assert "overtime" in reasons["Ed"]
    assert candidates == []


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
