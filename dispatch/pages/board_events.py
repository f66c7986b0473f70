"""`GET /board/events/?day=&team=`: the board's pushed updates, Server-Sent Events.

An async view for an ASGI server (uvicorn: `make run`, compose's web): the stream holds no
thread and no database connection, only a queue on the process's one LISTEN connection
(dispatch/live.py). It sends `event: board` with `data: <team>:<day>` when a change to that
board commits; the board then asks its poll at once (a 200 with the new part, or a 304 when the
change was its own). Between events a comment every BOARD_STREAM_HEARTBEAT_SECONDS keeps proxies
from closing the connection. The door is the poll's: whoever may see that board (the team and
day are resolved as the board resolves them, so a technician hears their own team's board).

Without PostgreSQL (SQLite: no triggers, no NOTIFY), or under a WSGI server (gunicorn,
runserver, pytest-django's live_server: a held stream would hold a thread), it answers 204 after
the door, which tells EventSource not to reconnect; the board keeps polling as it always did.
"""

from __future__ import annotations

import asyncio
from datetime import date

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import connection, connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from common.errors import DispatchError
from dispatch import live
from dispatch.pages.board import _day, _team
from dispatch.selectors.board import board_door

RETRY_MS = 3000  # EventSource's own reconnect delay after a dropped stream


def _door(request: HttpRequest) -> HttpResponse | tuple[int | None, date]:
    """The board's door, in a worker thread (roles may read the database). Under ASGI its
    connection is closed before the stream starts: a held stream keeps no database connection
    (under WSGI the answer is a 204 and the request's own ending looks after it)."""
    try:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            board_door(user)
        except DispatchError as exc:
            return HttpResponse(exc.message, status=exc.status_code)
        team = _team(request)
        return (team.pk if team else None, _day(request))
    finally:
        if hasattr(request, "scope"):  # ASGI: this thread is the request's own
            connections.close_all()


@login_required
@require_GET
async def board_events(request: HttpRequest) -> HttpResponse:
    door = await sync_to_async(_door)(request)
    if isinstance(door, HttpResponse):
        return door
    if connection.vendor != "postgresql" or not hasattr(request, "scope"):
        return HttpResponse(status=204)  # no NOTIFY, or no ASGI server: the board polls
    team_id, day = door
    listener = live.listener()
    keys = live.board_keys(team_id=team_id, day=day)
    try:
        queue = await listener.subscribe(keys)
    except Exception:  # PostgreSQL unreachable: the board polls; EventSource retries later
        return HttpResponse("Live updates are unavailable; the board polls.", status=503)
    response = StreamingHttpResponse(
        _events(listener, keys, queue), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


async def _events(listener: live.Listener, keys: tuple[str, ...], queue: asyncio.Queue):
    heartbeat = settings.BOARD_STREAM_HEARTBEAT_SECONDS
    try:
        yield f"retry: {RETRY_MS}\n: open\n\n"
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), heartbeat)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is live.LOST:
                return  # the browser reconnects and re-reads the board
            yield f"event: board\ndata: {item}\n\n"
    finally:
        listener.unsubscribe(keys, queue)
