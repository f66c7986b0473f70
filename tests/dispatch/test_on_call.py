"""Issue 15, after hours: the on-call rota fills the planner's on-call spans; an emergency
outside shifts is offered to the on-call technician (and nobody else), the call-out shown as a
cost; a normal call at night is offered to nobody; the backlog alert names who is on call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from dispatch.selectors.candidates import call_candidates, call_send_now
from dispatch.selectors.planning import world_load
from dispatch.selectors.rota import on_call_spans, on_call_words
from dispatch.services.backlog import backlog_check
from technicians.models import OnCallShift, Technician
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db
NIGHT = local(22, 30)
NEXT_DAY = DAY + timedelta(days=1)


def on_call(tech, start, end, **fields) -> OnCallShift:
    return OnCallShift.objects.create(
        technician=tech,
        team_id=tech.team_id,
        starts_at=start,
        ends_at=end,
        created_at=local(7),
        **fields,
    )


@pytest.fixture
def tonight(tom):
    """Tom is on call tonight, 17:00 to 08:00 tomorrow."""
    return on_call(tom, local(17), local(8, day=NEXT_DAY))


def test_a_span_must_end_after_it_starts(tom):
    with pytest.raises(IntegrityError), transaction.atomic():
        on_call(tom, local(17), local(17))


def test_spans_overlapping_the_day_fill_the_workers_in_one_query(tom, tina, tonight):
    last_night = on_call(tina, local(17, day=DAY - timedelta(days=1)), local(8))
    on_call(tina, local(17, day=NEXT_DAY), local(8, day=NEXT_DAY + timedelta(days=1)))  # later
    on_call(tina, local(9), local(10), removed_at=local(8))  # taken off the rota: not counted
    with CaptureQueriesContext(connection) as ctx:
        spans = on_call_spans([tom.pk, tina.pk], DAY, local(12))
    assert len(ctx.captured_queries) == 1
    assert spans[tom.pk] == [(tonight.starts_at, tonight.ends_at)]
    assert spans[tina.pk] == [(last_night.starts_at, last_night.ends_at)]

    plan = world_load(techs=[tom, tina], day=DAY, now=local(12))
    tom_worker = plan.world.workers[tom.pk]
    assert tom_worker.on_call == ((local(17).timestamp(), local(8, day=NEXT_DAY).timestamp()),)
    assert tom_worker.on_call_words == ("17:00-08:00",)
    assert tom_worker.on_call_at(NIGHT.timestamp())
    assert not plan.world.workers[tina.pk].on_call_at(NIGHT.timestamp())


def test_loading_the_rota_is_one_query_for_3_or_30_technicians(north, tom, tina):
    def queries(techs) -> int:
        with CaptureQueriesContext(connection) as ctx:
            world_load(techs=techs, day=DAY, now=NIGHT)
        return len(ctx.captured_queries)

    small = queries(list(Technician.objects.all()))
    for i in range(27):
        tech = make_technician(f"n{i}", north)
        on_call(tech, local(17), local(8, day=NEXT_DAY))
    assert queries(list(Technician.objects.all())) == small


def test_an_emergency_at_night_offers_the_on_call_technician_and_nobody_else(
    clock_at, dispatcher, tom, tina, skills, make_call, tonight
):
    clock_at(NIGHT)
    tina.skills.add(skills["plumbing"])
    call = make_call(priority="emergency", summary="burst pipe", skills=[skills["plumbing"]])
    for ask in (call_send_now, call_candidates):
        offered, excluded = ask(user=dispatcher, call_id=call.pk, now=NIGHT)
        assert [c.technician.name for c in offered] == ["Tom"]
        assert offered[0].call_out == "call-out: on call 17:00-08:00, overtime"
        assert offered[0].arrival >= NIGHT
        assert {e.technician.name: e.reason for e in excluded} == {"Tina": "shift ended 17:00"}


def test_a_normal_call_at_night_is_offered_to_nobody(
    clock_at, dispatcher, tom, tina, make_call, tonight
):
    clock_at(NIGHT)
    call = make_call(summary="dripping tap")
    offered, excluded = call_candidates(user=dispatcher, call_id=call.pk, now=NIGHT)
    assert offered == []
    assert {e.technician.name: e.reason for e in excluded} == {
        "Tom": "shift ended 17:00",
        "Tina": "shift ended 17:00",
    }


def test_before_dawn_the_on_call_technician_sets_off_now_not_at_the_shift_start(
    clock_at, dispatcher, tom, tina, make_call, tonight
):
    dawn = local(2, day=NEXT_DAY)
    clock_at(dawn)
    call = make_call(priority="emergency", scheduled_day=NEXT_DAY)
    offered, _ = call_send_now(user=dispatcher, call_id=call.pk, now=dawn)
    # Tina starts at 08:00 as usual; Tom, on call, is there well before.
    assert [c.technician.name for c in offered] == ["Tom", "Tina"]
    tom_, tina_ = offered
    assert tom_.arrival < local(3, day=NEXT_DAY) and tina_.arrival >= local(8, day=NEXT_DAY)
    assert tom_.call_out == "call-out: on call 17:00-08:00, overtime" and tina_.call_out == ""


def test_an_emergency_in_the_day_is_no_call_out(clock_at, dispatcher, tom, make_call, tonight):
    clock_at(local(10))
    call = make_call(priority="emergency")
    offered, _ = call_send_now(user=dispatcher, call_id=call.pk, now=local(10))
    assert [(c.technician.name, c.call_out) for c in offered] == [("Tom", "")]


def test_the_suggest_panel_shows_the_call_out(
    clock_at, client, dispatcher, tom, make_call, tonight
):
    clock_at(NIGHT)
    call = make_call(priority="emergency", summary="gas smell")
    client.force_login(dispatcher)
    html = client.get(f"/calls/{call.pk}/suggest/", HTTP_HX_REQUEST="true").content.decode()
    assert "send the nearest now" in html
    assert "call-out: on call 17:00-08:00, overtime" in html


def test_the_on_call_technician_may_take_an_emergency_at_night_and_nobody_else(
    clock_at, api, tom, tina, make_call, tonight
):
    clock_at(NIGHT)
    call = make_call(priority="emergency")
    body = {"expected_version": call.version}
    refused = api.as_user(tina.user).post(f"/api/v1/calls/{call.pk}/claim/", body, format="json")
    assert refused.status_code == 403
    assert "shift ended 17:00" in refused.json()["detail"]
    answer = api.as_user(tom.user).post(f"/api/v1/calls/{call.pk}/claim/", body, format="json")
    assert answer.status_code == 200, answer.content
    call.refresh_from_db()
    assert call.technician_id == tom.pk


def test_on_call_words_name_who_is_on_call_now_or_next(tom, tina, south, tonight):
    otto = make_technician("otto", south)
    assert on_call_words([tom.team_id, south.pk], NIGHT) == {
        tom.team_id: "On call: Tom (until 08:00)",
        south.pk: "On call: nobody in the next 24 hours",
    }
    on_call(otto, local(23), local(8, day=NEXT_DAY))
    assert on_call_words([south.pk], NIGHT) == {
        south.pk: "On call: nobody now; next Otto from 23:00 (until 08:00)"
    }


def test_the_backlog_alert_names_who_is_on_call(
    clock_at, client, manager, north, tom, tina, make_call
):
    clock_at(local(16))
    on_call(tom, local(15), local(8, day=NEXT_DAY))
    for _ in range(4):
        make_call(duration_minutes=240)
    assert backlog_check(now=local(16)) == (1, 0)
    client.force_login(manager)
    for url in ("/escalations/", "/dashboard/"):
        html = client.get(url).content.decode()
        assert "North: the backlog has outgrown the team." in html
        assert "On call: Tom (until 08:00)." in html


def test_the_phones_on_call_line_says_until_when_or_when_it_starts():
    from dispatch.selectors.rota import on_call_line

    night = [(local(17), local(8, day=NEXT_DAY))]
    assert on_call_line(night, local(9)) == "On call tonight 17:00–08:00"
    assert on_call_line(night, local(17)) == "On call until 08:00"
    assert on_call_line(night, local(7, 59, day=NEXT_DAY)) == "On call until 08:00"
    assert on_call_line(night, local(8, day=NEXT_DAY)) == ""
    assert on_call_line([(local(12), local(20))], local(9)) == "On call today 12:00–20:00"
    # Tomorrow's span is not today's news; a weekend span names the day it ends.
    assert on_call_line([(local(17, day=NEXT_DAY), local(20, day=NEXT_DAY))], local(9)) == ""
    weekend = [(local(17), local(8, day=DAY + timedelta(days=3)))]
    assert on_call_line(weekend, local(22)) == "On call until Fri 08:00"
    assert on_call_line([], local(22)) == ""
