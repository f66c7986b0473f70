"""A CSR books in a real browser: through an offered window (the call lands on the board with its
promised window), and outside the windows only with an override reason."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from dispatch.models import CallCategory, CallEvent, ServiceCall
from tests.browser.conftest import VIEWPORT
from tests.conftest import DAY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(browser: Browser, live_server):
    contexts = []

    def open_(user) -> Page:
        client = Client()
        client.force_login(user)
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
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
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def leak(skills):
    category = CallCategory.objects.create(code="leak", name="Leak", default_duration_minutes=60)
    category.skills.set([skills["plumbing"]])
    return category


def start_booking(page: Page, customer, leak, summary: str) -> None:
    page.goto(f"/book/?customer={customer.pk}")
    expect(page.locator("#book-customer")).to_have_text(customer.name)
    page.fill("#id_summary", summary)
    page.select_option("#id_category", str(leak.pk))
    page.click("#find-windows")
    expect(page.locator("#offers")).to_be_visible()


def test_csr_books_an_offered_window_and_the_call_is_on_the_board_with_it(
    signed_in, csr, tom, tina, customer, site, leak, artifacts
):
    page = signed_in(csr)
    start_booking(page, customer, leak, "Leak under the sink")
    first = page.locator("#offers label.offer").first
    expect(first).to_contain_text("08:00–10:00")
    expect(first).to_contain_text("with Tom")  # Tina has no plumbing
    expect(page.locator("#offers input[name=offer]").first).to_be_checked()
    page.screenshot(path=str(artifacts / "booking-offers.png"), full_page=True)
    page.click("#book-offer")
    expect(page.locator(".messages")).to_contain_text("08:00–10:00; assigned to Tom")
    call = ServiceCall.objects.get()
    assert call.technician_id == tom.pk

    page.goto(f"/board/?day={DAY.isoformat()}&view=columns")
    card = page.locator(f"#col-{tom.pk} #call-{call.pk}")
    expect(card).to_be_visible()
    expect(card.locator(".window")).to_have_text("Window 08:00–10:00")
    page.screenshot(path=str(artifacts / "booking-on-board.png"))


def test_booking_outside_the_windows_requires_the_override_reason(
    signed_in, csr, tom, customer, site, leak
):
    page = signed_in(csr)
    start_booking(page, customer, leak, "Boiler service after work")
    page.fill("#id_window_start", f"{DAY.isoformat()}T18:00")
    page.fill("#id_window_end", f"{DAY.isoformat()}T19:00")
    page.click("#book-override")
    expect(page.locator("#book-error")).to_contain_text("needs an override reason")
    assert not ServiceCall.objects.exists()
    # The form kept what was typed; the reason is all that is missing.
    expect(page.locator("#id_summary")).to_have_value("Boiler service after work")
    page.fill("#id_override_reason", "Customer only home after 6 pm")
    page.click("#book-override")
    expect(page.locator(".messages")).to_contain_text("left for the dispatcher")
    call = ServiceCall.objects.get()
    assert call.status == "new" and call.summary == "Boiler service after work"
    booked = CallEvent.objects.get(call=call, kind="booked")
    assert booked.payload["override_reason"] == "Customer only home after 6 pm"
