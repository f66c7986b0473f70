"""The whole escalation flow in Chromium: a CSR escalates, a manager accepts with goodwill."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from dispatch.models import CallEvent, Escalation
from tests.conftest import DAY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(browser, live_server):
    contexts = []

    def open_(user, path: str):
        client = Client()
        client.force_login(user)
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(5_000)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(path)
        return page

    yield open_
    for context in contexts:
        context.close()


def test_csr_escalates_and_the_manager_accepts_with_goodwill(
    signed_in, csr, manager, tom, tina, make_call, artifacts
):
    call = make_call(tom, summary="No heat, third call today", priority="normal")

    # The CSR, with the irate customer on the phone, escalates from the call page.
    page = signed_in(csr, f"/calls/{call.pk}/")
    page.get_by_text("Escalate this call").click()
    page.select_option("#esc-reason", "complaint")
    page.fill("#esc-note", "Customer has called three times; elderly resident.")
    page.get_by_role("button", name="Escalate").click()
    page.wait_for_selector("text=a manager is in charge")
    call.refresh_from_db()
    assert call.priority == "high"

    # The manager opens the queue, sees it, and resolves: accept + free labor (T&M customer).
    desk = signed_in(manager, "/escalations/")
    assert "No heat, third call today" in desk.content()
    desk.get_by_role("link", name="Resolve").first.click()
    # The rescue options with their ripple: Tina could go (she is free); Tom holds the call.
    options = desk.locator("table.rescue-options")
    assert "Tina" in options.inner_text() and "none" in options.inner_text()
    desk.check("input[name=strategy][value=accept]")
    desk.fill("#res-resolution", "No technician can reach them before the deadline.")
    desk.fill("#res-message", "We are sorry: we will be about an hour late. Labor is on us.")
    desk.fill("#res-labor", "1.5")
    desk.locator("#resolve-form button[type=submit]").click()
    desk.wait_for_url("**/escalations/")
    desk.screenshot(path=str(artifacts / "escalations.png"), full_page=True)

    escalation = Escalation.objects.get(call=call)
    assert (escalation.status, escalation.strategy) == ("resolved", "accept")
    assert str(escalation.concession_labor_hours) == "1.50"

    # The customer message and the concession are in the call's history ...
    history = signed_in(manager, f"/calls/{call.pk}/").content()
    assert "Customer Notified" in history and "Labor is on us." in history
    assert "<strong>Concession</strong>" in history
    assert CallEvent.objects.filter(call=call, kind="concession").exists()
    assert CallEvent.objects.filter(call=call, kind="customer_notified").exists()
    # ... and in the concessions report.
    report = signed_in(manager, f"/reports/concessions/?from={DAY}&to={DAY}")
    text = report.content()
    assert "No heat, third call today" in text and "1.5" in text
