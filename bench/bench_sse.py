"""Pushed updates against polling, at the HTTP level, from a real uvicorn process.

Runs in a dedicated PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/dispatch_bench; created and migrated, then wiped and seeded
with the demo company: seed_demo --seed 1). One uvicorn process (one worker: the figures are per
process) serves `config.asgi:application` on --port. A manager's moves of one call of team North
(unassigned and back, or between two technicians) are made here with the move service; the
commit moment is taken just before the COMMIT is sent.

1. Change-to-client, --moves moves, spaced 0.3-1.2 s at random (so the poll's phase is random):
   a dispatcher's stream (`GET /board/events/`: the time the `event: board` line arrives) and a
   dispatcher's poll (`GET /board/columns/` with If-None-Match every 500 ms, as the board does
   without a stream: the time the first 200 after the commit has arrived). p50 / p95 / max.
2. --streams streams held open at once (one thread reads them all with `selectors`): the server's
   RSS before and after (per connection), PostgreSQL connections of the database, the server's CPU
   over --idle seconds with nothing changing (heartbeats only), and the fan-out: for --fanout
   moves, the time until the slowest of the streams has the event.
3. For scale: the server's CPU over --idle seconds while --pollers boards poll twice a second
   with nothing changing (what the same idle boards cost without a stream).

    python bench/bench_sse.py [--moves 30] [--streams 200] [--pollers 20] [--idle 20]
        [--fanout 10] [--port 18950]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import selectors
import socket
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "false")
os.environ.pop("REDIS_URL", None)  # background work in-process: nothing else writes the board
warnings.filterwarnings("ignore", message="No directory at")

import django

django.setup()

from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction

from bench.fleet import data_wipe, database_prepare
from bench.servers import (
    PYTHON,
    HttpSession,
    Process,
    app_env,
    gunicorn_start,
    port_free,
    session_for,
    tcp_open,
    wait_until,
)
from dispatch.models import ServiceCall
from dispatch.services.moves import call_move_within
from technicians.models import Team, Technician

TICKS = os.sysconf("SC_CLK_TCK")


def uvicorn_start(port: int, log_dir: Path) -> Process:
    if not port_free(port):
        raise SystemExit(f"port {port} is taken; pick another with --port")
    env = app_env(os.environ["DATABASE_URL"], None)
    argv = [PYTHON, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--lifespan", "off", "--log-level", "warning"]
    argv += ["--no-access-log"]
    proc = Process(f"uvicorn-{port}", argv, env, log_dir)
    if not wait_until(lambda: tcp_open(port) or not proc.alive(), timeout=60):
        proc.stop()
        raise SystemExit(f"uvicorn did not listen on {port}: {proc.log()[-2000:]}")
    return proc


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def tree_cpu(pid: int) -> float:
    """CPU seconds of `pid` and its children (gunicorn's master and workers)."""
    total = cpu_seconds(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"p50 {statistics.median(ms):7.1f} ms   p95 {pct(ms, 0.95):7.1f} ms   "
        f"max {max(ms):7.1f} ms   (n={len(ms)})"
    )


class Streams:
    """`count` raw HTTP/1.1 connections to the stream; one thread reads them all and notes, per
    connection, when each `event: board` arrived."""

    def __init__(self, port: int, sessionid: str, query: str, count: int):
        self.arrivals: list[list[float]] = [[] for _ in range(count)]
        self.socks = []
        self.selector = selectors.DefaultSelector()
        request = (
            f"GET /board/events/?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Cookie: sessionid={sessionid}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        for i in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(request)
            head = b""
            while b": open" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    raise SystemExit(f"stream {i} closed: {head[:300]!r}")
                head += chunk
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"stream {i}: {head[:300]!r}")
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, i)
            self.socks.append(sock)
        self.stopping = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self.stopping:
            for key, _ in self.selector.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                now = time.monotonic()
                for _ in range(data.count(b"event: board")):
                    self.arrivals[key.data].append(now)

    def close(self) -> None:
        self.stopping = True
        self.thread.join(timeout=5)
        for sock in self.socks:
            sock.close()


