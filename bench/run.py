"""Every budget in one table: median, p95, p99 of each measure beside a same-run baseline.

    python bench/run.py [--techs 60] [--calls 600] [--runs 30] [--warmup 5]
                        [--fleet-techs 2000] [--fleet-calls 20000] [--quick] [--port 18900]
                        [--scaleout [--scaleout-workers 1,2,4] [--scaleout-teams 20]]

Builds a synthetic company (bench/fleet.py, seed 1) in its own database (BENCH_DATABASE_URL,
default .../dispatch_bench; refused unless its name holds "bench"; wiped), starts gunicorn (two
sync workers, like production) on --port, and measures over HTTP on loopback as the dispatcher:

- board GET /board/ vs one raw SQL fetch of the same rows rendered by plain string formatting;
- move POST /board/move/ (htmx, confirm=1) vs a raw psycopg2 transaction making the same row
  changes (lock both technicians in id order, lock and check the call, read both queues, one
  UPDATE .. FROM (VALUES ..) of every row of both queues, the event), at 1 and 8 clients (each
  client its own call between its own pair of technicians);
- ripple preview POST /api/v1/calls/{id}/move/preview/ (target: under 30 ms) vs the raw reads;
- an unchanged board's poll, GET /board/columns/ with If-None-Match -> 304 (under 5 ms) vs its
  two aggregate queries in raw SQL;
- API list GET /api/v1/calls/?page_size=200 vs `.values()` + JsonResponse of the same 200 rows;
- fleet recompute (etas_refresh_day) at --fleet-techs x --fleet-calls (--quick: 200 x 2,000) vs
  raw reads and UPDATE .. FROM (VALUES ..) of the same changed rows (bench_recompute.py);
- the ETA engine's stops/s on the Solomon routes vs the same arithmetic vectorised with NumPy;
- candidates for one call (200 x 10), by bench/bench_candidates.py when that file exists;
- the day planner, by ``bench/bench_plan.py --quick`` (its own database; ``--skip plan``);
- with ``--scaleout``: the day's recompute split into per-team Celery tasks on 1, 2 and 4 worker
  processes (``--scaleout-workers``) at the fleet size in ``--scaleout-teams`` teams, against the
  same day recomputed in this one process (bench_scaleout.py; ``--scaleout-broker``).

Measure and baseline alternate run by run (the machine is shared; the ratio is the figure).
Query counts come from one untimed run in this process through Django's test client.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "false")
warnings.filterwarnings("ignore", message="No directory at")

import django

django.setup()

import numpy as np
import psycopg2
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.http import JsonResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import bench_eta, bench_recompute, bench_scaleout
from bench.fleet import build_fleet, data_wipe, database_prepare
from bench.raw_events import raw_event_insert
from bench.servers import HttpSession, app_env, gunicorn_start, session_for
from dispatch.models import ServiceCall
from dispatch.services.etas import etas_refresh_day
from technicians.models import Team

# --- statistics and the table ------------------------------------------------------------------


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * q
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


@dataclass
class Row:
    name: str
    measured: list[float]  # ms (or seconds per unit for throughput rows, see `unit`)
    baseline: list[float]
    baseline_name: str
    target: str = ""
    met: bool | None = None
    queries: str = ""
    note: str = ""
    unit: str = "ms"

    def cells(self) -> list[str]:
        m, b = self.measured, self.baseline
        stats = [f"{pct(s, q):.1f}" if s else "" for s in (m, b) for q in (0.5, 0.95, 0.99)]
        r50 = f"{pct(m, 0.5) / pct(b, 0.5):.2f}x" if m and b else ""
        r99 = f"{pct(m, 0.99) / pct(b, 0.99):.2f}x" if m and b else ""
        verdict = "" if self.met is None else ("ok" if self.met else "MISSED")
        return [self.name, str(len(m)), *stats[:3], self.baseline_name, *stats[3:], r50, r99] + [
            f"{self.target} {verdict}".strip(),
            self.queries,
            self.note,
        ]


HEADER = [
    "measure",
    "n",
    "p50",
    "p95",
    "p99",
    "baseline",
    "p50",
    "p95",
    "p99",
    "ratio p50",
    "ratio p99",
    "target",
    "queries",
    "notes",
]


def table(rows: list[Row]) -> str:
    lines = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    left = {0, 5, 11, 13}
    out = []
    for line in lines:
        cells = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def alternate(measure: Callable[[], float], baseline: Callable[[], float], runs: int, warmup: int):
    """Run both `warmup` times untimed, then `runs` times each, alternating; ms lists."""
    for _ in range(warmup):
        measure(), baseline()
    m, b = [], []
    for _ in range(runs):
        m.append(measure() * 1000)
        b.append(baseline() * 1000)
    return m, b


def timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def count_queries(fn: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


# --- the company and its moves -----------------------------------------------------------------


@dataclass
class Lane:
    """One client's move: a call shuttling between two technicians' queues."""

    call_id: int
    techs: tuple[int, int]
    position: int = 2


def lanes_pick(team: Team, day: date, count: int) -> list[Lane]:
    rows = (
        ServiceCall.objects.filter(
            technician__team=team, scheduled_day=day, status__in=ServiceCall.QUEUED_STATUSES
        )
        .order_by("technician_id", "position")
        .values_list("technician_id", "id", "status")
    )
    queues: dict[int, list[tuple[int, str]]] = {}
    for tech_id, call_id, status in rows:
        queues.setdefault(tech_id, []).append((call_id, status))
    techs = sorted(t for t in queues if len(queues[t]) >= 4)
    lanes = []
    for a, b in zip(techs[0::2], techs[1::2], strict=False):
        middle = queues[a][len(queues[a]) // 2 :]
        call = next((c for c, s in middle if s == "assigned"), None)
        if call:
            lanes.append(Lane(call, (a, b)))
        if len(lanes) == count:
            return lanes
    raise SystemExit(f"the fleet has too few queues for {count} move lanes")


def lane_state(lane: Lane) -> tuple[int, int]:
    """(the other technician, the call's version): where the next move sends it."""
    tech, version = ServiceCall.objects.values_list("technician_id", "version").get(pk=lane.call_id)
    return (lane.techs[1] if tech == lane.techs[0] else lane.techs[0]), version


# --- raw baselines (psycopg2, no Django) ------------------------------------------------------

RAW_QUEUES = """
    SELECT c.id, c.technician_id, c.position, s.lat, s.lng, c.duration_minutes, c.window_start,
           c.deadline, c.status, c.eta, c.planned_start, c.planned_finish, c.slack_minutes,
           c.risk, c.overtime, c.version
    FROM dispatch_servicecall c JOIN customers_site s ON s.id = c.site_id
    WHERE c.technician_id IN (%s, %s) AND c.scheduled_day = %s
      AND c.status IN ('assigned', 'en_route', 'on_site')
    ORDER BY c.technician_id, c.position
"""
RAW_ROW = "(%s, %s, %s, %s::timestamptz, %s::timestamptz, %s::timestamptz, %s, %s)"
RAW_UPDATE = """
    UPDATE dispatch_servicecall AS c SET technician_id = v.tech, position = v.pos,
        eta = v.eta + interval '1 second', planned_start = v.ps + interval '1 second',
        planned_finish = v.pf + interval '1 second', slack_minutes = v.slack, risk = v.risk,
        eta_computed_at = now(),
        version = c.version + CASE WHEN c.id = %s THEN 1 ELSE 0 END,
        updated_at = CASE WHEN c.id = %s THEN now() ELSE c.updated_at END
    FROM (VALUES {rows}) AS v (id, tech, pos, eta, ps, pf, slack, risk)
    WHERE c.id = v.id
"""


def pg_connect() -> psycopg2.extensions.connection:
    db = settings.DATABASES["default"]
    return psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )


