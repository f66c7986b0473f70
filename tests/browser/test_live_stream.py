"""Pushed updates in a real browser: the pages come from uvicorn (the board's stream is an async
view), another user's moves commit in this process, and the watching board's own clock says when
each one showed. With the stream healthy the poll runs every 15 s, so a move seen within
SEEN_WITHIN_S came by the stream; with the stream blocked the poll (twice a second) still brings
it."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page

from dispatch.models import ServiceCall
from dispatch.services.moves import call_move

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEEN_WITHIN_S = 5.0  # headroom over the figures of bench/bench_sse.py (tens of ms)

# In the watching page: note (wall-clock ms) when call `id` first sits in list `to`.
_NOTE_WHEN_SEEN_JS = """([to, id]) => {
    window.__seenAt = undefined;
    const seen = () => document.querySelector(`${to} #call-${id}`) !== null;
    const observer = new MutationObserver(() => {
        if (window.__seenAt === undefined && seen()) {
            window.__seenAt = Date.now();
            observer.disconnect();
        }
    });
    observer.observe(document.body, { childList: true, subtree: true });
}"""


@pytest.fixture
def board_server(asgi_server):
    return asgi_server


def cards(tech) -> str:
    return f"#col-{tech.pk} .cards"


def move_and_time(watcher: Page, mover, call: ServiceCall, tech) -> float:
    """Move `call` to `tech` as `mover` (committed here); seconds until `watcher` showed it,
    from before the move began, on the wall clock the browser's Date.now() reads too."""
    call.refresh_from_db()
    assert watcher.locator(f"{cards(tech)} #call-{call.pk}").count() == 0
    watcher.evaluate(_NOTE_WHEN_SEEN_JS, [cards(tech), call.pk])
    began = time.time()
    result = call_move(
        user=mover,
        call_id=call.pk,
        technician_id=tech.pk,
        position=0,
        expected_version=call.version,
    )
    assert result.applied
    # Wait well past the bound, so a slow board fails on the figure, not on a timeout.
    watcher.wait_for_function("() => window.__seenAt !== undefined", timeout=SEEN_WITHIN_S * 3_000)
    return watcher.evaluate("window.__seenAt") / 1000 - began


def test_another_board_sees_a_move_by_the_stream_within_the_bound(
    open_board, dispatcher, manager, tom, tina, make_call
):
    call = make_call(summary="Leaking pipe")
    watcher = open_board(dispatcher)
    watcher.wait_for_selector("#board[data-stream=live]")
    polls = []
    watcher.on("request", lambda r: polls.append(r.url) if "/board/columns/" in r.url else None)
    watcher.wait_for_timeout(2_000)
    assert len(polls) <= 1, "with the stream healthy the board polls every 15 s, not 2/s"
    for tech in (tom, tina, tom):
        seen = move_and_time(watcher, manager, call, tech)
        print(f"move to {tech.name}: the watching board showed it {seen * 1000:.0f} ms after")
        assert 0 <= seen < SEEN_WITHIN_S
    assert watcher.locator("#board").get_attribute("data-stream") == "live"


def test_with_the_stream_blocked_the_poll_still_brings_a_move(
    open_board, dispatcher, manager, tom, make_call
):
    call = make_call(summary="Leaking pipe")
    blocked = []

    def block_the_stream(context):
        def refuse(route):
            blocked.append(route.request.url)
            route.abort()

        context.route("**/board/events/**", refuse)

    watcher = open_board(dispatcher, before_open=block_the_stream)
    assert watcher.locator("#board").get_attribute("data-stream") == "polling"
    seen = move_and_time(watcher, manager, call, tom)
    print(f"stream blocked: the watching board showed the move {seen * 1000:.0f} ms after")
    assert 0 <= seen < SEEN_WITHIN_S
    assert blocked, "the board tried its stream"
    assert watcher.locator("#board").get_attribute("data-stream") == "polling"
