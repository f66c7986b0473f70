"""The week view in Chromium: drag a call from today to tomorrow (to another technician and to
the unassigned strip), with no CSP violation and no console error; a screenshot at 1440x900 with
15 technicians (test-artifacts/week-15.png)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from dispatch.models import CallEvent, ServiceCall
from tests.browser import test_timeline
from tests.browser.test_timeline import Watched
from tests.conftest import DAY, local, make_technician

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOMORROW = DAY + timedelta(days=1)
sign_in = test_timeline.sign_in  # the timeline's fixture: a watched, signed-in page
WEEK = f"/board/?days=week&day={DAY.isoformat()}&team=all"


def open_week(watched: Watched) -> Page:
    page = watched.page
    response = page.goto(WEEK)
    assert response is not None and response.status == 200
    page.wait_for_function("() => window.htmx && document.getElementById('week')")
    return page


def drag_call_to(page: Page, call: ServiceCall, cell_id: str) -> None:
    box = page.locator(f"#wk-call-{call.pk}").bounding_box()
    x, y = box["x"] + 30, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 8, y + 8, steps=4)  # past the drag threshold
    target = page.locator(f"#{cell_id}").bounding_box()
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 10, steps=10)
    expect(page.locator(f"#{cell_id}.drop-target")).to_have_count(1)
    page.mouse.up()


def test_drag_a_call_to_tomorrow_in_the_week_view(sign_in, dispatcher, tom, tina, make_call):
    call = make_call(tom, summary="Boiler", window_start=local(9), deadline=local(11))
    other = make_call(tom, summary="Tap")
    watched = sign_in(dispatcher)
    page = open_week(watched)

    drag_call_to(page, call, f"cell-{tina.pk}-{TOMORROW.isoformat()}")
    expect(page.locator("#week-toast")).to_contain_text(f"Moved call #{call.pk} to")
    expect(
        page.locator(f"#cell-{tina.pk}-{TOMORROW.isoformat()} #wk-call-{call.pk}")
    ).to_have_count(1)
    call.refresh_from_db()
    assert (call.scheduled_day, call.technician_id, call.reschedule_count) == (TOMORROW, tina.pk, 1)
    assert call.window_start == local(9, day=TOMORROW)
    assert CallEvent.objects.filter(call=call, kind="rescheduled").count() == 1

    # The day's unassigned strip takes a drop too.
    drag_call_to(page, other, f"cell-u-{TOMORROW.isoformat()}")
    expect(page.locator(f"#cell-u-{TOMORROW.isoformat()} #wk-call-{other.pk}")).to_have_count(1)
    other.refresh_from_db()
    assert (other.scheduled_day, other.technician_id) == (TOMORROW, None)
    assert watched.problems() == [], "\n".join(watched.problems())


def test_a_past_day_takes_no_drop_and_a_stale_drop_is_refused_in_words(
    sign_in,
    dispatcher,
    tom,
    make_call,
    clock_at,
):
    clock_at(local(7, 30, day=TOMORROW))  # DAY, the week's first column, is now yesterday
    call = make_call(tom, summary="Boiler", scheduled_day=TOMORROW)
    watched = sign_in(dispatcher)
    page = open_week(watched)
    # Over yesterday's cell the drop is not offered, and letting go there moves nothing.
    box = page.locator(f"#wk-call-{call.pk}").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + 38, box["y"] + 13, steps=4)
    past = page.locator(f"#cell-{tom.pk}-{DAY.isoformat()}")
    target = past.bounding_box()
    page.mouse.move(target["x"] + 20, target["y"] + 10, steps=8)
    expect(page.locator(".drop-target")).to_have_count(0)
    page.mouse.up()
    # Someone else changes the call; the drop on a later day is refused, nothing changes.
    ServiceCall.objects.filter(pk=call.pk).update(version=call.version + 1)
    drag_call_to(page, call, f"cell-{tom.pk}-{(TOMORROW + timedelta(days=1)).isoformat()}")
    expect(page.locator("#week-error")).to_contain_text("Someone else changed call")
    call.refresh_from_db()
    assert (call.scheduled_day, call.reschedule_count) == (TOMORROW, 0)
    # The refused post's 409 is the only thing the console may report.
    assert [p for p in watched.problems() if "409" not in p] == []


def test_the_week_of_15_technicians_fits_1440x900(sign_in, dispatcher, north, make_call, artifacts):
    techs = [make_technician(f"tech{i:02d}", north) for i in range(15)]
    for i, tech in enumerate(techs):
        for day in range(7):
            for n in range((i + day) % 4):
                make_call(
                    tech,
                    summary=f"Job {n} of {tech.name}",
                    scheduled_day=DAY + timedelta(days=day),
                    risk=("ok", "at_risk", "late")[(i + n) % 3],
                )
    for day in range(7):
        make_call(None, summary="Waiting job", scheduled_day=DAY + timedelta(days=day))
    watched = sign_in(dispatcher)
    page = open_week(watched)
    size = page.evaluate(
        "() => { const s = document.querySelector('.week-scroll');"
        " return [s.scrollWidth, s.clientWidth, s.scrollHeight, s.clientHeight]; }"
    )
    page.screenshot(path=artifacts / "week-15.png")
    assert size[0] <= size[1], "no sideways scroll at 1440 px"
    assert size[2] <= size[3], "15 technicians fit 900 px without scrolling"
    assert watched.problems() == [], "\n".join(watched.problems())


def test_axe_finds_nothing_serious_on_the_week(sign_in, dispatcher, tom, tina, make_call):
    make_call(tom, summary="Boiler", window_start=local(9), deadline=local(11), risk="late")
    for n in range(4):
        make_call(tina, summary=f"Job {n}", scheduled_day=TOMORROW, risk="at_risk")
    make_call(None, summary="Unassigned leak", scheduled_day=TOMORROW)
    # axe is injected as a script: only a context that bypasses the CSP lets it run.
    page = open_week(sign_in(dispatcher, bypass_csp=True))
    assert test_timeline.axe_serious(page) == []


def test_the_call_page_reschedules_to_a_new_window_and_keeps_a_refusals_typing(
    sign_in, dispatcher, tom, make_call
):
    call = make_call(tom, summary="Boiler", window_start=local(9), deadline=local(11))
    watched = sign_in(dispatcher)
    page = watched.page
    assert page.goto(f"/calls/{call.pk}/").status == 200
    # End before start: refused in words, the typing kept, nothing saved.
    page.fill("#to-day", TOMORROW.isoformat())
    page.fill("#to-window-start", "15:00")
    page.fill("#to-window-end", "13:00")
    page.click("#day-move-submit")
    expect(page.locator("#day-move-error")).to_contain_text("must end after it starts")
    expect(page.locator("#to-window-start")).to_have_value("15:00")
    expect(page.locator("#to-window-end")).to_have_value("13:00")
    expect(page.locator("#to-day")).to_have_value(TOMORROW.isoformat())
    call.refresh_from_db()
    assert (call.scheduled_day, call.reschedule_count) == (DAY, 0)
    # Corrected: the call is rescheduled there and the page says the new window.
    page.fill("#to-window-end", "17:00")
    page.click("#day-move-submit")
    expect(page.locator("body")).to_contain_text(f"Rescheduled call #{call.pk} to")
    expect(page.locator("dl.fields")).to_contain_text("15:00 – 17:00")
    call.refresh_from_db()
    assert (call.scheduled_day, call.window_start, call.deadline, call.reschedule_count) == (
        TOMORROW,
        local(15, day=TOMORROW),
        local(17, day=TOMORROW),
        1,
    )
    # The refused post's 400 is the only thing the console may report.
    assert [p for p in watched.problems() if "400" not in p] == []