def raw_move(conn, lane: Lane, day: date, actor_id: int) -> None:
    """The move at its barest, same rows changed: both queues rewritten, the call moved, logged."""
    with conn, conn.cursor() as cur:
        a, b = sorted(lane.techs)
        cur.execute(
            "SELECT id FROM technicians_technician WHERE id IN (%s, %s) ORDER BY id FOR UPDATE",
            [a, b],
        )
        cur.execute(
            "SELECT technician_id, version FROM dispatch_servicecall WHERE id = %s FOR UPDATE",
            [lane.call_id],
        )
        source, _version = cur.fetchone()
        target = lane.techs[1] if source == lane.techs[0] else lane.techs[0]
        cur.execute(RAW_QUEUES, [a, b, day])
        rows = cur.fetchall()
        queues = {source: [r for r in rows if r[1] == source and r[0] != lane.call_id]}
        queues[target] = [r for r in rows if r[1] == target]
        moved = next(r for r in rows if r[0] == lane.call_id)
        queues[target].insert(min(lane.position, len(queues[target])), moved)
        values = [
            (r[0], tech, pos, r[9], r[10], r[11], r[12], r[13])
            for tech, queue in queues.items()
            for pos, r in enumerate(queue)
        ]
        sql = RAW_UPDATE.format(rows=", ".join([RAW_ROW] * len(values)))
        cur.execute(sql, [lane.call_id, lane.call_id, *(v for row in values for v in row)])
        payload = {"before": {"technician": source}, "after": {"technician": target}}
        raw_event_insert(
            cur, call_id=lane.call_id, actor_id=actor_id, kind="moved", payload=payload
        )


