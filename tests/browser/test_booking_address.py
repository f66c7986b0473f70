"""A CSR in Chromium books a new customer by address alone (Find address, pick the match, find
windows, book) and records a turn-away from the first step, before any window is looked for."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from customers.models import Site
from dispatch.models import ServiceCall, TurnedAwayCall
from tests.browser.test_booking import leak, signed_in  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.GEOCODER_URL = ""


def new_caller(page: Page, leak) -> None:  # noqa: F811
    page.goto("/book/")
    page.fill("#id_customer_name", "Jo Park")
    page.fill("#id_summary", "Drip under the sink")
    page.select_option("#id_category", str(leak.pk))


def test_a_new_customer_is_booked_by_address_and_a_picked_match(
    signed_in,  # noqa: F811
    csr,
    tom,
    leak,  # noqa: F811
    artifacts,
):
    page = signed_in(csr)
    new_caller(page, leak)
    page.fill("#id_address", "1200 N Halsted St")
    page.click("#find-address")
    match = page.locator("#address-matches label.address-match").first
    expect(match).to_contain_text("1200 N Halsted St, Chicago, IL")
    expect(match.locator("input")).to_be_checked()
    expect(page.locator("#id_customer_name")).to_have_value("Jo Park")  # kept
    page.screenshot(path=str(artifacts / "booking-address-matches.png"), full_page=True)
    page.click("#find-windows")
    expect(page.locator("#offers")).to_be_visible()
    expect(page.locator("#id_lat")).to_have_value("41.903673")
    page.click("#book-offer")
    expect(page.locator(".messages")).to_contain_text("Booked call")
    site = ServiceCall.objects.get().site
    assert (site.address, site.lat, site.lng) == ("1200 N Halsted St", 41.903673, -87.647217)


def test_an_address_matching_nothing_says_so_and_keeps_the_form(
    signed_in,  # noqa: F811
    csr,
    leak,  # noqa: F811
):
    page = signed_in(csr)
    new_caller(page, leak)
    page.fill("#id_address", "12 Nowhere Lane")
    page.click("#find-address")
    expect(page.locator("#book-error")).to_contain_text("No address matches “12 Nowhere Lane”")
    expect(page.locator("#id_address")).to_have_value("12 Nowhere Lane")
    expect(page.locator("#id_summary")).to_have_value("Drip under the sink")
    assert not Site.objects.exists()


def test_a_turn_away_is_recorded_before_any_window_is_found(
    signed_in,  # noqa: F811
    csr,
    leak,  # noqa: F811
):
    page = signed_in(csr)
    new_caller(page, leak)
    expect(page.locator("#offers")).to_have_count(0)
    page.select_option("#id_turn_away_reason", "out_of_area")
    page.click("#turn-away-button")
    expect(page.locator(".messages")).to_contain_text("Recorded as turned away")
    row = TurnedAwayCall.objects.get()
    assert (row.caller_name, row.reason, row.windows_offered) == ("Jo Park", "out_of_area", 0)
