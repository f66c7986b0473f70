"""Rescheduling a call to another time (issue 15): the call page's "Reschedule" form (a day and,
optionally, a new window start and end) through the day-move and reschedule services. The new
window is stored on that day, the reschedule counted, the customer told the new promise, the
queue re-planned through the move service (a harmful change asks first), all of it logged; bad
input is refused in words with what was typed kept, and nothing is saved half-way."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from common.errors import InvalidInput
from customers.models import CustomerMessage
from dispatch.models import CallEvent, ServiceCall
from dispatch.services.day_moves import call_move_to_day
from dispatch.services.etas import etas_refresh_day
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db

TOMORROW = DAY + timedelta(days=1)
MOVE = "/board/week/move/"
NOW = local(7, 30)


@pytest.fixture(autouse=True)
def _morning_of_the_day(clock_at):
    clock_at(NOW)


def _state(call) -> tuple:
    call = ServiceCall.objects.get(pk=call.pk)
    return (
        call.scheduled_day, call.technician_id, call.position, call.version,
        call.reschedule_count, call.window_start, call.deadline, call.promised_eta,
    )  # fmt: skip


def _post(client, call, to_day, start="", end="", technician="", htmx=False, **extra):
    body = {
        "call": call.pk,
        "to_day": to_day,
        "window_start": start,
        "window_end": end,
        "technician": technician,
        "expected_version": call.version,
        "return": "call",
        **extra,
    }
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(MOVE, body, headers=headers)


def _promised(make_call, tech, **fields):
    call = make_call(tech, summary="Boiler", window_start=local(9), deadline=local(11), **fields)
    call.promised_eta = local(11)
    call.save()
    return call


# --- the service ------------------------------------------------------------------------------


def test_a_new_window_on_another_day_is_stored_counted_told_and_logged(dispatcher, tom, make_call):
    call = _promised(make_call, tom)
    result = call_move_to_day(
        user=dispatcher, call_id=call.pk, day=TOMORROW, technician_id=tom.pk,
        expected_version=call.version, start=time(13), end=time(15), now=NOW,
    )  # fmt: skip
    assert result.applied and result.retimed
    call.refresh_from_db()
    assert (call.scheduled_day, call.technician_id) == (TOMORROW, tom.pk)
    assert (call.window_start, call.deadline) == (local(13, day=TOMORROW), local(15, day=TOMORROW))
    assert call.promised_eta == local(15, day=TOMORROW)
    assert call.reschedule_count == 1
    assert call.planned_start is not None and call.planned_start >= local(13, day=TOMORROW)
    words = f"{TOMORROW:%A} {TOMORROW.day} {TOMORROW:%B}, between 13:00 and 15:00"
    assert result.told == words
    bodies = CustomerMessage.objects.filter(call=call, kind="update").values_list("body", flat=True)
    assert any(words in body for body in bodies)
    kinds = set(call.events.values_list("kind", flat=True))
    assert {"moved", "rescheduled", "assigned", "customer_notified"} <= kinds
    event = call.events.get(kind="rescheduled")
    assert event.payload["after"]["deadline"] is not None
    assert event.payload["before"]["reschedule_count"] == 0


def test_the_same_day_with_its_technician_is_re_planned_in_its_place(dispatcher, tom, make_call):
    first = make_call(tom, summary="First")
    call = _promised(make_call, tom)
    last = make_call(tom, summary="Last")
    etas_refresh_day(day=DAY, now=NOW)
    call.refresh_from_db()
    result = call_move_to_day(
        user=dispatcher, call_id=call.pk, day=DAY, technician_id=tom.pk,
        expected_version=call.version, start=time(14), end=time(16), now=NOW,
    )  # fmt: skip
    assert result.applied and result.plan is not None
    call.refresh_from_db()
    assert (call.scheduled_day, call.technician_id, call.position) == (DAY, tom.pk, 1)
    assert (call.window_start, call.deadline) == (local(14), local(16))
    assert call.reschedule_count == 1
    assert call.planned_start >= local(14)
    assert ServiceCall.objects.get(pk=first.pk).position == 0
    assert ServiceCall.objects.get(pk=last.pk).position == 2
    assert call.events.filter(kind="rescheduled").count() == 1
    assert call.events.filter(kind="customer_notified").count() == 1


def test_an_unassigned_call_with_no_promise_gets_one_and_the_customer_is_told(
    dispatcher, make_call
):
    call = make_call(None, summary="Tap")
    result = call_move_to_day(
        user=dispatcher, call_id=call.pk, day=DAY, technician_id=None,
        expected_version=call.version, start=time(10), end=time(12), now=NOW,
    )  # fmt: skip
    call.refresh_from_db()
    assert (call.technician_id, call.window_start, call.deadline) == (None, local(10), local(12))
    assert call.reschedule_count == 1 and result.plan is None
    assert CustomerMessage.objects.filter(call=call, kind="update").exists()


def test_a_time_left_empty_keeps_the_calls_clock_time(dispatcher, tom, make_call):
    call = _promised(make_call, tom)
    call_move_to_day(
        user=dispatcher, call_id=call.pk, day=TOMORROW, technician_id=tom.pk,
        expected_version=call.version, end=time(12, 30), now=NOW,
    )  # fmt: skip
    call.refresh_from_db()
    assert (call.window_start, call.deadline) == (
        local(9, day=TOMORROW),
        local(12, 30, day=TOMORROW),
    )


def test_a_missing_end_with_nothing_to_keep_is_refused_and_nothing_changes(
    dispatcher, tom, make_call
):
    call = make_call(tom, summary="Tap")
    before, events = _state(call), CallEvent.objects.count()
    with pytest.raises(InvalidInput, match="has no window end to keep"):
        call_move_to_day(
            user=dispatcher, call_id=call.pk, day=TOMORROW, technician_id=tom.pk,
            expected_version=call.version, start=time(13), now=NOW,
        )  # fmt: skip
    assert _state(call) == before and CallEvent.objects.count() == events


def test_a_harmful_same_day_window_asks_first_and_writes_nothing(dispatcher, tom, make_call):
    call = make_call(tom, summary="Boiler")
    tight = make_call(tom, summary="Tight", deadline=local(10))
    etas_refresh_day(day=DAY, now=NOW)
    call.refresh_from_db()
    before, events = _state(call), CallEvent.objects.count()
    messages = CustomerMessage.objects.count()
    args = {
        "user": dispatcher, "call_id": call.pk, "day": DAY, "technician_id": tom.pk,
        "expected_version": call.version, "start": time(12), "end": time(13), "now": NOW,
    }  # fmt: skip
    asked = call_move_to_day(require_confirmation=True, **args)
    assert not asked.applied and tight.pk in {e.call_id for e in asked.plan.ripple if e.worsened}
    assert _state(call) == before and CallEvent.objects.count() == events
    assert CustomerMessage.objects.count() == messages
    assert call_move_to_day(require_confirmation=False, **args).applied
    call.refresh_from_db()
    assert (call.window_start, call.position, call.reschedule_count) == (local(12), 0, 1)


# --- the call page ----------------------------------------------------------------------------


def test_the_call_page_offers_reschedule_with_window_times(client, dispatcher, tom, make_call):
    call = _promised(make_call, tom)
    client.force_login(dispatcher)
    page = client.get(f"/calls/{call.pk}/").content.decode()
    assert "<h2>Reschedule</h2>" in page
    assert 'name="window_start"' in page and 'name="window_end"' in page


def test_the_good_path_redirects_and_the_page_shows_the_new_window(
    client, dispatcher, tom, make_call
):
    call = _promised(make_call, tom)
    client.force_login(dispatcher)
    response = _post(client, call, TOMORROW.isoformat(), "13:00", "15:00", technician=tom.pk)
    assert response.status_code == 302 and response["Location"] == f"/calls/{call.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "13:00 – 15:00" in page
    assert (
        f"Rescheduled call #{call.pk} to {TOMORROW:%a} {TOMORROW.day} {TOMORROW:%b} 13:00–15:00"
        in page
    )
    assert "Rescheduled</dt><dd>1 time" in page
    call.refresh_from_db()
    assert (call.scheduled_day, call.deadline, call.reschedule_count) == (
        TOMORROW,
        local(15, day=TOMORROW),
        1,
    )


@pytest.mark.parametrize(
    ("to_day", "start", "end", "words"),
    [
        (TOMORROW.isoformat(), "15:00", "13:00", "must end after it starts"),
        (DAY.isoformat(), "06:00", "07:00", "has already passed; pick a later time or day"),
        ((DAY - timedelta(days=1)).isoformat(), "13:00", "15:00", "is in the past"),
        (TOMORROW.isoformat(), "1pm", "15:00", "must be a time written as hours:minutes"),
        (TOMORROW.isoformat(), "13:00", "25:00", "must be a time written as hours:minutes"),
        (TOMORROW.isoformat(), "13:00:00", "15:00", "must be a time written as hours:minutes"),
    ],
    ids=["end-before-start", "window-over", "past-day", "not-hh-mm", "no-such-hour", "seconds"],
)
def test_bad_input_is_a_400_in_words_with_what_was_typed_kept(
    client, dispatcher, tom, make_call, to_day, start, end, words
):
    call = _promised(make_call, tom)
    before, events = _state(call), CallEvent.objects.count()
    messages = CustomerMessage.objects.count()
    client.force_login(dispatcher)
    response = _post(client, call, to_day, start, end, technician=tom.pk)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="day-move-error"' in html and words in html, html[:500]
    assert f'name="to_day" required min="{DAY:%Y-%m-%d}" value="{to_day}"' in html
    assert f'name="window_start" maxlength="5" value="{start}"' in html
    assert f'name="window_end" maxlength="5" value="{end}"' in html
    assert _state(call) == before and CallEvent.objects.count() == events
    assert CustomerMessage.objects.count() == messages


@pytest.mark.parametrize(
    ("start", "words"),
    [("13:00\x00", "contains a NUL character"), ("9" * 10_240, "hours:minutes")],
    ids=["nul", "10kb"],
)
def test_nul_and_10kb_times_are_refused_and_never_echoed(
    client, dispatcher, tom, make_call, start, words
):
    call = _promised(make_call, tom)
    before, events = _state(call), CallEvent.objects.count()
    client.force_login(dispatcher)
    response = _post(client, call, TOMORROW.isoformat(), start, "15:00", technician=tom.pk)
    assert response.status_code == 400
    html = response.content.decode()
    assert words in html and "9" * 100 not in html and "\x00" not in html
    assert _state(call) == before and CallEvent.objects.count() == events


@pytest.mark.parametrize("status", ["en_route", "on_site", "completed", "cancelled"])
def test_a_call_under_way_or_closed_is_refused_in_words(client, dispatcher, tom, make_call, status):
    call = _promised(make_call, tom, status=status)
    before = _state(call)
    client.force_login(dispatcher)
    response = _post(client, call, DAY.isoformat(), "13:00", "15:00", technician=tom.pk)
    assert response.status_code == 400
    words = "under way" if status in ("en_route", "on_site") else "can no longer be moved"
    assert words in response.content.decode()
    assert _state(call) == before


def test_a_stale_version_is_a_409_and_nothing_changes(client, dispatcher, tom, make_call):
    call = _promised(make_call, tom)
    before = _state(call)
    call.version += 5
    client.force_login(dispatcher)
    response = _post(client, call, DAY.isoformat(), "13:00", "15:00", technician=tom.pk)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed call" in html and 'value="13:00"' in html
    assert _state(call) == before


def test_the_confirm_panel_carries_the_new_window_and_confirm_applies_it(
    client, dispatcher, tom, make_call
):
    call = make_call(tom, summary="Boiler")
    make_call(tom, summary="Tight", deadline=local(10))
    etas_refresh_day(day=DAY, now=NOW)
    call.refresh_from_db()
    before = _state(call)
    client.force_login(dispatcher)
    asked = _post(client, call, DAY.isoformat(), "12:00", "13:00", technician=tom.pk)
    assert asked.status_code == 200
    html = asked.content.decode()
    assert 'id="confirm-panel"' in html
    assert 'name="window_start" value="12:00"' in html and 'name="window_end" value="13:00"' in html
    assert _state(call) == before
    confirmed = _post(
        client, call, DAY.isoformat(), "12:00", "13:00", technician=tom.pk, confirm="1"
    )
    assert confirmed.status_code == 302 and confirmed["Location"] == f"/calls/{call.pk}/"
    call.refresh_from_db()
    assert (call.window_start, call.deadline, call.reschedule_count) == (local(12), local(13), 1)


def test_today_a_typed_window_already_begun_starts_now(dispatcher, make_call):
    call = make_call(None, summary="Tap")
    call_move_to_day(
        user=dispatcher, call_id=call.pk, day=DAY, technician_id=None,
        expected_version=call.version, start=time(7), end=time(9), now=NOW,
    )  # fmt: skip
    call.refresh_from_db()
    assert (call.window_start, call.deadline, call.reschedule_count) == (NOW, local(9), 1)


def test_typed_text_is_kept_escaped(client, dispatcher, tom, make_call):
    call = _promised(make_call, tom)
    client.force_login(dispatcher)
    response = _post(client, call, TOMORROW.isoformat(), '"><b>', "15:00", technician=tom.pk)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="&quot;&gt;&lt;b&gt;"' in html and '"><b>' not in html