def raw_preview(conn, lane: Lane, day: date) -> None:
    """What a preview must read, in a transaction that writes nothing."""
    with conn, conn.cursor() as cur:
        a, b = sorted(lane.techs)
        cur.execute(
            "SELECT id FROM technicians_technician WHERE id IN (%s, %s) ORDER BY id FOR UPDATE",
            [a, b],
        )
        cur.execute(
            "SELECT technician_id, version FROM dispatch_servicecall WHERE id = %s FOR UPDATE",
            [lane.call_id],
        )
        cur.fetchone()
        cur.execute(RAW_QUEUES, [a, b, day])
        cur.fetchall()
        conn.rollback()


RAW_BOARD = """
    SELECT c.id, c.technician_id, t.name, t.status, c.summary, c.priority, c.version,
           c.deadline, c.eta, c.risk, cu.name
    FROM dispatch_servicecall c
    JOIN customers_customer cu ON cu.id = c.customer_id
    LEFT JOIN technicians_technician t ON t.id = c.technician_id
    WHERE c.scheduled_day = %s AND c.status IN ('new', 'assigned', 'en_route', 'on_site')
      AND (t.team_id = %s OR c.technician_id IS NULL)
    ORDER BY c.technician_id NULLS FIRST, c.position, c.id
"""
CARD = (
    '<article class="card risk-{risk}" id="call-{id}" data-version="{version}">'
    "<h3>#{id} {summary}</h3><p>{customer}</p><p>{priority} Due {deadline} ETA {eta}</p>"
    "</article>"
)


def raw_board(conn, day: date, team_id: int) -> str:
    """One query, plain string formatting: the floor for rendering the same board."""
    from html import escape

    with conn, conn.cursor() as cur:
        cur.execute(RAW_BOARD, [day, team_id])
        columns: dict[object, list[str]] = {}
        names: dict[object, str] = {}
        for cid, tid, tname, tstatus, summary, prio, version, deadline, eta, risk, cust in cur:
            names[tid] = f"{escape(tname or 'Unassigned')} {tstatus or ''}"
            columns.setdefault(tid, []).append(
                CARD.format(
                    id=cid,
                    risk=risk,
                    version=version,
                    summary=escape(summary),
                    customer=escape(cust),
                    priority=prio,
                    deadline=deadline and timezone.localtime(deadline).strftime("%H:%M"),
                    eta=eta and timezone.localtime(eta).strftime("%H:%M"),
                )
            )
    return "".join(
        f'<section class="column"><h2>{names[tid]}</h2>{"".join(cards)}</section>'
        for tid, cards in columns.items()
    )


