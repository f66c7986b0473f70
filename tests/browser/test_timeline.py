"""The timeline in Chromium: drags to a later place and to another technician, the ripple panel
on a harmful drop, no CSP violation and no console error, axe-core on the office and phone
pages, and screenshots of 15 and 60 technicians at two screen sizes.

Drags are the mouse's: press on the block, move in steps onto a row at a clock time, wait until
the row shows it is the drop target, release, and wait for the board's answer (the DOM, never
a sleep).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from bench.fleet import build_fleet
from dispatch.models import CallEvent, ServiceCall
from dispatch.services.etas import etas_refresh_day
from tests.browser.conftest import VIEWPORT
from tests.browser.test_board import moved, queue
from tests.browser.test_my_day import PHONE
from tests.conftest import DAY, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
TIMELINE = f"/board/?day={DAY.isoformat()}"
# Every CSP violation and every console error or uncaught exception, from before any script.
WATCH = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__problems.push(`CSP ${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


class Watched:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.console.append(f"page error: {exc}"))

    def problems(self) -> list[str]:
        return [*self.page.evaluate("() => window.__problems || []"), *self.console]


@pytest.fixture
def sign_in(browser: Browser, live_server) -> Iterator[Callable[..., Watched]]:
    contexts = []

    def open_(user, **options) -> Watched:
        options.setdefault("viewport", VIEWPORT)
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(15_000)
        context.add_init_script(WATCH)
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


def open_timeline(watched: Watched, url: str = TIMELINE) -> Page:
    page = watched.page
    response = page.goto(url)
    assert response is not None and response.status == 200
    page.wait_for_function("() => window.htmx && window.boardMoves")
    return page


def _center(box: dict) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag_to(page: Page, call: ServiceCall, tech, hour: int, minute: int = 0) -> None:
    """Hold `call`'s block over `tech`'s row at hour:minute (the mouse stays down)."""
    # Hold the board still before measuring, as a hand on the block does: a poll that redrew
    # the rows between measuring and pressing would put another block under the mouse (seen on
    # a loaded machine). The drop releases it.
    page.evaluate("() => window.boardMoves.hold()")
    x, y = _center(page.locator(f"#call-{call.pk}").bounding_box())
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 8, y + 8, steps=4)  # past the drag threshold
    timeline = page.locator("#timeline")
    start = int(timeline.get_attribute("data-start-minute"))
    steps = int(timeline.get_attribute("data-span"))
    box = page.locator(f"#row-{tech.pk} .tl-track").bounding_box()
    tx = box["x"] + box["width"] * (hour * 60 + minute - start) / (steps * 5)
    page.mouse.move(tx, box["y"] + box["height"] * 0.8, steps=10)
    expect(page.locator(f"#row-{tech.pk}.drop-target")).to_have_count(1)


def test_drag_to_a_later_place_and_to_another_technician_without_a_csp_violation_or_error(
    sign_in, dispatcher, tom, tina, make_call
):
    a, b, c = (make_call(tom, summary=s) for s in ("Alpha", "Bravo", "Charlie"))
    theirs = make_call(tina, summary="Socket")
    etas_refresh_day(day=DAY, now=local(7, 30))
    watched = sign_in(dispatcher)
    page = open_timeline(watched)

    # Alpha (08:00-09:00) to after Charlie (about 10:00-11:00) in Tom's own row.
    drag_to(page, a, tom, 11, 30)
    page.mouse.up()
    expect(page.locator(".notice.ok")).to_have_text(moved(a))
    assert queue(tom) == [b.pk, c.pk, a.pk]
    # The rows were redrawn from the new plan: Alpha now starts after Charlie.
    a.refresh_from_db()
    c.refresh_from_db()
    assert a.planned_start >= c.planned_finish
    steps = [int(page.locator(f"#call-{x.pk}").get_attribute("data-step")) for x in (b, c, a)]
    assert steps == sorted(steps)

    # Bravo to Tina's row, before her Socket call.
    drag_to(page, b, tina, 8, 0)
    page.mouse.up()
    expect(page.locator(".notice.ok")).to_have_text(moved(b))
    assert queue(tina) == [b.pk, theirs.pk] and queue(tom) == [c.pk, a.pk]
    expect(page.locator(f"#row-{tina.pk} #call-{b.pk}")).to_have_count(1)
    assert CallEvent.objects.filter(call=b, kind="moved").count() == 1
    # The keyboard path: a focused block opens its Move… panel through htmx.
    page.locator(f"#call-{theirs.pk}").focus()
    page.locator(f"#call-{theirs.pk} a.move-link").click()
    expect(page.locator("#move-panel")).to_be_visible()
    assert watched.problems() == [], "\n".join(watched.problems())


def test_a_harmful_drop_opens_the_ripple_panel_and_cancel_changes_nothing(
    sign_in, dispatcher, tom, tina, make_call, artifacts
):
    make_call(tina, summary="Socket", deadline=local(9, 30))
    big = make_call(tom, summary="Boiler", duration_minutes=120)
    etas_refresh_day(day=DAY, now=local(7, 30))
    rows_before = list(ServiceCall.objects.order_by("id").values())
    watched = sign_in(dispatcher)
    page = open_timeline(watched)

    drag_to(page, big, tina, 8, 0)
    page.mouse.up()

    panel = page.locator("#confirm-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#ripple-words")).to_contain_text("late")
    expect(panel.locator("tr.worse")).to_have_count(1)
    expect(panel.locator("#cancel-move")).to_be_focused()
    page.screenshot(path=artifacts / "timeline-ripple-panel.png")
    page.locator("#cancel-move").click()
    expect(panel).to_have_count(0)
    expect(page.locator(f"#row-{tom.pk} #call-{big.pk}")).to_have_count(1)
    assert list(ServiceCall.objects.order_by("id").values()) == rows_before
    assert watched.problems() == [], "\n".join(watched.problems())


SERIOUS_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target).join(", ")}`);
}"""