class Poller(threading.Thread):
    """A board without a stream: If-None-Match every 500 ms; notes when each 200 arrived."""

    def __init__(self, session: HttpSession, path: str, interval: float = 0.5):
        super().__init__(daemon=True)
        self.session, self.path, self.interval = session, path, interval
        self.changes: list[float] = []
        self.took: list[float] = []  # each 304's round trip
        self.requests = 0
        self.stopping = False
        self.etag = self.session.get(path).headers.get("ETag", "")

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stopping:
            answer = self.session.get(self.path, headers={"If-None-Match": self.etag})
            self.requests += 1
            if answer.status == 304:
                self.took.append(answer.seconds)
            if answer.status == 200:
                self.changes.append(time.monotonic())
                self.etag = answer.headers.get("ETag", self.etag)
            next_at += self.interval
            time.sleep(max(0.0, next_at - time.monotonic()))


class Mover:
    """One North call moved back and forth by the manager, through the move service."""

    def __init__(self, team: Team, day):
        self.manager = User.objects.get(username="manager")
        movable = ServiceCall.objects.filter(
            team=team, scheduled_day=day, status__in=["new", "assigned"]
        ).order_by("id")
        self.call = movable.filter(technician__isnull=True).first() or movable.first()
        self.techs = list(
            Technician.objects.filter(team=team).order_by("id").values_list("id", flat=True)
        )
        self.turn = 0

    def move(self) -> float:
        """Moves the call; returns the moment its COMMIT was sent (time.monotonic)."""
        committed: list[float] = []
        self.call.refresh_from_db()
        target = None if self.call.technician_id else self.techs[self.turn % len(self.techs)]
        self.turn += 1
        with transaction.atomic():
            result = call_move_within(
                user=self.manager,
                call_id=self.call.pk,
                technician_id=target,
                position=0,
                expected_version=self.call.version,
            )
            if not result.applied:
                raise SystemExit(f"the move was not applied: {result}")
            # The moment the COMMIT is sent (its round trip counts in the figures): an
            # on_commit hook runs after it returns, which a client can beat on loopback.
            committed.append(time.monotonic())
        return committed[0]


