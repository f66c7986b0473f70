"""The week view (issue 16 item 3, "More than one day"): a row per technician, a column per day
from the board's day, read in a fixed number of queries; moving a call to another day through
the week move post (a reschedule: counted, the customer told, everything in the audit log)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import CustomerMessage
from dispatch.models import CallEvent, ServiceCall
from dispatch.selectors.week import week_get
from dispatch.services.etas import etas_refresh_day
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db

TOMORROW = DAY + timedelta(days=1)
WEEK = f"/board/?days=week&day={DAY.isoformat()}"
MOVE = "/board/week/move/"


@pytest.fixture(autouse=True)
def _morning_of_the_day(clock_at):
    clock_at(local(7, 30))


def _move(client, call, to_day, technician="", htmx=True, **extra):
    body = {
        "call": call.pk,
        "to_day": to_day,
        "technician": technician,
        "expected_version": call.version,
        "day": DAY.isoformat(),
        "team": "all",
        "days": "week",
        **extra,
    }
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(MOVE, body, headers=headers)


def _state(call) -> tuple:
    call = ServiceCall.objects.get(pk=call.pk)
    return (call.scheduled_day, call.technician_id, call.version, call.reschedule_count)


# --- the selector ---------------------------------------------------------------------------


def test_each_cell_holds_the_technicians_calls_of_that_day(dispatcher, north, tom, tina, make_call):
    today = make_call(tom, summary="Boiler", duration_minutes=90)
    also = make_call(tom, summary="Tap", duration_minutes=30)
    later = make_call(tina, summary="Socket", scheduled_day=DAY + timedelta(days=3))
    waiting = make_call(None, summary="Drain", scheduled_day=TOMORROW)
    beyond = make_call(tom, summary="Outside", scheduled_day=DAY + timedelta(days=7))
    done = make_call(tom, summary="Done", status="completed")
    week = week_get(user=dispatcher, first=DAY, team=north, today=DAY)
    assert week.days[0] == DAY and len(week.days) == 7
    rows = {row.technician.pk: row for row in week.rows}
    tom_today = rows[tom.pk].cells[0]
    assert [c.pk for c in tom_today.calls] == [today.pk, also.pk]
    assert tom_today.booked_minutes == 120
    assert [c.pk for c in rows[tina.pk].cells[3].calls] == [later.pk]
    assert [c.pk for c in week.unassigned[1].calls] == [waiting.pk]
    shown = {c.pk for row in week.rows for cell in row.cells for c in cell.calls}
    assert beyond.pk not in shown and done.pk not in shown  # outside the week; not open


def test_the_team_filter_holds(dispatcher, north, tom, otto, make_call):
    make_call(otto, summary="South call")
    week = week_get(user=dispatcher, first=DAY, team=north, today=DAY)
    assert [row.technician.pk for row in week.rows] == [tom.pk]


def _week_queries(client, team) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"{WEEK}&team={team.pk}").status_code == 200
    return len(ctx.captured_queries)


def test_the_week_reads_in_the_same_queries_for_3_and_30_technicians(
    client, dispatcher, north, make_call, django_assert_max_num_queries
):
    techs = [make_technician(f"w{i}", north) for i in range(3)]
    for i, tech in enumerate(techs):
        make_call(tech, scheduled_day=DAY + timedelta(days=i % 7))
    with django_assert_max_num_queries(4):
        week_get(user=dispatcher, first=DAY, team=north, today=DAY)
    client.force_login(dispatcher)
    small = _week_queries(client, north)
    techs += [make_technician(f"x{i}", north) for i in range(27)]
    for i, tech in enumerate(techs):
        for day in range(7):
            make_call(tech, scheduled_day=DAY + timedelta(days=day), summary=f"c{i}-{day}")
        make_call(None, scheduled_day=DAY + timedelta(days=i % 7))
    with django_assert_max_num_queries(4):
        week = week_get(user=dispatcher, first=DAY, team=north, today=DAY)
    assert len(week.rows) == 30 and week.call_count >= 30 * 7
    assert _week_queries(client, north) == small


# --- the page -------------------------------------------------------------------------------


def test_the_week_page_renders_with_day_links_and_escapes_user_text(
    client, dispatcher, north, tom, make_call
):
    call = make_call(tom, summary='<img src=x onerror="alert(1)">', risk="late")
    make_call(None, summary="Drain", scheduled_day=TOMORROW)
    client.force_login(dispatcher)
    response = client.get(f"{WEEK}&team={north.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="week"' in html and f'id="wk-call-{call.pk}"' in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    # Each day's header opens that day's timeline; the week knows today and tomorrow.
    assert f'href="/board/?day={TOMORROW.isoformat()}&amp;team={north.pk}"' in html
    assert 'id="view-tomorrow"' in html and 'aria-current="page" id="view-week"' in html
    assert ">Late<" in html and "1 call · 1 h / 9 h" in html
    assert f'id="cell-u-{TOMORROW.isoformat()}"' in html and "Drain" in html


def test_a_technician_keeps_the_column_board(client, tom, make_call):
    make_call(tom)
    client.force_login(tom.user)
    html = client.get(WEEK).content.decode()
    assert 'class="columns"' in html and 'id="week"' not in html


def test_the_timeline_and_today_tomorrow_still_work(client, dispatcher, tom, make_call):
    make_call(tom, summary="Today's", scheduled_day=DAY)
    make_call(tom, summary="Tomorrow's", scheduled_day=TOMORROW)
    client.force_login(dispatcher)
    today = client.get(f"/board/?day={DAY.isoformat()}").content.decode()
    tomorrow = client.get(f"/board/?day={TOMORROW.isoformat()}").content.decode()
    assert "Today&#x27;s" in today and "Tomorrow&#x27;s" not in today
    assert "Tomorrow&#x27;s" in tomorrow and 'id="view-week"' in tomorrow


# --- moving a call to another day -----------------------------------------------------------


def test_a_call_moved_to_tomorrow_lands_in_the_target_queue_counted_and_told(
    client, dispatcher, tom, tina, make_call
):
    call = make_call(tom, summary="Boiler", window_start=local(9), deadline=local(11))
    call.promised_eta = local(11)
    call.save()
    stays = make_call(tom, summary="Tap")
    theirs = make_call(tina, summary="Socket", scheduled_day=TOMORROW)
    etas_refresh_day(day=DAY, now=local(7, 30))
    call.refresh_from_db()
    client.force_login(dispatcher)
    response = _move(client, call, TOMORROW.isoformat(), technician=tina.pk)
    assert response.status_code == 200, response.content
    html = response.content.decode()
    assert f"Moved call #{call.pk} to {TOMORROW:%a} {TOMORROW.day} {TOMORROW:%b}, Tina" in html
    call.refresh_from_db()
    assert (call.scheduled_day, call.technician_id, call.status) == (TOMORROW, tina.pk, "assigned")
    assert call.position == 1  # after Tina's call of that day
    assert call.reschedule_count == 1
    assert call.window_start == local(9, day=TOMORROW) and call.deadline == local(11, day=TOMORROW)
    assert call.promised_eta == local(11, day=TOMORROW)
    assert call.eta is not None and call.eta.date() == TOMORROW
    # Tom's queue closed up; the customer was told the new time; all of it in the log.
    stays.refresh_from_db()
    assert stays.position == 0
    assert ServiceCall.objects.get(pk=theirs.pk).position == 0
    kinds = list(call.events.values_list("kind", flat=True))
    assert {"moved", "rescheduled", "assigned", "customer_notified"} <= set(kinds)
    told = CustomerMessage.objects.filter(call=call, kind="update").values_list("body", flat=True)
    assert any(
        f"{TOMORROW:%A} {TOMORROW.day} {TOMORROW:%B}, between 09:00 and 11:00" in b for b in told
    )
    # The week now shows it in Tina's cell of tomorrow.
    assert f'id="cell-{tina.pk}-{TOMORROW.isoformat()}"' in html


def test_a_call_moved_to_a_day_unassigned(client, dispatcher, tom, make_call):
    call = make_call(tom, summary="Boiler")
    client.force_login(dispatcher)
    in_three = DAY + timedelta(days=3)
    response = _move(client, call, in_three.isoformat())
    assert response.status_code == 200
    call.refresh_from_db()
    assert (call.scheduled_day, call.technician_id, call.status) == (in_three, None, "new")
    assert call.reschedule_count == 1
    # Nothing was promised: nobody is told anything.
    assert not call.events.filter(kind="customer_notified").exists()


def test_the_no_js_form_on_the_call_page_moves_and_returns_there(
    client, dispatcher, tom, make_call
):
    call = make_call(tom, summary="Boiler")
    client.force_login(dispatcher)
    page = client.get(f"/calls/{call.pk}/").content.decode()
    assert 'id="day-move"' in page and 'name="to_day"' in page
    response = _move(
        client, call, TOMORROW.isoformat(), technician=tom.pk, htmx=False, **{"return": "call"}
    )
    assert response.status_code == 302 and response["Location"] == f"/calls/{call.pk}/"
    call.refresh_from_db()
    assert (call.scheduled_day, call.technician_id) == (TOMORROW, tom.pk)


def test_a_stale_version_is_a_409_and_nothing_changes(client, dispatcher, tom, tina, make_call):
    call = make_call(tom, summary="Boiler")
    before = _state(call)
    call.version -= 1 if call.version > 1 else -5
    client.force_login(dispatcher)
    response = _move(client, call, TOMORROW.isoformat(), technician=tina.pk)
    assert response.status_code == 409
    assert "Someone else changed call" in response.content.decode()
    assert _state(call) == before


@pytest.mark.parametrize("status", ["en_route", "on_site", "completed", "cancelled"])
def test_a_call_under_way_or_closed_is_refused_in_words(client, dispatcher, tom, make_call, status):
    call = make_call(tom, summary="Boiler", status=status)
    if status in ("completed", "cancelled"):
        ServiceCall.objects.filter(pk=call.pk).update(technician=None, position=None)
        call.refresh_from_db()
    before = _state(call)
    client.force_login(dispatcher)
    response = _move(client, call, TOMORROW.isoformat(), technician=tom.pk)
    assert response.status_code == 400
    html = response.content.decode()
    words = "under way" if status in ("en_route", "on_site") else "can no longer be moved"
    assert words in html, html[:400]
    assert _state(call) == before


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("2026-13-45", "There is no day 2026-13-45"),
        ("", "Pick the day to move the call to"),
        ("2026-03-11\x00", "contains a NUL character"),
        ("x" * 10_240, "year-month-day"),
        ((DAY - timedelta(days=1)).isoformat(), "is in the past"),
        ("2027-06-01", "more than 60 days ahead"),
    ],
    ids=["no-such-day", "empty", "nul", "10kb", "past", "far"],
)
def test_bad_day_input_is_a_400_in_words_and_nothing_changes(
    client, dispatcher, tom, make_call, raw, words
):
    call = make_call(tom, summary="Boiler")
    before = _state(call)
    events = CallEvent.objects.count()
    client.force_login(dispatcher)
    response = _move(client, call, raw, technician=tom.pk)
    assert response.status_code == 400
    html = response.content.decode()
    assert words in html, html[:300]
    assert "x" * 100 not in html
    assert _state(call) == before and CallEvent.objects.count() == events


def test_the_call_page_form_keeps_what_was_typed_on_a_refusal(client, dispatcher, tom, make_call):
    call = make_call(tom, summary="Boiler")
    client.force_login(dispatcher)
    past = (DAY - timedelta(days=2)).isoformat()
    response = _move(client, call, past, technician=tom.pk, htmx=False, **{"return": "call"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="day-move-error"' in html and "is in the past" in html
    assert f'value="{past}"' in html


def test_a_technician_may_not_move_a_call_to_another_day(client, tom, make_call):
    call = make_call(tom, summary="Boiler")
    before = _state(call)
    client.force_login(tom.user)
    response = _move(client, call, TOMORROW.isoformat(), technician=tom.pk)
    assert response.status_code == 403
    assert _state(call) == before


def test_a_harmful_drop_asks_first_and_confirm_applies_it(client, dispatcher, tom, tina, make_call):
    # Tina's day tomorrow is full to a tight deadline: putting a long job first would hurt it.
    tight = make_call(
        tina, summary="Tight", scheduled_day=TOMORROW, deadline=local(9, day=TOMORROW)
    )
    call = make_call(tom, summary="Long job", duration_minutes=240)
    before = _state(call)
    client.force_login(dispatcher)
    response = _move(client, call, TOMORROW.isoformat(), technician=tina.pk, position=0)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="confirm-panel"' in html and f"#{tight.pk} Tight" in html
    assert _state(call) == before  # nothing moved while it asks
    confirmed = _move(
        client, call, TOMORROW.isoformat(), technician=tina.pk, position=0, confirm="1"
    )
    assert confirmed.status_code == 200
    call.refresh_from_db()
    assert (call.scheduled_day, call.technician_id, call.position) == (TOMORROW, tina.pk, 0)


def test_to_today_a_begun_window_starts_now_and_a_passed_one_is_refused(
    client, dispatcher, tom, make_call, clock_at
):
    clock_at(local(12))
    begun = make_call(
        None, summary="Begun", scheduled_day=TOMORROW,
        window_start=local(10, day=TOMORROW), deadline=local(14, day=TOMORROW),
    )  # fmt: skip
    over = make_call(
        None, summary="Over", scheduled_day=TOMORROW,
        window_start=local(9, day=TOMORROW), deadline=local(11, day=TOMORROW),
    )  # fmt: skip
    client.force_login(dispatcher)
    assert _move(client, begun, DAY.isoformat(), technician=tom.pk).status_code == 200
    begun.refresh_from_db()
    assert (begun.scheduled_day, begun.window_start, begun.deadline) == (DAY, local(12), local(14))
    before = _state(over)
    response = _move(client, over, DAY.isoformat(), technician=tom.pk)
    assert response.status_code == 400
    assert "has already passed; pick a later day" in response.content.decode()
    assert _state(over) == before


def test_a_drop_on_the_same_day_is_an_ordinary_move_not_a_reschedule(
    client, dispatcher, tom, tina, make_call
):
    call = make_call(tom, summary="Boiler")
    client.force_login(dispatcher)
    assert _move(client, call, DAY.isoformat(), technician=tina.pk).status_code == 200
    call.refresh_from_db()
    assert (call.scheduled_day, call.technician_id, call.reschedule_count) == (DAY, tina.pk, 0)
    assert not call.events.filter(kind="rescheduled").exists()


def test_a_window_start_alone_moves_with_the_call_and_the_customer_is_told(
    client, dispatcher, tom, make_call
):
    call = make_call(tom, summary="Sink", window_start=local(12))
    client.force_login(dispatcher)
    assert _move(client, call, TOMORROW.isoformat(), technician=tom.pk).status_code == 200
    call.refresh_from_db()
    assert (call.window_start, call.deadline) == (local(12, day=TOMORROW), None)
    told = call.events.get(kind="customer_notified").payload["new_time"]
    assert told == f"{TOMORROW:%A} {TOMORROW.day} {TOMORROW:%B}, from 12:00"


def test_a_line_says_ok_only_for_a_call_that_can_be_on_time(
    client, dispatcher, north, tom, make_call
):
    """The week's short words come from the board's one rule: nobody has an unassigned call
    ("Wait"), a call without a deadline can't be on time ("—"), and only the rest read "OK"."""
    waiting = make_call(None, summary="Drain", deadline=local(16))
    open_ended = make_call(tom, summary="Tune-up")
    due = make_call(tom, summary="Boiler", deadline=local(17), risk="ok")
    client.force_login(dispatcher)
    html = client.get(f"{WEEK}&team={north.pk}").content.decode()

    def short(call) -> str:
        line = html[html.index(f'id="wk-call-{call.pk}"') :]
        return line[
            line.index('class="wk-risk">') + len('class="wk-risk">') : line.index("</span>")
        ]

    assert (short(waiting), short(open_ended), short(due)) == ("Wait", "—", "OK")
