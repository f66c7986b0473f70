"""Debian's Chromium through Playwright against pytest-django's live_server (a module can serve
the pages from uvicorn instead, by overriding `board_server` with `asgi_server`: the board's
stream needs an ASGI server; under live_server it answers 204 and the board polls).

`playwright install` cannot download browsers here, so the session launches /usr/bin/chromium.
Each test signs people in by handing the browser a session cookie made with `force_login` (or,
`sign_in`, through the sign-in form as a person does), and fixes the services' clock at 07:30 on
DAY (live_server runs in this process, in a thread).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import DAY, PASSWORD, local

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORT = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium (Playwright cannot download here)"
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(autouse=True)
def _morning_of_the_day(clock_at):
    clock_at(local(7, 30))


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def board_server(live_server):
    """What serves the pages: live_server (WSGI), unless a module overrides this fixture."""
    return live_server


@pytest.fixture
def open_board(browser: Browser, board_server) -> Iterator[Callable[..., Page]]:
    """`open_board(user)`: a fresh browser context signed in as `user`, showing DAY's board.
    `before_open(context)` runs before the page is opened (e.g. to block a URL)."""
    live_server = board_server
    contexts = []

    def open_(
        user,
        *,
        team: str | None = None,
        timeout: float = 5_000,
        before_open: Callable[[BrowserContext], None] | None = None,
    ) -> Page:
        client = Client()
        client.force_login(user)
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
        context.set_default_timeout(timeout)
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
        if before_open is not None:
            before_open(context)
        page = context.new_page()
        # The column board (the timeline, office roles' default, has tests of its own).
        url = f"/board/?day={DAY.isoformat()}&view=columns" + (f"&team={team}" if team else "")
        page.goto(url)
        # Deferred scripts ran at `load`; wait until every list is a Sortable.
        page.wait_for_function(
            "() => window.Sortable && window.htmx && [...document.querySelectorAll("
            "'#board-columns .cards')].every((el) => Sortable.get(el))"
        )
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def sign_in(browser: Browser, board_server) -> Iterator[Callable[..., Page]]:
    """`sign_in(user, phone=False)`: a fresh context (1440x900, or a 375x812 touch phone) that
    signed in through the sign-in form with the user's password; returns the page it landed on
    (the role's home: /me/ for a technician, the board for the office)."""
    live_server = board_server
    contexts = []

    def open_(user, *, phone: bool = False, timeout: float = 5_000) -> Page:
        extra = {"has_touch": True, "is_mobile": True} if phone else {}
        context = browser.new_context(
            base_url=live_server.url, viewport=PHONE if phone else VIEWPORT, **extra
        )
        context.set_default_timeout(timeout)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login/")
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    yield open_
    for context in contexts:
        context.close()