def first_after(times: list[float], moment: float) -> float | None:
    later = [t for t in times if t >= moment]
    return min(later) if later else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=30)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--fanout", type=int, default=10)
    parser.add_argument("--port", type=int, default=18950)
    args = parser.parse_args()

    name = database_prepare()
    data_wipe()
    call_command("seed_demo", "--seed", "1", "--yes-wipe-everything", stdout=io.StringIO())
    connection.close()
    team = Team.objects.get(name="North")
    day = (
        ServiceCall.objects.filter(team=team, status__in=["new", "assigned"])
        .order_by("id")
        .first()
        .scheduled_day
    )
    mover = Mover(team, day)
    sessionid = session_for(User.objects.get(username="dispatcher"))
    query = f"day={day.isoformat()}&team={team.pk}"
    print(f"database {name}; team {team.name}, day {day}; load average {os.getloadavg()}")

    log_dir = Path(tempfile.mkdtemp(prefix="bench-sse-"))
    server = uvicorn_start(args.port, log_dir)
    try:
        # 1. change-to-client: the stream against the 500 ms poll
        stream = Streams(args.port, sessionid, query, 1)
        poller = Poller(HttpSession(args.port, sessionid), f"/board/columns/?{query}&view=columns")
        poller.start()
        time.sleep(1)
        sse, poll = [], []
        for _ in range(args.moves):
            time.sleep(random.uniform(0.3, 1.2))
            commit = mover.move()
            for times in (stream.arrivals[0], poller.changes):
                wait_until(lambda t=times, c=commit: first_after(t, c) is not None, timeout=5)
            seen = first_after(stream.arrivals[0], commit)
            polled = first_after(poller.changes, commit)
            if seen is None or polled is None:
                raise SystemExit(
                    f"a client did not see a move within 5 s (stream: {seen}, poll: {polled})"
                )
            sse.append(seen - commit)
            poll.append(polled - commit)
        poller.stopping = True
        poller.join()
        stream.close()
        print(f"\nchange-to-client, {args.moves} moves (commit -> the client has it):")
        print(f"  SSE event       {summary(sse)}")
        print(f"  poll every 0.5s {summary(poll)}   (the board then still renders the 200)")

        # 2. many streams held open
        time.sleep(1)
        before = rss_kb(server.pid)
        began = time.monotonic()
        many = Streams(args.port, sessionid, query, args.streams)
        opened_in = time.monotonic() - began
        time.sleep(1)
        after = rss_kb(server.pid)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
            backends = cursor.fetchone()[0]
        cpu0 = cpu_seconds(server.pid)
        time.sleep(args.idle)
        idle_cpu = cpu_seconds(server.pid) - cpu0
        fan = []
        for _ in range(args.fanout):
            time.sleep(random.uniform(0.3, 1.0))
            commit = mover.move()

            def everyone(commit=commit) -> bool:
                return all(first_after(a, commit) is not None for a in many.arrivals)

            if not wait_until(everyone, timeout=10):
                raise SystemExit("not every stream had the event within 10 s")
            fan.append(max(first_after(a, commit) for a in many.arrivals) - commit)
        many.close()
        print(f"\n{args.streams} streams held by one uvicorn process:")
        print(
            f"  opened in {opened_in:.2f} s; server RSS {before / 1024:.1f} -> "
            f"{after / 1024:.1f} MB: {(after - before) / args.streams:.1f} kB per stream"
        )
        print(f"  PostgreSQL connections of the database from the server: {backends}")
        print(
            f"  server CPU while idle: {idle_cpu:.2f} s over {args.idle:.0f} s "
            f"({100 * idle_cpu / args.idle:.1f}% of a core)"
        )
        print(f"  fan-out, commit -> the slowest of {args.streams} has it: {summary(fan)}")

        # 3. the same boards idle, polling instead: under uvicorn, and under gunicorn (one sync
        # worker, what compose ran before) for the cost of a 304 on each
        time.sleep(1)
        idle_poll(server.pid, args, sessionid, query, args.port, "uvicorn (ASGI)")
    finally:
        server.stop()
    gunicorn = gunicorn_start(
        port=args.port + 1,
        workers=1,
        env=app_env(os.environ["DATABASE_URL"], None),
        log_dir=log_dir,
    )
    try:
        idle_poll(gunicorn.pid, args, sessionid, query, args.port + 1, "gunicorn (WSGI), 1 worker")
    finally:
        gunicorn.stop()
    print(f"\nload average at the end {os.getloadavg()}")


def idle_poll(pid: int, args, sessionid: str, query: str, port: int, served_by: str) -> None:
    path = f"/board/columns/?{query}&view=columns"
    pollers = [Poller(HttpSession(port, sessionid), path) for _ in range(args.pollers)]
    for p in pollers:
        p.start()
    time.sleep(1)
    cpu0, requests0 = tree_cpu(pid), sum(p.requests for p in pollers)
    time.sleep(args.idle)
    poll_cpu = tree_cpu(pid) - cpu0
    served = sum(p.requests for p in pollers) - requests0
    for p in pollers:
        p.stopping = True
    for p in pollers:
        p.join()
    print(f"\n{args.pollers} idle boards polling twice a second, nothing changing, {served_by}:")
    print(
        f"  {served / args.idle:.0f} requests/s; server CPU {poll_cpu:.2f} s over "
        f"{args.idle:.0f} s ({100 * poll_cpu / args.idle:.1f}% of a core; "
        f"{1000 * poll_cpu / max(served, 1):.2f} ms per 304)"
    )
    print(f"  a 304's round trip: {summary([t for p in pollers for t in p.took])}")


if __name__ == "__main__":
    main()