def raw_poll(conn, day: date, team_id: int) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(c.id), max(c.updated_at), max(c.eta_computed_at)"
            " FROM dispatch_servicecall c"
            " LEFT JOIN technicians_technician t ON t.id = c.technician_id"
            " WHERE c.scheduled_day = %s AND (t.team_id = %s OR c.technician_id IS NULL)",
            [day, team_id],
        )
        cur.fetchone()
        cur.execute(
            "SELECT count(id), max(updated_at) FROM technicians_technician WHERE team_id = %s",
            [team_id],
        )
        cur.fetchone()


API_FIELDS = [
    "id",
    "customer_id",
    "customer__name",
    "site_id",
    "site__address",
    "summary",
    "description",
    "priority",
    "duration_minutes",
    "window_start",
    "deadline",
    "scheduled_day",
    "status",
    "technician_id",
    "technician__name",
    "position",
    "eta",
    "planned_start",
    "planned_finish",
    "slack_minutes",
    "risk",
    "overtime",
    "reschedule_count",
    "version",
]


def values_list_response(day: date) -> bytes:
    rows = list(
        ServiceCall.objects.filter(scheduled_day=day).order_by("id").values(*API_FIELDS)[:200]
    )
    return JsonResponse({"count": len(rows), "results": rows}).content


# --- the HTTP side ------------------------------------------------------------------------------


class Bench:
    def __init__(self, args, team: Team, dispatcher: User, day: date):
        self.args, self.team, self.dispatcher, self.day = args, team, dispatcher, day
        self.lanes = lanes_pick(team, day, 8)
        self.session = HttpSession(args.port, session_for(dispatcher))
        self.client = Client()
        self.client.force_login(dispatcher)
        self.qs = f"day={day.isoformat()}&team={team.pk}"

    # one request each, returning seconds; the answers are checked, a wrong one stops the run
    def board(self) -> float:
        answer = self.session.get(f"/board/?{self.qs}")
        assert answer.status == 200, answer.status
        return answer.seconds

    def move(self, lane: Lane) -> float:
        target, version = lane_state(lane)  # untimed: only the HTTP round trip is measured
        form = {
            "call": lane.call_id,
            "technician": target,
            "position": lane.position,
            "expected_version": version,
            "confirm": "1",
            "day": self.day.isoformat(),
            "team": self.team.pk,
        }
        answer = self.session.post("/board/move/", form=form, headers={"HX-Request": "true"})
        assert answer.status == 200 and b"Moved call" in answer.body, (answer.status, answer.body)
        return answer.seconds

    def preview(self, lane: Lane) -> float:
        target, version = lane_state(lane)
        body = {"technician": target, "position": lane.position, "expected_version": version}
        answer = self.session.post(f"/api/v1/calls/{lane.call_id}/move/preview/", body=body)
        assert answer.status == 200, (answer.status, answer.body[:300])
        return answer.seconds

    def poll(self, etag: str) -> float:
        answer = self.session.get(f"/board/columns/?{self.qs}", headers={"If-None-Match": etag})
        assert answer.status == 304, f"the board changed while polling: {answer.status}"
        return answer.seconds

    def api_list(self) -> float:
        answer = self.session.get(f"/api/v1/calls/?day={self.day.isoformat()}&page_size=200")
        assert answer.status == 200 and len(answer.json()["results"]) == 200, answer.status
        return answer.seconds

    def etag(self) -> str:
        return self.session.get(f"/board/columns/?{self.qs}").headers["ETag"]


