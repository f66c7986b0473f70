"""The chance of being on time as people see it, in Chromium: the card, the call page, and the
customer's tracking window from P10 to P90 (screenshots in test-artifacts/)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dispatch.models import ServiceCall
from dispatch.services.etas import etas_refresh_day
from tests.conftest import DAY, behind_a_long_job, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_card_call_page_and_tracking_show_the_odds(
    open_board, dispatcher, tom, make_call, clock_at, live_server, artifacts
):
    clock_at(local(8, 45))
    call = behind_a_long_job(make_call, tom, summary="Radiator leak", deadline=local(11))
    etas_refresh_day(day=DAY, now=local(8, 45))
    call.refresh_from_db()
    words = f"{round(100 * (1 - call.p_late))}% on time"
    page = open_board(dispatcher, timeout=30_000)  # pages only: no race is being timed
    card = page.locator(f"#call-{call.pk}")
    expect(card.locator(".odds")).to_have_text(words)
    expect(card.locator(".risk-badge")).to_have_text("At risk")
    card.screenshot(path=str(artifacts / "odds-card.png"))
    page.goto(f"/calls/{call.pk}/")
    expect(page.locator(".odds").first).to_have_text(words)
    page.screenshot(path=str(artifacts / "odds-call-page.png"), full_page=True)
    page.goto(f"{live_server.url}/track/{call.tracking_token}/")
    window = page.locator(".track-window").first
    expect(window).to_contain_text(
        re.compile(r"Expected arrival between\s+\d\d:\d\d\s+and\s+\d\d:\d\d")
    )
    page.screenshot(path=str(artifacts / "odds-tracking.png"), full_page=True)
    assert ServiceCall.objects.get(pk=call.pk).eta_p10 < call.eta_p90
