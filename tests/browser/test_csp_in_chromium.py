"""No Content-Security-Policy violation anywhere a person goes, in a real Chromium.

Every page is opened with a listener for `securitypolicyviolation` events (installed before any
page script runs) and the console is watched for "Refused to ..." errors, which is how Chromium
reports a blocked script, style, eval or frame. The board is also used (a drag that moves a call
and an htmx swap), since swapped-in fragments are where inline code would sneak in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from dispatch.models import Escalation
from dispatch.services.etas import etas_refresh_day
from dispatch.services.handoffs import handoff_offer
from tests.browser.conftest import VIEWPORT
from tests.browser.test_board import cards, drag, drop_and_wait, queue
from tests.browser.test_my_day import PHONE
from tests.conftest import DAY, PASSWORD, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watched:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console.append(f"page error: {exc}"))

    def _console(self, message) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused" in text):
            self.console.append(text)

    def violations(self) -> list[str]:
        in_page = self.page.evaluate("() => window.__cspViolations || []")
        return [*in_page, *self.console]


@pytest.fixture
def visit(browser: Browser, live_server) -> Iterator[Callable[..., Watched]]:
    contexts = []

    def open_(user: User | None, **device) -> Watched:
        device.setdefault("viewport", VIEWPORT)
        context = browser.new_context(base_url=live_server.url, **device)
        context.set_default_timeout(8_000)
        context.add_init_script(WATCH)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
        contexts.append(context)
        return Watched(context.new_page())

    yield open_
    for context in contexts:
        context.close()


def go(watched: Watched, url: str) -> Page:
    response = watched.page.goto(url)
    assert response is not None and response.status == 200, url
    assert "default-src 'self'" in response.headers["content-security-policy"]
    watched.page.wait_for_load_state("load")
    return watched.page


def test_the_board_and_a_drag_run_without_a_csp_violation(visit, dispatcher, tom, tina, make_call):
    first, theirs = make_call(tom, summary="Boiler"), make_call(tina, summary="Socket")
    etas_refresh_day(day=DAY, now=local(7, 30))
    watched = visit(dispatcher)
    page = go(watched, f"/board/?day={DAY.isoformat()}&view=columns")
    page.wait_for_function(
        "() => window.Sortable && window.htmx && [...document.querySelectorAll("
        "'#board-columns .cards')].every((el) => Sortable.get(el))"
    )
    drag(page, first, cards(tina), before=theirs)
    drop_and_wait(page, first)
    assert queue(tina) == [first.pk, theirs.pk]
    # A keyboard "Move…" panel is an htmx swap of its own.
    page.locator(f"#call-{theirs.pk} a.move-link").click()
    expect(page.locator("#move-panel")).to_be_visible()
    assert watched.violations() == [], "\n".join(watched.violations())


def test_the_main_pages_run_without_a_csp_violation(visit, dispatcher, manager, tom, make_call):
    call = make_call(tom, summary="Leaking boiler")
    escalation = Escalation.objects.create(call=call, reason="complaint", raised_by=dispatcher)
    etas_refresh_day(day=DAY, now=local(7, 30))
    watched = visit(manager)
    for url in [
        f"/calls/{call.pk}/",
        "/escalations/",
        f"/escalations/{escalation.pk}/",
        "/dashboard/",
        f"/reports/concessions/?from={DAY}&to={DAY}",
    ]:
        go(watched, url)
    assert watched.violations() == [], "\n".join(watched.violations())


def test_the_sign_in_and_tracking_pages_run_without_a_csp_violation(visit, dispatcher, make_call):
    call = make_call(summary="Leaking boiler")
    watched = visit(None)
    page = go(watched, "/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/board/**")
    go(watched, f"/track/{call.tracking_token}/")
    assert watched.violations() == [], "\n".join(watched.violations())


def test_the_technicians_day_runs_without_a_csp_violation_on_a_phone(
    visit, clock_at, tom, tina, make_call
):
    clock_at(local(7, 30))
    mine, offered = make_call(tom, summary="Leaking boiler"), make_call(tom, summary="Drain")
    etas_refresh_day(day=DAY, now=local(7, 30))
    handoff_offer(
        user=tom.user, call_id=offered.pk, to_technician_id=tina.pk,
        expected_version=offered.version, note="Running late", now=local(7, 30),
    )  # fmt: skip
    phone = {"viewport": PHONE, "has_touch": True, "is_mobile": True}
    for user, urls in [
        (tom.user, ["/me/", f"/me/calls/{mine.pk}/handoff/"]),
        (tina.user, ["/me/"]),  # with the offer to answer
    ]:
        watched = visit(user, **phone)
        for url in urls:
            go(watched, url)
        assert watched.violations() == [], "\n".join(watched.violations())


def test_booking_and_suggestions_run_without_a_csp_violation(
    visit, clock_at, csr, dispatcher, tom, customer, make_call
):
    clock_at(local(7, 30))
    call = make_call(summary="Leaking boiler")
    watched = visit(csr)
    page = go(watched, f"/book/?customer={customer.pk}")
    page.fill("input[name=duration_minutes]", "60")
    with page.expect_navigation():
        page.click("#find-windows")
    assert watched.violations() == [], "\n".join(watched.violations())
    watched = visit(dispatcher)
    go(watched, f"/calls/{call.pk}/suggest/")
    assert watched.violations() == [], "\n".join(watched.violations())


def test_the_api_docs_render_without_a_csp_violation(visit, dispatcher):
    watched = visit(dispatcher)
    page = go(watched, "/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Dispatch board API")
    page.locator(".opblock-summary").first.click()  # expanding an operation renders more UI
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert watched.violations() == [], "\n".join(watched.violations())


def test_the_admin_runs_without_a_csp_violation(visit, make_call):
    make_call(summary="Leaking boiler")
    staff = User.objects.create_superuser("root-admin", password=PASSWORD)
    watched = visit(staff)
    for url in ["/admin/", "/admin/dispatch/servicecall/", "/admin/auth/user/add/"]:
        go(watched, url)
    assert watched.violations() == [], "\n".join(watched.violations())


def test_the_watch_sees_a_violation_when_there_is_one(visit, dispatcher):
    # The listener is real: an inline script injected into a served page is reported.
    watched = visit(dispatcher)
    page = go(watched, "/dashboard/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = '1'; "
        "document.body.appendChild(s); }"
    )
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert any("script-src" in v for v in watched.violations())