def axe_serious(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(SERIOUS_JS)


def test_axe_finds_nothing_serious_on_the_timeline_the_columns_and_the_phone_page(
    sign_in, dispatcher, tom, tina, make_call
):
    make_call(tom, summary="Boiler", window_start=local(9), deadline=local(11))
    make_call(tom, summary="Radiator", priority="emergency")
    make_call(tina, summary="Socket", deadline=local(8, 30))
    make_call(summary="Unassigned leak")
    etas_refresh_day(day=DAY, now=local(7, 30))
    # axe is injected as a script: only a context that bypasses the CSP lets it run.
    office = sign_in(dispatcher, bypass_csp=True)
    found = {}
    for url in (TIMELINE, f"{TIMELINE}&view=columns"):
        office.page.goto(url)
        found[url] = axe_serious(office.page)
    phone = sign_in(tom.user, bypass_csp=True, viewport=PHONE, has_touch=True, is_mobile=True)
    phone.page.goto("/me/")
    found["/me/"] = axe_serious(phone.page)
    assert found == {url: [] for url in found}


def _fleet(techs: int) -> None:
    fleet = build_fleet(techs=techs, calls=techs * 7, day=DAY, seed=3)
    etas_refresh_day(day=DAY, now=local(10, 15))
    return fleet


@pytest.mark.parametrize("techs", [15, 60])
def test_screenshots_at_two_sizes(sign_in, clock_at, artifacts, techs):
    clock_at(local(10, 15))
    fleet = _fleet(techs)
    for width, height in ((1440, 900), (1920, 1080)):
        watched = sign_in(fleet.dispatcher, viewport={"width": width, "height": height})
        page = open_timeline(watched, f"{TIMELINE}&team={fleet.team.pk}")
        page.screenshot(path=artifacts / f"timeline-{techs}-{width}x{height}.png")
        # The axis and the names stay in view while the rows scroll.
        timeline = page.locator("#timeline")
        axis_before = page.locator(".tl-axis").bounding_box()["y"]
        timeline.evaluate("(el) => { el.scrollTop = el.scrollHeight; el.scrollLeft = 400; }")
        assert page.locator(".tl-axis").bounding_box()["y"] == pytest.approx(axis_before, abs=1)
        name = page.locator(".tl-row .tl-name").last.bounding_box()
        assert name["x"] == pytest.approx(timeline.bounding_box()["x"] + 1, abs=2)
        assert watched.problems() == [], "\n".join(watched.problems())


def test_the_map_draws_every_call_and_the_selected_route_without_tiles_or_violations(
    sign_in, settings, dispatcher, tom, tina, make_call, artifacts
):
    settings.MAP_TILE_URL = ""  # tests run offline: markers and routes on a plain background
    for summary in ("Boiler", "Radiator"):
        make_call(tom, summary=summary)
    make_call(tina, summary="Socket")
    make_call(summary="Leak")
    tom.last_lat, tom.last_lng = 41.91, -87.66
    tom.save()
    etas_refresh_day(day=DAY, now=local(7, 30))
    watched = sign_in(dispatcher)
    page = watched.page
    page.goto(f"/board/map/?day={DAY.isoformat()}&team=all")
    page.wait_for_function("() => document.getElementById('map').dataset.ready === '1'")
    assert page.locator("#map").get_attribute("data-call-markers") == "4"
    assert page.locator("#map").get_attribute("data-routes") == "2"
    # Leaflet draws SVG: one path per call marker, technician and route.
    expect(page.locator("#map path.leaflet-interactive")).to_have_count(4 + 2 + 2)
    page.locator(f'[data-select-tech="{tom.pk}"]').click()
    expect(page.locator("#map")).to_have_attribute("data-selected-tech", str(tom.pk))
    page.screenshot(path=artifacts / "board-map.png")
    assert watched.problems() == [], "\n".join(watched.problems())
    office = sign_in(dispatcher, bypass_csp=True)
    office.page.goto(f"/board/map/?day={DAY.isoformat()}&team=all")
    assert axe_serious(office.page) == []


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1440", "375"])
def test_in_the_evening_the_timeline_opens_with_now_in_sight(
    sign_in, clock_at, dispatcher, tom, make_call, viewport
):
    """Issue 15: at 22:30 the axis opened at 06:00 with the now line and the calls still ahead
    off to the right, so the board looked empty until scrolled."""
    clock_at(local(22, 30))
    make_call(tom, summary="Late boiler")
    etas_refresh_day(day=DAY, now=local(22, 30))
    page = open_timeline(sign_in(dispatcher, viewport=viewport))
    timeline = page.locator("#timeline").bounding_box()
    names = page.locator(".tl-corner").bounding_box()
    now = page.locator("#timeline .tl-now-label").bounding_box()
    # On the phone the axis is wider than the screen (at 1440 this day fits without scrolling).
    assert names["x"] + names["width"] <= now["x"] <= timeline["x"] + timeline["width"] - 40
