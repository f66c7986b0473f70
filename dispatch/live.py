"""Pushed board updates: one `LISTEN board_version` connection per process, fanned out to the
open board streams of that process (docs/scaling.md, "Pushed updates").

The triggers of dispatch 0012 bump a `dispatch_boardversion` row in the transaction of every
change a board shows; dispatch 0016 makes each bump `NOTIFY board_version, '<team>:<day>'`, which
PostgreSQL delivers when (and only if) that transaction commits. Here the connection's socket is
watched by the event loop (`add_reader`): nothing runs while nothing changes, and a notification
wakes exactly the streams of that team and day (or of every team, for the "all teams" board).

A stream holds no database connection of its own: only its `asyncio.Queue` (one slot: a burst of
changes while the client is being written to is one event, the board re-reads itself anyway).
When the LISTEN connection is lost every stream is ended, so its browser reconnects (and
re-reads the board once), and the next stream opens a new connection.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date

import psycopg2
import psycopg2.extensions
from django.db import connections

log = logging.getLogger(__name__)

CHANNEL = "board_version"
ROSTER_DAY = "0001-01-01"  # the team's roster row (technicians' columns, on every day's board)
ALL_TEAMS = "*"


def board_keys(*, team_id: int | None, day: date) -> tuple[str, ...]:
    """The notification payloads that change the board of `team_id` (None: every team) on
    `day`: its day row and its roster row."""
    team = ALL_TEAMS if team_id is None else str(team_id)
    return (f"{team}:{day.isoformat()}", f"{team}:{ROSTER_DAY}")


class ListenerLost(Exception):
    """The LISTEN connection went away: the stream ends and its browser reconnects."""


LOST = object()  # put on every queue when the connection is lost


@dataclass
class Listener:
    """The process's LISTEN connection, bound to one event loop."""

    loop: asyncio.AbstractEventLoop
    conn: psycopg2.extensions.connection | None = None
    fd: int = -1  # the connection's socket (fileno() fails once psycopg2 saw it close)
    subscribers: dict[str, set[asyncio.Queue]] = field(default_factory=dict)
    _opening: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def subscribe(self, keys: tuple[str, ...]) -> asyncio.Queue:
        await self._ensure_open()
        queue: asyncio.Queue = asyncio.Queue(maxsize=1)
        for key in keys:
            self.subscribers.setdefault(key, set()).add(queue)
        return queue

    def unsubscribe(self, keys: tuple[str, ...], queue: asyncio.Queue) -> None:
        for key in keys:
            queues = self.subscribers.get(key)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self.subscribers[key]

    def streams(self) -> int:
        return len({id(q) for queues in self.subscribers.values() for q in queues})

    async def _ensure_open(self) -> None:
        async with self._opening:
            if self.conn is not None and not self.conn.closed:
                return
            # Connecting blocks: off the loop. The same settings as the ORM's connection (the
            # test database under tests); LISTEN needs a session, so not through a pooler in
            # transaction mode (LISTEN_DATABASE_URL points past one, docs/scaling.md).
            self.conn = await asyncio.to_thread(_connect)
            self.fd = self.conn.fileno()
            self.loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        conn = self.conn
        if conn is None:
            return
        try:
            conn.poll()
        except (psycopg2.Error, OSError) as exc:
            log.warning("board stream: the LISTEN connection was lost (%s)", exc)
            self._lost()
            return
        payloads = {n.payload for n in conn.notifies if n.channel == CHANNEL}
        conn.notifies.clear()
        if not payloads and not self._alive(conn):
            return
        for payload in payloads:
            team, _, day = payload.partition(":")
            for key in (payload, f"{ALL_TEAMS}:{day}"):
                for queue in self.subscribers.get(key, ()):
                    _offer(queue, payload)

    def _alive(self, conn) -> bool:
        """The socket woke us with no notification: psycopg2's poll() does not report a closed
        server end (a terminated backend, a restart), it leaves the socket readable for ever.
        One round trip tells; a dead connection ends this listener's streams."""
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1")
        except (psycopg2.Error, OSError) as exc:
            log.warning("board stream: the LISTEN connection was lost (%s)", exc)
            self._lost()
            return False
        return True

    def _lost(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            if not self.loop.is_closed():
                self.loop.remove_reader(self.fd)
            conn.close()
        for queue in {q for queues in self.subscribers.values() for q in queues}:
            _offer(queue, LOST, replace=True)
        self.subscribers.clear()

    def close(self) -> None:
        self._lost()


def _offer(queue: asyncio.Queue, item, *, replace: bool = False) -> None:
    if queue.full():
        if not replace:
            return  # one pending event is enough: the board re-reads everything
        queue.get_nowait()
    queue.put_nowait(item)


def _connect() -> psycopg2.extensions.connection:
    from django.conf import settings

    url = settings.LISTEN_DATABASE_URL
    if url:
        conn = psycopg2.connect(url)
    else:
        conn = psycopg2.connect(**connections["default"].get_connection_params())
    conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    with conn.cursor() as cursor:
        cursor.execute(f"LISTEN {CHANNEL}")
    return conn


_listeners: dict[asyncio.AbstractEventLoop, Listener] = {}


def listener() -> Listener:
    """This event loop's listener (one per process under uvicorn; a test server has its own)."""
    loop = asyncio.get_running_loop()
    found = _listeners.get(loop)
    if found is None:
        for old in [old for old in _listeners if old.is_closed()]:
            del _listeners[old]
        found = _listeners[loop] = Listener(loop)
    return found


def close_all() -> None:
    """Close every listener's connection (a stopped test server's, whose loop is gone)."""
    for found in list(_listeners.values()):
        found.close()
    _listeners.clear()