def move_pair_timings(bench: Bench, conn) -> tuple[Callable[[], float], Callable[[], float]]:
    lane = bench.lanes[0]
    return (
        lambda: bench.move(lane),
        lambda: timed(lambda: raw_move(conn, lane, bench.day, bench.dispatcher.pk)),
    )


def concurrent_moves(bench: Bench, clients: int, rounds: int, per_round: int):
    """`clients` threads, each moving its own lane: HTTP rounds and raw rounds alternate."""
    http_ms: list[float] = []
    raw_ms: list[float] = []
    conns = [pg_connect() for _ in range(clients)]
    errors: list[BaseException] = []

    def http_client(lane: Lane) -> None:
        try:
            for _ in range(per_round):
                http_ms.append(bench.move(lane) * 1000)
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            errors.append(exc)
        finally:
            connection.close()

    def raw_client(lane: Lane, conn) -> None:
        try:
            for _ in range(per_round):
                raw_ms.append(
                    timed(lambda: raw_move(conn, lane, bench.day, bench.dispatcher.pk)) * 1000
                )
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            errors.append(exc)

    try:
        for _ in range(rounds):
            for target, extra in ((http_client, ()), (raw_client, None)):
                threads = [
                    threading.Thread(
                        target=target, args=(lane, *(extra if extra is not None else (conns[i],)))
                    )
                    for i, lane in enumerate(bench.lanes[:clients])
                ]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                if errors:
                    raise errors[0]
    finally:
        for conn in conns:
            conn.close()
    return http_ms, raw_ms


