"""The technician's day on a phone-sized Chromium (375 x 812): status buttons, a hand-off between
two technicians in two browser contexts while the dispatcher's board follows, a refused claim.

Every wait is on the DOM or the network, never a fixed sleep. The services' clock is 09:00 on DAY.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from dispatch.models import CallEvent, ServiceCall
from dispatch.services.etas import etas_refresh_day
from dispatch.services.events import event_record
from technicians.models import HandoffOffer
from tests.browser.conftest import PHONE
from tests.conftest import DAY, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NINE = local(9)


@pytest.fixture(autouse=True)
def _nine_oclock(clock_at):
    clock_at(NINE)


@pytest.fixture
def open_me(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """`open_me(user)`: a phone-sized context signed in as `user`, showing /me/."""
    contexts = []

    def open_(user, *, geolocation: dict | None = None) -> Page:
        client = Client()
        client.force_login(user)
        extra = {"geolocation": geolocation, "permissions": ["geolocation"]} if geolocation else {}
        context = browser.new_context(
            base_url=live_server.url, viewport=PHONE, has_touch=True, is_mobile=True, **extra
        )
        context.set_default_timeout(5_000)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        contexts.append(context)
        page = context.new_page()
        page.goto("/me/")
        return page

    yield open_
    for context in contexts:
        context.close()


def hhmm(when) -> str:
    return timezone.localtime(when).strftime("%H:%M") if when else "—"


def fresh(call) -> ServiceCall:
    return ServiceCall.objects.get(pk=call.pk)


def test_on_my_way_arrived_done_update_status_and_etas(open_me, tom, make_call):
    first = make_call(tom, summary="Boiler", duration_minutes=60)
    second = make_call(tom, summary="Radiator", duration_minutes=45)
    etas_refresh_day(day=DAY, now=NINE)
    eta_before = fresh(second).eta
    # The phone reports a place well north of home: the ETAs must be planned from there.
    page = open_me(tom.user, geolocation={"latitude": 42.05, "longitude": -87.70})
    card = page.locator(f"#me-call-{first.pk}")
    expect(card.locator(".next-flag")).to_have_text("Next")
    page.wait_for_function("() => document.getElementById('geo-note').dataset.located === 'yes'")

    card.locator("button[data-action=en_route]").click()
    expect(page.locator("#tech-status")).to_have_text("En route")
    tom.refresh_from_db()
    assert (fresh(first).status, tom.last_lat, tom.last_lng) == ("en_route", 42.05, -87.7)
    eta_after = fresh(second).eta
    assert eta_after != eta_before
    expect(page.locator(f"#me-call-{second.pk} .eta")).to_have_text(hhmm(eta_after))

    page.locator(f"#me-call-{first.pk} button[data-action=on_site]").click()
    expect(page.locator("#tech-status")).to_have_text("On site")
    assert fresh(first).status == "on_site"

    page.locator(f"#actual-{first.pk}").fill("45")
    page.locator(f"#me-call-{first.pk} button[data-action=completed]").click()
    expect(page.locator("#tech-status")).to_have_text("Available")
    expect(page.locator(".me-done-list")).to_contain_text(f"#{first.pk}")
    expect(page.locator(f"#me-call-{second.pk} .next-flag")).to_have_text("Next")
    done = fresh(first)
    assert (done.status, done.actual_minutes) == ("completed", 45)
    expect(page.locator(f"#me-call-{second.pk} .eta")).to_have_text(hhmm(fresh(second).eta))


def test_full_handoff_between_two_phones_and_the_board_follows(
    open_me, open_board, tom, tina, dispatcher, make_call, artifacts
):
    tina.skills.add(*tom.skills.all())
    call = make_call(tom, summary="Boiler", duration_minutes=60, deadline=local(15))
    make_call(tom, summary="Radiator", duration_minutes=45)
    make_call(tina, summary="Socket", duration_minutes=30)
    etas_refresh_day(day=DAY, now=NINE)
    board = open_board(dispatcher)
    expect(board.locator(f"#col-{tom.pk} #call-{call.pk}")).to_be_visible()

    toms = open_me(tom.user)
    tinas = open_me(tina.user)  # open before the offer: it must turn up by itself
    toms.locator(f"#me-call-{call.pk} [data-action=handoff]").click()
    expect(toms.locator(f"#candidate-{tina.pk}")).to_contain_text("Would arrive")
    toms.screenshot(path=str(artifacts / "me-handoff.png"), full_page=True)
    toms.locator(f"#candidate-{tina.pk} button[data-action=offer]").click()
    expect(toms.locator(f"#me-call-{call.pk} .me-offered")).to_contain_text("Offered to Tina")
    offer = HandoffOffer.objects.get(call=call)

    expect(tinas.locator(f"#offer-{offer.pk}")).to_contain_text("From Tom", timeout=10_000)
    expect(tinas.locator("#me-notices")).to_contain_text("Tom offered you call")
    tinas.screenshot(path=str(artifacts / "me-offer.png"), full_page=True)
    tinas.locator(f"#offer-{offer.pk} button", has_text="Accept").click()
    expect(tinas.locator(f"#me-call-{call.pk}")).to_be_visible()

    assert fresh(call).technician_id == tina.pk
    # The dispatcher's open board picks the change up by itself, and says what happened.
    expect(board.locator(f"#col-{tina.pk} #call-{call.pk}")).to_be_visible()
    expect(board.locator(f"#col-{tom.pk} #call-{call.pk}")).to_have_count(0)
    expect(board.locator(".alerts")).to_contain_text("handed off: Tom → Tina")
    # Tom's open page refreshes by itself: the call is gone and he is told who took it.
    expect(toms.locator("#me-notices")).to_contain_text("Tina accepted call", timeout=10_000)
    expect(toms.locator(f"#me-call-{call.pk}")).to_have_count(0)
    history = list(CallEvent.objects.filter(call=call).values_list("kind", flat=True))
    assert {"handoff_offered", "moved", "handoff_accepted"} <= set(history)


def test_a_claim_that_would_make_my_call_late_is_refused_with_the_reason(open_me, tom, make_call):
    mine = make_call(tom, summary="Boiler", deadline=local(10, 30), duration_minutes=30)
    flood = make_call(summary="Flood", deadline=local(9, 30), duration_minutes=180)
    etas_refresh_day(day=DAY, now=NINE)
    page = open_me(tom.user)
    page.locator(f"#claim-{flood.pk} button[data-action=claim]").click()
    expect(page.locator("#me-error")).to_contain_text(
        f"You can't claim call #{flood.pk}: it would make your call #{mine.pk}"
    )
    assert fresh(flood).technician_id is None


def test_phone_view_screenshot(open_me, tom, tina, make_call, skills, artifacts):
    """The page a technician sees mid-morning, saved for a person to look at."""
    tina.skills.add(*tom.skills.all())
    first = make_call(
        tom,
        summary="No hot water in the bakery's back kitchen",
        deadline=local(10),
        window_start=local(9),
    )
    make_call(tom, summary="Radiator knocking", deadline=local(11, 30), duration_minutes=45)
    make_call(tom, summary="Annual boiler service", duration_minutes=90)
    make_call(summary="Leaking pipe under sink", skills=[skills["plumbing"]], deadline=local(16))
    etas_refresh_day(day=DAY, now=NINE)
    event_record(
        call=first,
        actor=None,
        kind="tech_notified",
        technician=tom.pk,
        message="Dispatcher moved call #1 ahead: VIP customer",
    )
    page = open_me(tom.user)
    page.locator(f"#me-call-{first.pk} button[data-action=en_route]").click()
    expect(page.locator("#tech-status")).to_have_text("En route")
    page.screenshot(path=str(artifacts / "me.png"), full_page=True)
    # Nothing is wider than the phone: no sideways scrolling to reach a button.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    for box in page.locator(".me button.big").all():
        if box.is_visible():
            assert box.bounding_box()["height"] >= 44
