"""The board's stream (`GET /board/events/`, Server-Sent Events) over real HTTP from uvicorn
(tests/asgi_server.py) on real PostgreSQL: an event when a change to that board commits, never
before, only for that team and day (and the team's roster), the board's door, the heartbeat, and
no subscription left behind by a closed stream."""

from __future__ import annotations

import http.client
import queue
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from dispatch import live
from dispatch.models import ServiceCall
from dispatch.services.moves import call_move, call_move_within
from tests.conftest import DAY, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SOON_S = 5.0  # headroom: an event arrives in milliseconds (bench/bench_sse.py)
QUIET_S = 0.8  # how long "nothing arrives" is watched for


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Stream:
    """One open `/board/events/` response, read line by line in a thread into `items`:
    ("event", data) per event, ("comment", text) per comment line."""

    def __init__(self, base_url: str, user, query: str):
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Accept": "text/event-stream"}
        if user is not None:
            headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={session_cookie(user)}"
        self.conn.request("GET", f"/board/events/?{query}", headers=headers)
        self.response = self.conn.getresponse()
        self.sock = self.conn.sock
        self.items: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        if self.response.status == 200:
            self.reader.start()

    def _read(self) -> None:
        event = None
        try:
            while True:
                line = self.response.readline()
                if not line:
                    return
                line = line.decode().rstrip("\n")
                if line.startswith(":"):
                    self.items.put(("comment", line[1:].strip()))
                elif line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event:
                    self.items.put((event, line.split(":", 1)[1].strip()))
                    event = None
        except (OSError, ValueError, AttributeError):  # closed under the reader
            return

    def next(self, timeout: float) -> tuple[str, str] | None:
        try:
            return self.items.get(timeout=timeout)
        except queue.Empty:
            return None

    def next_event(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            item = self.next(left)
            if item is None:
                return None
            if item[0] == "board":
                return item[1]
        return None

    def opened(self) -> None:
        assert self.response.status == 200
        assert self.response.getheader("Content-Type").startswith("text/event-stream")
        assert self.next(SOON_S) == ("comment", "open")

    def close(self) -> None:
        # Shut the socket first: the reader thread, blocked in readline, then returns (closing
        # the response under it would wait for the reader's lock, until the next heartbeat).
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.conn.close()


@pytest.fixture
def streams(asgi_server):
    opened = []

    def open_(user, query: str) -> Stream:
        stream = Stream(asgi_server.url, user, query)
        opened.append(stream)
        return stream

    yield open_
    for stream in opened:
        stream.close()


def test_a_move_by_another_user_is_sent_when_it_commits_and_not_before(
    streams, dispatcher, manager, north, tom, make_call
):
    call = make_call(summary="Leaking pipe")
    stream = streams(dispatcher, f"team={north.pk}&day={DAY.isoformat()}")
    stream.opened()
    with transaction.atomic():
        result = call_move_within(
            user=manager,
            call_id=call.pk,
            technician_id=tom.pk,
            position=0,
            expected_version=call.version,
        )
        assert result.applied
        # Written, not committed: the board must not hear of it yet.
        assert stream.next_event(QUIET_S) is None
    committed = time.monotonic()
    assert stream.next_event(SOON_S) == f"{north.pk}:{DAY.isoformat()}"
    print(f"event {1000 * (time.monotonic() - committed):.0f} ms after the commit")
    assert ServiceCall.objects.get(pk=call.pk).technician_id == tom.pk


def test_a_rolled_back_move_sends_nothing(streams, dispatcher, manager, north, tom, make_call):
    call = make_call(summary="Leaking pipe")
    stream = streams(dispatcher, f"team={north.pk}&day={DAY.isoformat()}")
    stream.opened()
    with pytest.raises(RuntimeError), transaction.atomic():
        call_move_within(
            user=manager,
            call_id=call.pk,
            technician_id=tom.pk,
            position=0,
            expected_version=call.version,
        )
        raise RuntimeError("rolled back")
    assert stream.next_event(QUIET_S * 2) is None


def test_only_that_team_and_day_hear_a_move_and_the_all_teams_board_hears_every_team(
    streams, dispatcher, manager, north, south, otto, make_call
):
    call = make_call(summary="Leaking pipe", team=south)  # unassigned, south's board only
    north_board = streams(dispatcher, f"team={north.pk}&day={DAY.isoformat()}")
    other_day = streams(dispatcher, f"team={south.pk}&day=2026-03-11")
    all_teams = streams(dispatcher, f"team=all&day={DAY.isoformat()}")
    for stream in (north_board, other_day, all_teams):
        stream.opened()
    call_move(
        user=manager,
        call_id=call.pk,
        technician_id=otto.pk,
        position=0,
        expected_version=call.version,
    )
    assert all_teams.next_event(SOON_S) == f"{south.pk}:{DAY.isoformat()}"
    assert north_board.next_event(QUIET_S) is None
    assert other_day.next_event(0.1) is None


def test_a_technicians_column_change_reaches_every_day_of_the_team(streams, dispatcher, north, tom):
    stream = streams(dispatcher, f"team={north.pk}&day=2026-03-12")
    stream.opened()
    tom.status = "break"
    tom.save(update_fields=["status"])
    assert stream.next_event(SOON_S) == f"{north.pk}:{live.ROSTER_DAY}"


def test_the_boards_door_anonymous_is_sent_to_sign_in_a_roleless_user_is_refused(
    asgi_server, north
):
    nobody = make_user("nobody", None)
    for user, status in ((None, 302), (nobody, 403)):
        stream = Stream(asgi_server.url, user, f"team={north.pk}&day={DAY.isoformat()}")
        assert stream.response.status == status, user
        if status == 302:
            assert stream.response.getheader("Location").startswith("/login/")
        stream.close()


def test_a_technician_hears_their_own_teams_board_whatever_team_the_url_names(
    streams, manager, north, south, tom, otto, make_call
):
    # As the board: a technician's team is their own (the URL's team is for office roles).
    north_call, south_call = make_call(summary="North job"), make_call(summary="South job")
    stream = streams(otto.user, f"team={north.pk}&day={DAY.isoformat()}")
    stream.opened()
    call_move(
        user=manager,
        call_id=north_call.pk,
        technician_id=tom.pk,
        position=0,
        expected_version=north_call.version,
    )
    # An unteamed unassigned call showed on every board: moving it bumps south too. Only
    # events of south's board may arrive.
    got = stream.next_event(SOON_S)
    assert got == f"{south.pk}:{DAY.isoformat()}"
    call_move(
        user=manager,
        call_id=south_call.pk,
        technician_id=otto.pk,
        position=0,
        expected_version=south_call.version,
    )
    assert stream.next_event(SOON_S) == f"{south.pk}:{DAY.isoformat()}"
    while (item := stream.next(QUIET_S)) is not None:
        assert item == ("board", f"{south.pk}:{DAY.isoformat()}")


def test_an_idle_stream_gets_keep_alive_comments(streams, settings, dispatcher, north):
    settings.BOARD_STREAM_HEARTBEAT_SECONDS = 0.3
    stream = streams(dispatcher, f"team={north.pk}&day={DAY.isoformat()}")
    stream.opened()
    assert stream.next(SOON_S) == ("comment", "keep-alive")
    assert stream.next(SOON_S) == ("comment", "keep-alive")


def test_a_closed_stream_leaves_no_subscription_behind(streams, dispatcher, north):
    first = streams(dispatcher, f"team={north.pk}&day={DAY.isoformat()}")
    second = streams(dispatcher, f"team=all&day={DAY.isoformat()}")
    first.opened()
    second.opened()
    (listener,) = [found for found in live._listeners.values() if not found.loop.is_closed()]
    assert listener.streams() == 2
    first.close()
    second.close()
    deadline = time.monotonic() + SOON_S
    while listener.streams() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listener.streams() == 0


def test_a_lost_listen_connection_ends_the_streams_and_the_next_stream_listens_again(
    streams, dispatcher, manager, north, tom, make_call
):
    call = make_call(summary="Leaking pipe")
    first = streams(dispatcher, f"team={north.pk}&day={DAY.isoformat()}")
    first.opened()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query = 'LISTEN board_version'"
        )
        assert cursor.fetchall() == [(True,)]
    # The stream ends (its browser reconnects and re-reads the board) ...
    deadline = time.monotonic() + SOON_S
    while first.reader.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not first.reader.is_alive(), "the stream did not end"
    # ... and the next one hears moves again, on a new LISTEN connection.
    second = streams(dispatcher, f"team={north.pk}&day={DAY.isoformat()}")
    second.opened()
    call_move(
        user=manager,
        call_id=call.pk,
        technician_id=tom.pk,
        position=0,
        expected_version=call.version,
    )
    assert second.next_event(SOON_S) == f"{north.pk}:{DAY.isoformat()}"
