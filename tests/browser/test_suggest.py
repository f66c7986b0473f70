"""The Suggest panel in a real browser: open it from a card, read the ranking, apply in a click."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dispatch.models import CallEvent, ServiceCall
from dispatch.selectors.candidates import call_candidates
from dispatch.services.etas import etas_refresh_day
from tests.browser.test_board import cards, ids_in
from tests.conftest import DAY, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_suggest_lists_candidates_with_reasons_and_one_click_sends_the_best(
    open_board, dispatcher, tom, tina, make_call, skills, artifacts
):
    waiting = make_call(tom, summary="Boiler", deadline=local(16))
    call = make_call(summary="Leaking <pipe>", deadline=local(12), skills=[skills["plumbing"]])
    etas_refresh_day(day=DAY, now=local(7, 30))
    (expected,), _ = call_candidates(user=dispatcher, call_id=call.pk, now=local(7, 30))
    page = open_board(dispatcher)

    page.locator(f"#call-{call.pk} a.suggest-link").click()
    panel = page.locator("#suggest-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#suggest-title")).to_contain_text(f"#{call.pk} Leaking <pipe>")
    expect(panel.locator(".excluded")).to_contain_text("Tina: missing skill: plumbing")
    best = panel.locator(f"#candidate-{tom.pk}")
    expect(best).to_contain_text("Tom")
    page.screenshot(path=artifacts / "suggest.png")

    best.locator("button.apply").click()

    expect(page.locator(".notice.ok")).to_have_text(
        re.compile(rf"^Moved call #{call.pk} to Tom, arriving \d\d:\d\d")
    )
    expect(panel).to_have_count(0)
    moved = ServiceCall.objects.get(pk=call.pk)
    assert moved.technician_id == tom.pk
    # The suggested place: after the boiler. Both are on time either way, and going second the
    # leak keeps the boiler customer's ETA where it was (when all else ties, less shift wins).
    assert moved.position == expected.position == 1
    assert expected.shifted_calls == 0 and expected.max_shift_minutes == 0
    assert ids_in(page, cards(tom)) == [waiting.pk, call.pk]
    assert CallEvent.objects.filter(call=call, kind="assigned").count() == 1
