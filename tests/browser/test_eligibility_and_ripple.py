"""Chromium: the planning core's answers where a dispatcher and a technician drag calls.

A drop on a technician without the skill asks the dispatcher, naming the skill (Cancel changes
nothing) and is refused to a technician with the reason; a drop that moves another customer's
promised ETA half an hour asks first even though no risk label changes.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dispatch.models import CallEvent, ServiceCall
from dispatch.services.etas import etas_refresh_day
from tests.browser.test_board import UNASSIGNED, cards, drag, ids_in
from tests.conftest import DAY, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_missing_skill_drop_names_the_skill_and_cancel_changes_nothing(
    open_board, dispatcher, tom, tina, skills, make_call, artifacts
):
    pipe = make_call(summary="Burst pipe", skills=[skills["plumbing"]], deadline=local(16))
    etas_refresh_day(day=DAY, now=local(7, 30))
    rows_before = list(ServiceCall.objects.order_by("id").values())
    page = open_board(dispatcher)

    drag(page, pipe, cards(tina))
    page.mouse.up()

    panel = page.locator("#confirm-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#confirm-title")).to_have_text("Check this move first")
    expect(panel.locator("#move-warnings")).to_have_text("Tina: missing skill: plumbing")
    expect(panel.locator("#cancel-move")).to_be_focused()
    page.screenshot(path=artifacts / "missing-skill-panel.png")
    page.locator("#cancel-move").click()

    expect(panel).to_have_count(0)
    assert ids_in(page, UNASSIGNED) == [pipe.pk]
    assert list(ServiceCall.objects.order_by("id").values()) == rows_before
    assert not CallEvent.objects.exists()


def test_a_technician_dropping_a_call_they_cannot_do_on_their_own_queue_is_told_why(
    open_board, tina, skills, make_call
):
    pipe = make_call(summary="Burst pipe", skills=[skills["plumbing"]], deadline=local(16))
    etas_refresh_day(day=DAY, now=local(7, 30))
    page = open_board(tina.user)

    drag(page, pipe, cards(tina))
    page.mouse.up()

    expect(page.locator(".notice.error")).to_have_text(
        f"Tina can't take call #{pipe.pk}: missing skill: plumbing."
    )
    expect(page.locator("#confirm-panel")).to_have_count(0)
    assert ids_in(page, UNASSIGNED) == [pipe.pk]  # the card snapped back
    pipe.refresh_from_db()
    assert pipe.technician_id is None and not CallEvent.objects.exists()


def test_a_drop_that_moves_a_promised_eta_half_an_hour_opens_the_panel(
    open_board, dispatcher, tom, make_call, settings, artifacts
):
    settings.PROMISE_TOLERANCE_MINUTES = 45  # the promise holds: only the shift should ask
    promised = make_call(tom, summary="Annual service", duration_minutes=30, deadline=local(17))
    etas_refresh_day(day=DAY, now=local(7, 30))
    promised.refresh_from_db()
    ServiceCall.objects.filter(pk=promised.pk).update(promised_eta=promised.planned_start)
    extra = make_call(summary="Quick look", duration_minutes=30, deadline=local(17))
    page = open_board(dispatcher)

    drag(page, extra, cards(tom), before=promised)
    page.mouse.up()

    panel = page.locator("#confirm-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#ripple-words")).to_have_text(
        "Ripple to others: 1 customer later by up to 30 min"
    )
    row = panel.locator("tr", has_text=f"#{promised.pk} Annual service")
    expect(row).to_contain_text("(+30 min)")
    expect(row).to_contain_text("moves a promised time")
    page.screenshot(path=artifacts / "promised-shift-panel.png")
    page.locator("#confirm-move").click()

    expect(page.locator(".notice.ok")).to_contain_text(f"Moved call #{extra.pk} to Tom, arriving")
    expect(page.locator(".notice.ok")).to_contain_text("1 customer later by up to 30 min.")
    assert ids_in(page, cards(tom)) == [extra.pk, promised.pk]
