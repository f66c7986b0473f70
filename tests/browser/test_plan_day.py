"""Plan the day in a real browser: ask, watch it think, review, apply; the board shows the order."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dispatch.models import DayPlan, ServiceCall
from dispatch.services.etas import etas_refresh_day
from tests.browser.test_board import cards, ids_in
from tests.conftest import DAY, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def no_broker(settings):
    # Without a broker the plan is computed in a thread beside the request, as in `make run`.
    settings.REDIS_URL = ""


def test_a_dispatcher_plans_reviews_and_applies_the_day(
    open_board, dispatcher, tom, tina, make_call, no_broker, artifacts
):
    from tests.dispatch.test_day_plans import _site

    waiting = [
        make_call(summary=f"Radiator {i}", duration_minutes=45, deadline=local(16),
                  site=_site(41.88 + 0.005 * i, -87.63 - 0.004 * i))
        for i in range(5)
    ]  # fmt: skip
    etas_refresh_day(day=DAY, now=local(7, 30))
    page = open_board(dispatcher)
    page.locator("#plan-the-day").click()
    expect(page.locator("h1")).to_have_text("Plan the day")
    page.locator("input[name=seconds]").fill("1")
    page.screenshot(path=artifacts / "plan-start.png")
    page.locator("button.primary", has_text="Plan the day").click()

    expect(page.locator("#plan[data-status=ready]")).to_have_count(1, timeout=20_000)
    plan = DayPlan.objects.get()
    figures = page.locator("#plan-figures")
    expect(figures).to_contain_text("Late calls")
    expect(page.locator("#plan-changes tbody tr")).to_have_count(5)
    expect(page.locator("#plan-changes")).to_contain_text("waiting →")
    page.screenshot(path=artifacts / "plan-ready.png", full_page=True)

    page.locator("button", has_text="Apply all").click()
    expect(page.locator(".messages .msg-success")).to_have_text(
        re.compile(rf"Plan #{plan.pk} applied: 5 waiting calls given out")
    )
    # Applying returns to the office's default board, the timeline; each technician's order is
    # read off the column board's lists.
    assert "/board/?" in page.url
    page.goto(page.url.replace("/board/?", "/board/?view=columns&", 1))
    routes = {r["technician"]: r["calls"] for r in plan.routes}
    for tech in (tom, tina):
        expect(page.locator(cards(tech))).to_be_visible()
        assert ids_in(page, cards(tech)) == routes[tech.pk]
    assert ServiceCall.objects.filter(pk__in=[c.pk for c in waiting], technician=None).count() == 0
    page.screenshot(path=artifacts / "plan-applied-board.png")


def test_a_stale_proposal_says_so_and_offers_to_plan_again(
    open_board, dispatcher, tom, tina, make_call, no_broker
):
    call = make_call(summary="Boiler", deadline=local(16))
    page = open_board(dispatcher)
    page.goto(f"/board/plan/?day={DAY.isoformat()}")
    page.locator("input[name=seconds]").fill("1")
    page.locator("button.primary", has_text="Plan the day").click()
    expect(page.locator("#plan[data-status=ready]")).to_have_count(1, timeout=20_000)
    # Someone assigns the call by hand meanwhile.
    ServiceCall.objects.filter(pk=call.pk).update(
        technician=tina, status="assigned", position=0, version=call.version + 1
    )
    page.reload()
    expect(page.locator("#plan-stale")).to_contain_text(f"#{call.pk}")
    # Nothing offers to apply a stale plan; planning again sees the day as it is.
    expect(page.locator("button", has_text="Apply all")).to_have_count(0)
    expect(page.locator("#plan-changes input[type=checkbox]")).to_have_count(0)
    page.locator("#plan-stale button", has_text="Plan again").click()
    expect(page.locator("#plan[data-status=ready]")).to_have_count(1, timeout=20_000)
    assert DayPlan.objects.count() == 2
    assert ServiceCall.objects.get(pk=call.pk).technician_id == tina.pk
