"""Issue 15: one Chromium test per story, from sign-in, as its role, each run with the services'
clock at 10:00 and at 22:30 on DAY (at 22:30 every shift is over and "tomorrow" is DAY + 1).

1. The manager resolves an open escalation by accepting with a new time tomorrow and a goodwill
   concession that fits the contract; the background rules, a minute and two later, leave it
   resolved; the customer's tracking page shows the new time.
2. The CSR books a new customer by address (the demo city's offline gazetteer), picks a window,
   books it, and records a turn-away for the next caller.
3. The technician on a phone: the next call's buttons without scrolling, then on my way, arrived,
   done; at night the technician on call works an emergency the same way.
4. The night emergency: the dispatcher's Suggest offers the on-call technician first, the
   call-out shown as a cost; in the day the on-shift technicians are offered.

Screenshots go to test-artifacts/story-*.png for a person to look at.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from common import clock
from customers.models import Customer
from dispatch.models import CallCategory, CallEvent, Escalation, ServiceCall, TurnedAwayCall
from dispatch.services.etas import etas_refresh_day, recompute_units
from dispatch.tasks import check_escalations, recompute_team
from technicians.models import OnCallShift
from tests.browser.conftest import PHONE
from tests.conftest import DAY, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMES = pytest.mark.parametrize("hour", [(10, 0), (22, 30)], ids=["10h00", "22h30"])
TOMORROW = DAY + timedelta(days=1)


# common.clock.now itself: what every model's `created_at` default calls.
REAL_NOW = ServiceCall._meta.get_field("created_at").default


@pytest.fixture(autouse=True)
def _rows_stamped_by_the_story_clock(monkeypatch):
    """Rows made during a story (calls, escalations, events) are stamped with the story's clock.

    `clock_at` replaces `clock.now`, but the `created_at` defaults hold the original function,
    which adds the demo offset to `real_now`: point that at the story's clock, so an escalation
    raised at 22:30 says 22:30 (not today's wall-clock time) and the age rules read real ages.
    """
    monkeypatch.setattr(
        clock, "real_now", lambda: timezone.now() if clock.now is REAL_NOW else clock.now()
    )


def shot(page: Page, artifacts, name: str, hour, *, full: bool = True) -> None:
    """test-artifacts/story-<name>-1000.png (or -2230), for a person to look at."""
    path = artifacts / f"story-{name}-{hour[0]:02d}{hour[1]:02d}.png"
    page.screenshot(path=str(path), full_page=full)


def tonight_on_call(tech) -> OnCallShift:
    """`tech` is on call for their team from 17:00 on DAY to 08:00 the next morning."""
    return OnCallShift.objects.create(
        technician=tech,
        team_id=tech.team_id,
        starts_at=local(17),
        ends_at=local(8, day=TOMORROW),
        created_at=local(7),
    )


def background_runs(now: datetime) -> None:
    """What the beat does each minute, synchronously: today's (and tomorrow's) queues
    recomputed, then the escalation rules."""
    # The day's parts (one per team) run here, as a worker would run what recompute_day sends.
    for day in (DAY, TOMORROW):
        for team_id in recompute_units():
            recompute_team(team_id, day_iso=day.isoformat(), now_iso=now.isoformat())
    check_escalations(now_iso=now.isoformat())


# --- 1. the manager ------------------------------------------------------------------------------


@TIMES
def test_the_manager_accepts_with_a_new_time_and_the_rules_leave_it_resolved(
    sign_in, clock_at, manager, tom, make_call, customer, artifacts, hour
):
    now = local(*hour)
    night = hour == (22, 30)
    if night:
        # 21:00, a burst pipe: an emergency nobody took (no one is on call tonight). The water
        # is off now; the customer, on full service, agrees to first thing tomorrow.
        Customer.objects.filter(pk=customer.pk).update(contract="full_service")
        clock_at(local(21))
        call = make_call(summary="Burst pipe, water shut off", priority="emergency")
        reason, note = "safety", "Emergency unassigned for 1 h 30 min"
    else:
        # Booked at 07:30 for 08:00-09:30; Tom never got there, nobody touched the call since.
        call = make_call(
            tom, summary="No heat, second visit", window_start=local(8), deadline=local(9, 30)
        )
        clock_at(local(9, 31))
        etas_refresh_day(day=DAY, now=local(9, 31))  # late from 09:31
        # `updated_at` is the wall clock (auto_now), not the services': say when it really was.
        ServiceCall.objects.filter(pk=call.pk).update(updated_at=local(7, 30))
        reason, note = "deadline_risk", "Late: ETA 10:02 against 09:30"
    clock_at(now)
    # The background rules open the escalation themselves.
    background_runs(now)
    raised = Escalation.objects.get(call=call)
    assert (raised.status, raised.reason, raised.note) == ("open", reason, note)
    words = dict(Escalation.Reason.choices)[reason]

    page = sign_in(manager)
    page.locator("header").get_by_role("link", name="Escalations", exact=True).click()
    expect(page.locator("body")).to_contain_text(call.summary)
    page.get_by_role("link", name="Resolve").first.click()
    expect(page.locator("h1")).to_have_text(f"Escalation #{raised.pk}: {words}")
    expect(page.locator("body")).to_contain_text(f"system, Tue 10 Mar {now:%H:%M}")
    expect(page.locator("ol.history")).to_contain_text(f"Escalated by system — “{words}”")
    page.check("input[name=strategy][value=accept]")
    # The form proposes tomorrow; the manager sets the window agreed with the customer.
    expect(page.locator("#res-new-day")).to_have_value(TOMORROW.isoformat())
    page.fill("#res-new-from", "09:00")
    page.fill("#res-new-to", "11:00")
    page.fill("#res-resolution", "Nobody can reach them today; first thing tomorrow.")
    page.fill("#res-message", "We are sorry we could not come today.")
    if night:
        expect(page.locator("#res-labor")).to_have_count(0)
        page.fill("#res-discount", "15")
    else:
        expect(page.locator("#res-discount")).to_have_count(0)
        page.fill("#res-labor", "1.5")
    shot(page, artifacts, "manager-resolve", hour)
    page.locator("#resolve-form button[type=submit]").click()
    page.wait_for_url("**/escalations/")
    shot(page, artifacts, "manager-queue", hour)

    escalation = Escalation.objects.get(call=call)
    assert (escalation.status, escalation.strategy) == ("resolved", "accept")
    if night:
        assert str(escalation.concession_discount_percent) == "15.00"
    else:
        assert str(escalation.concession_labor_hours) == "1.50"
    moved = ServiceCall.objects.get(pk=call.pk)
    assert moved.scheduled_day == TOMORROW
    assert (timezone.localtime(moved.window_start), timezone.localtime(moved.deadline)) == (
        local(9, day=TOMORROW),
        local(11, day=TOMORROW),
    )

    # A minute later, and a minute after that, the background runs: nothing is re-raised (at
    # night the call is still an unassigned emergency, which the rule would raise again, had a
    # manager not settled it).
    for minutes in (1, 2):
        later = now + timedelta(minutes=minutes)
        clock_at(later)
        background_runs(later)
    assert list(Escalation.objects.filter(call=call).values_list("status", flat=True)) == [
        "resolved"
    ]
    page.reload()
    expect(page.locator("body")).to_contain_text("No open escalations.")

    # The customer's tracking page says the new time (not today's missed one).
    track = page.context.new_page()
    track.set_viewport_size(PHONE)
    track.goto(f"/track/{moved.tracking_token}/")
    window = track.locator(".track-window")
    expect(window).to_contain_text(f"{TOMORROW:%a} {TOMORROW.day} {TOMORROW:%b} 09:00")
    expect(window).to_contain_text("11:00")
    expect(track.locator(".track-status")).to_contain_text(f"{TOMORROW:%A} {TOMORROW.day}")
    expect(track.locator(".track-late")).to_have_count(0)
    shot(track, artifacts, "manager-track", hour)
    assert CallEvent.objects.filter(call=call, kind="customer_notified").exists()


# --- 2. the CSR ----------------------------------------------------------------------------------


@pytest.fixture
def leak(skills):
    category = CallCategory.objects.create(code="leak", name="Leak", default_duration_minutes=60)
    category.skills.set([skills["plumbing"]])
    return category


@TIMES
def test_the_csr_books_a_new_customer_by_address_and_records_a_turn_away(
    sign_in, clock_at, settings, csr, tom, leak, artifacts, hour
):
    settings.GEOCODER_URL = ""  # the demo city's offline gazetteer
    now = local(*hour)
    clock_at(now)
    page = sign_in(csr)
    page.locator("header").get_by_role("link", name="Book", exact=True).click()
    page.fill("#id_customer_name", "Jo Park")
    page.fill("#id_summary", "Drip under the sink")
    page.select_option("#id_category", str(leak.pk))
    page.fill("#id_address", "1200 N Halsted St")
    page.click("#find-address")
    match = page.locator("#address-matches label.address-match").first
    expect(match).to_contain_text("1200 N Halsted St, Chicago, IL")
    expect(match.locator("input")).to_be_checked()
    page.click("#find-windows")
    offers = page.locator("#offers label.offer")
    expect(offers.first).to_be_visible()
    first_day = TOMORROW if hour == (22, 30) else DAY
    expect(offers.first.locator(".offer-when")).to_contain_text(
        f"{first_day:%a} {first_day.day} {first_day:%b}"
    )
    if hour == (22, 30):
        # Today is said to be over, not "0 min left outside the emergency reserve".
        expect(page.locator("#offers .refusal")).to_have_text(
            f"{DAY:%a} {DAY.day} {DAY:%b}: No shift time left on this team that day: every "
            "shift is over or off."
        )
    shot(page, artifacts, "csr-offers", hour)
    page.click("#book-offer")
    expect(page.locator(".messages")).to_contain_text("Booked call")
    call = ServiceCall.objects.get()
    assert call.window_start >= now and call.scheduled_day == first_day
    assert call.technician_id == tom.pk
    assert (call.customer.name, call.site.address) == ("Jo Park", "1200 N Halsted St")
    shot(page, artifacts, "csr-booked", hour)

    # The next caller is outside the area: a turn-away, recorded with its reason.
    page.locator("header").get_by_role("link", name="Book", exact=True).click()
    page.fill("#id_customer_name", "Sam Lee")
    page.fill("#id_summary", "Gutter repair in Gary")
    page.select_option("#id_category", str(leak.pk))
    page.select_option("#id_turn_away_reason", "out_of_area")
    page.click("#turn-away-button")
    expect(page.locator(".messages")).to_contain_text("Recorded as turned away")
    row = TurnedAwayCall.objects.get()
    assert (row.caller_name, row.reason) == ("Sam Lee", "out_of_area")
    assert ServiceCall.objects.count() == 1


# --- 3. the technician ---------------------------------------------------------------------------


def inside_the_screen(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box


@TIMES
def test_the_technician_works_the_next_call_from_the_phone(
    sign_in, clock_at, tom, make_call, artifacts, hour
):
    now = local(*hour)
    clock_at(now)
    night = hour == (22, 30)
    if night:
        # Shifts are over; Tom is on call and the dispatcher sent him an emergency.
        tonight_on_call(tom)
        call = make_call(tom, summary="Burst pipe, water in the hall", priority="emergency")
        make_call(summary="Dripping tap", scheduled_day=TOMORROW)
    else:
        call = make_call(tom, summary="Boiler pressure low", deadline=local(12))
        make_call(tom, summary="Radiator knocking", deadline=local(15))
    etas_refresh_day(day=DAY, now=now)

    page = sign_in(tom.user, phone=True)
    assert page.url.endswith("/me/")
    card = page.locator(f"#me-call-{call.pk}")
    expect(card.locator(".next-flag")).to_have_text("Next")
    shot(page, artifacts, "tech-start", hour, full=False)
    # On my way is on the first screen: no scrolling to reach it.
    inside_the_screen(page, f"#me-call-{call.pk} button[data-action=en_route]")

    card.locator("button[data-action=en_route]").click()
    expect(page.locator("#tech-status")).to_have_text("En route")
    inside_the_screen(page, f"#me-call-{call.pk} button[data-action=on_site]")
    page.locator(f"#me-call-{call.pk} button[data-action=on_site]").click()
    expect(page.locator("#tech-status")).to_have_text("On site")
    shot(page, artifacts, "tech-on-site", hour, full=False)
    page.locator(f"#actual-{call.pk}").fill("40")
    page.locator(f"#me-call-{call.pk} button[data-action=completed]").click()
    expect(page.locator(".me-done-list")).to_contain_text(f"#{call.pk}")
    shot(page, artifacts, "tech-done", hour)
    done = ServiceCall.objects.get(pk=call.pk)
    assert (done.status, done.actual_minutes) == ("completed", 40)
    actions = CallEvent.objects.filter(call=call, kind="status").values_list(
        "payload__action", flat=True
    )
    assert list(actions) == ["en_route", "on_site", "completed"]


# --- 4. the night emergency ----------------------------------------------------------------------


@TIMES
def test_the_dispatcher_is_offered_the_on_call_technician_first_at_night(
    sign_in, clock_at, dispatcher, tom, tina, make_call, artifacts, hour
):
    now = local(*hour)
    clock_at(now)
    night = hour == (22, 30)
    tonight_on_call(tina)
    call = make_call(summary="Gas smell in the basement", priority="emergency")
    etas_refresh_day(day=DAY, now=now)

    page = sign_in(dispatcher)
    page.get_by_role("link", name="Columns", exact=True).click()
    page.locator(f"#call-{call.pk} a.suggest-link").click()
    panel = page.locator("#suggest-panel")
    expect(panel.locator("#suggest-title")).to_contain_text(f"#{call.pk} Gas smell")
    send_now = panel.locator("table.send-now tbody tr")
    expect(send_now.first).to_be_visible()
    shot(page, artifacts, "night-suggest", hour, full=False)
    candidates = panel.locator("table.candidates tbody tr")
    if night:
        # Tina, on call, first (and only: Tom's shift is over), her call-out stated as a cost.
        expect(send_now.first).to_contain_text("Tina")
        expect(send_now.first.locator(".call-out")).to_have_text(
            "call-out: on call 17:00-08:00, overtime"
        )
        expect(candidates.first).to_have_attribute("id", f"candidate-{tina.pk}")
        expect(candidates.first.locator(".call-out")).to_contain_text("call-out")
        expect(panel.locator(".excluded")).to_contain_text("Tom: shift ended 17:00")
    else:
        # In the day both are on shift: both offered, no call-out for anyone.
        expect(panel.locator(f"#candidate-{tom.pk}")).to_be_visible()
        expect(panel.locator(f"#candidate-{tina.pk}")).to_be_visible()
        expect(panel.locator(".call-out")).to_have_count(0)