def http_rows(bench: Bench, args) -> list[Row]:
    runs, warmup = args.runs, args.warmup
    conn = pg_connect()
    rows: list[Row] = []
    lane = bench.lanes[0]
    board_q = count_queries(lambda: bench.client.get(f"/board/?{bench.qs}"))
    page = bench.client.get(f"/board/?{bench.qs}").content
    m, b = alternate(
        bench.board, lambda: timed(lambda: raw_board(conn, bench.day, bench.team.pk)), runs, warmup
    )
    rows.append(
        Row(
            f"board GET {args.techs}x{args.calls}",
            m,
            b,
            "raw SQL + str.format",
            "p50 <= 3x",
            pct(m, 0.5) <= 3 * pct(b, 0.5),
            str(board_q),
            f"{len(page) / 1024:.0f} KB",
        )
    )

    target, version = lane_state(lane)
    move_form = {
        "call": lane.call_id,
        "technician": target,
        "position": lane.position,
        "expected_version": version,
        "confirm": "1",
        "day": bench.day.isoformat(),
        "team": bench.team.pk,
    }
    move_q = count_queries(
        lambda: bench.client.post("/board/move/", move_form, headers={"HX-Request": "true"})
    )
    m, b = alternate(*move_pair_timings(bench, conn), runs * 3, warmup)
    rows.append(
        Row(
            "move POST, 1 client",
            m,
            b,
            "raw psycopg2 txn",
            "p50 3x, p99 5x",
            pct(m, 0.5) <= 3 * pct(b, 0.5) and pct(m, 0.99) <= 5 * pct(b, 0.99),
            str(move_q),
            "board htmx move; same rows",
        )
    )
    rounds = max(2, runs // 6)
    m, b = concurrent_moves(bench, 8, rounds, per_round=max(3, runs // 6))
    rows.append(
        Row(
            "move POST, 8 clients",
            m,
            b,
            "raw txn, 8 clients",
            "p50 3x, p99 5x",
            pct(m, 0.5) <= 3 * pct(b, 0.5) and pct(m, 0.99) <= 5 * pct(b, 0.99),
            str(move_q),
            f"gunicorn {args.web_workers} workers",
        )
    )

    target, version = lane_state(lane)
    preview_q = count_queries(
        lambda: bench.client.post(
            f"/api/v1/calls/{lane.call_id}/move/preview/",
            {"technician": target, "position": lane.position, "expected_version": version},
            content_type="application/json",
        )
    )
    m, b = alternate(
        lambda: bench.preview(lane),
        lambda: timed(lambda: raw_preview(conn, lane, bench.day)),
        runs,
        warmup,
    )
    rows.append(
        Row(
            "ripple preview (API)",
            m,
            b,
            "raw locks + reads",
            "p50 < 30 ms",
            pct(m, 0.5) < 30,
            str(preview_q),
        )
    )

    etag = bench.etag()
    poll_q = count_queries(
        lambda: bench.client.get(f"/board/columns/?{bench.qs}", headers={"If-None-Match": etag})
    )
    m, b = alternate(
        lambda: bench.poll(etag),
        lambda: timed(lambda: raw_poll(conn, bench.day, bench.team.pk)),
        runs * 3,
        warmup,
    )
    rows.append(
        Row(
            "unchanged poll (304)",
            m,
            b,
            "raw 2 aggregates",
            "p50 < 5 ms",
            pct(m, 0.5) < 5,
            str(poll_q),
        )
    )

    list_url = f"/api/v1/calls/?day={bench.day.isoformat()}&page_size=200"
    list_q = count_queries(lambda: bench.client.get(list_url))
    m, b = alternate(
        bench.api_list, lambda: timed(lambda: values_list_response(bench.day)), runs, warmup
    )
    rows.append(
        Row(
            "API list, 200 calls",
            m,
            b,
            ".values()+JsonResponse",
            "p50 <= 2x",
            pct(m, 0.5) <= 2 * pct(b, 0.5),
            str(list_q),
        )
    )
    conn.close()
    return rows


# --- recompute, engine, candidates ---------------------------------------------------------------


def recompute_row(args) -> Row:
    techs, calls = (200, 2000) if args.quick else (args.fleet_techs, args.fleet_calls)
    data_wipe()
    sc = bench_recompute.fleet_scenario(techs, calls)
    runs = args.recompute_runs
    bench_recompute.recompute(sc, 0)  # fills the empty ETAs (warm-up)
    with CaptureQueriesContext(connection) as queries:
        bench_recompute.recompute(sc, 1)
    series = bench_recompute.timed_runs(sc, runs)
    m = [s * 1000 for s in series["service"]]
    b = [s * 1000 for s in series["raw"]]
    rows_written = statistics.median(series["rows"])
    return Row(
        f"fleet recompute {techs}x{calls}",
        m,
        b,
        "raw reads + UPDATE..VALUES",
        "p50 <= 1.5x",
        pct(m, 0.5) <= 1.5 * pct(b, 0.5),
        str(len(queries)),
        f"{rows_written:.0f} rows written per run",
    )


def scaleout_rows(args) -> list[Row]:
    techs, calls = (200, 2000) if args.quick else (args.fleet_techs, args.fleet_calls)
    workers = [int(n) for n in args.scaleout_workers.split(",")]
    _, series, written = bench_scaleout.scaleout(
        techs=techs, calls=calls, teams=args.scaleout_teams, workers=workers,
        runs=args.recompute_runs, broker=args.scaleout_broker, timeout=600,
    )  # fmt: skip
    one = series[0][0].median
    rows = []
    for s, beside in series:
        busy = statistics.median(p / w for p, w in zip(s.in_parts, s.seconds, strict=True))
        rows.append(
            Row(
                f"split recompute {techs}x{calls}, {s.label.split(', ')[1]}",
                [x * 1000 for x in s.seconds],
                [x * 1000 for x in beside.seconds],
                "etas_refresh_day in-process",
                "",
                None,
                "",
                f"{one / s.median:.2f}x of 1 worker; {busy:.2f} processes busy;"
                f" {written} calls, {args.scaleout_teams} teams",
            )
        )
    return rows


def fleet_poll_row(args) -> Row:
    """The unchanged poll at the fleet's size (the company recompute_row left in the database):
    it must not grow with the company. The baseline is the old scan of the day's calls, which
    does."""
    team = Team.objects.get(name__startswith="Bench ")
    dispatcher = User.objects.get(username="bench-dispatcher")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    env = app_env(os.environ["DATABASE_URL"], os.environ.get("REDIS_URL"))
    web = gunicorn_start(port=args.port, workers=args.web_workers, env=env, log_dir=log_dir)
    try:
        bench = Bench(args, team, dispatcher, timezone.localdate())
        conn = pg_connect()
        etag = bench.etag()
        queries = count_queries(
            lambda: bench.client.get(f"/board/columns/?{bench.qs}", headers={"If-None-Match": etag})
        )
        m, b = alternate(
            lambda: bench.poll(etag),
            lambda: timed(lambda: raw_poll(conn, bench.day, team.pk)),
            args.runs * 3,
            args.warmup,
        )
        conn.close()
    finally:
        web.stop()
    calls = ServiceCall.objects.filter(scheduled_day=bench.day).count()
    return Row(
        f"unchanged poll, {team.technicians.count()}x{calls}",
        m,
        b,
        "raw 2 aggregates (scan)",
        "p50 < 5 ms",
        pct(m, 0.5) < 5,
        str(queries),
        "the same team's board, fleet size",
    )


def numpy_plan(
    origins: np.ndarray,
    xy: np.ndarray,
    dur: np.ndarray,
    ws: np.ndarray,
    dl: np.ndarray,
    lengths: np.ndarray,
):
    """plan_route's arithmetic over every queue at once: step k handles every queue's k-th stop.

    Arrays are (queues, max stops), padded; NaN window start / deadline mean none.
    """
    q, width = dur.shape
    arrival = np.zeros((q, width))
    start = np.zeros((q, width))
    finish = np.zeros((q, width))
    here = origins.copy()
    clock = np.zeros(q)
    for k in range(width):
        live = lengths > k
        step = np.hypot(xy[:, k, 0] - here[:, 0], xy[:, k, 1] - here[:, 1])
        arr = clock + step
        st = np.fmax(arr, ws[:, k])  # fmax ignores NaN: no window -> arrival
        fin = st + dur[:, k]
        arrival[:, k], start[:, k], finish[:, k] = arr, st, fin
        clock = np.where(live, fin, clock)
        here = np.where(live[:, None], xy[:, k], here)
    slack = dl - arrival
    late = arrival > dl
    return arrival, start, finish, slack, late


def engine_row(args) -> Row:
    queues = bench_eta.load_queues() * args.engine_repeat
    width = max(len(stops) for _, stops in queues)
    n = len(queues)
    origins = np.array([depot for depot, _ in queues], dtype=float)
    xy = np.zeros((n, width, 2))
    dur, ws, dl = np.zeros((n, width)), np.full((n, width), np.nan), np.full((n, width), np.nan)
    lengths = np.array([len(stops) for _, stops in queues])
    for i, (_, stops) in enumerate(queues):
        for k, s in enumerate(stops):
            xy[i, k], dur[i, k] = s.location, s.duration
            ws[i, k] = np.nan if s.window_start is None else s.window_start
            dl[i, k] = np.nan if s.deadline is None else s.deadline
    total = int(lengths.sum())
    # The two must agree before either is timed.
    from dispatch.eta import plan_route
    from dispatch.travel import euclidean

    arrival = numpy_plan(origins, xy, dur, ws, dl, lengths)[0]
    for i in range(0, n, max(1, n // 50)):
        legs = plan_route(0.0, queues[i][0], queues[i][1], euclidean)
        assert np.allclose([leg.arrival for leg in legs], arrival[i, : len(legs)]), i
    m, b = alternate(
        lambda: timed(lambda: bench_eta.run_engine(queues)),
        lambda: timed(lambda: numpy_plan(origins, xy, dur, ws, dl, lengths)),
        args.runs,
        2,
    )
    engine, vector = total / pct(m, 0.5) * 1000, total / pct(b, 0.5) * 1000
    return Row(
        f"ETA engine, {total} stops",
        m,
        b,
        "NumPy vectorised",
        "(watch)",
        None,
        "",
        f"{engine / 1e6:.2f}M vs {vector / 1e6:.2f}M stops/s; {n} queues",
    )


def candidates_rows(args) -> list[Row]:
    return script_rows("bench_candidates.py", "candidates 200x10", [])


def script_rows(script: str, label: str, extra: list[str]) -> list[Row]:
    """Run another bench script as is and point the table at its own output."""
    path = REPO / "bench" / script
    if not path.exists():
        return [Row(label, [], [], "-", note=f"bench/{script} not present yet")]
    began = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(path), *extra], cwd=REPO, capture_output=True, text=True, timeout=1800
    )
    took = time.perf_counter() - began
    print(f"\n--- bench/{script} {' '.join(extra)} (exit {done.returncode}, {took:.0f} s) ---")
    print(done.stdout[-6000:], done.stderr[-2000:] if done.returncode else "")
    return [Row(label, [], [], "-", note=f"see {script} output above (exit {done.returncode})")]


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--techs", type=int, default=60)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument(
        "--runs", type=int, default=30, help="timed runs per measure (after warm-up)"
    )
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--fleet-techs", type=int, default=2000)
    parser.add_argument("--fleet-calls", type=int, default=20000)
    parser.add_argument("--recompute-runs", type=int, default=3)
    parser.add_argument("--engine-repeat", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="fleet recompute at 200 x 2,000")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "18900")))
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--skip", default="", help="comma list of: http, recompute, engine, candidates, plan"
    )
    parser.add_argument(
        "--scaleout", action="store_true", help="add the split recompute on 1, 2, 4 workers"
    )
    parser.add_argument("--scaleout-workers", default="1,2,4")
    parser.add_argument("--scaleout-teams", type=int, default=20)
    parser.add_argument(
        "--scaleout-broker",
        default=os.environ.get("SCALEOUT_BROKER", bench_scaleout.DEFAULT_BROKER),
        help="a Redis database of the bench's own: it is flushed",
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    began = time.perf_counter()
    name = database_prepare()
    print(
        f"database {name}; {args.runs} runs after {args.warmup} warm-up; "
        f"Django {django.get_version()}; "
        f"{os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}"
    )
    rows: list[Row] = []
    if "http" not in skip:
        data_wipe()
        day = timezone.localdate()
        fleet = build_fleet(techs=args.techs, calls=args.calls, day=day, seed=1)
        etas_refresh_day(day=day)
        with connection.cursor() as cursor:
            # As autovacuum would have by now: without statistics after the bulk load the planner
            # guesses 6 calls for the day and the board's alerts query sorts every recent event.
            cursor.execute("ANALYZE")
        connection.close()
        log_dir = Path(tempfile.mkdtemp(prefix="bench-run-"))
        env = app_env(os.environ["DATABASE_URL"], os.environ.get("REDIS_URL"))
        web = gunicorn_start(port=args.port, workers=args.web_workers, env=env, log_dir=log_dir)
        try:
            rows += http_rows(Bench(args, fleet.team, fleet.dispatcher, day), args)
        finally:
            web.stop()
    if "engine" not in skip:
        rows.append(engine_row(args))
    if "recompute" not in skip:
        rows.append(recompute_row(args))
        if "http" not in skip:
            rows.append(fleet_poll_row(args))
    if args.scaleout:
        rows += scaleout_rows(args)
    if "candidates" not in skip:
        rows += candidates_rows(args)
    if "plan" not in skip:
        rows += script_rows("bench_plan.py", "day planner (quick)", ["--quick"])
    print()
    print(table(rows))
    print(
        f"\nms unless noted; load average now {os.getloadavg()[0]:.1f}; "
        f"total {time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    main()
