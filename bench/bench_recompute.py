"""Fleet recompute (etas_refresh_day) against raw bulk writes of the same changed rows.

Runs in the dedicated bench database, like bench_board.py (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/dispatch_bench; created and migrated at start, wiped between
scenarios). Two scenarios: the demo company (demo_build, seed 1) and a synthetic fleet of
--techs x --calls (bench/fleet.py), both on today with "now" at local noon, when every shift has
started. Each timed run moves "now" on by a minute, so every ETA changes and is written again.

The baseline writes the rows the service has just written (ids from eta_computed_at), with the
same columns (the ETA fields, the odds, eta_computed_at, risk_since, p_late_planned: thirteen),
as one UPDATE ... FROM (VALUES ...) per 500 rows through connection.cursor(). The budget is
against that floor; the older seven-column floor (before the odds were stored) is shown beside
it, because a wider row costs PostgreSQL more to write whoever writes it.
One more run, instrumented, says where the service's time goes; one more, in a fresh process (a
forkserver child, like a Celery worker), gives its peak RSS (ru_maxrss).

    python bench/bench_recompute.py [--runs 7] [--techs 200] [--calls 2000] [--skip-demo]
    python bench/bench_recompute.py --skip-demo --techs 2000 --calls 20000 --runs 3
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
# Runnable as a plain script from anywhere, without installing the project.
sys.path.insert(0, str(REPO))
# Never the product's database: the benches wipe whatever they run in.
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.fleet import build_fleet, data_wipe, database_prepare
from dispatch.demo import demo_build
from dispatch.models import ServiceCall
from dispatch.services import etas

BATCH = 500
RAW_ROW = (
    "(%s::bigint, %s::timestamptz, %s::timestamptz, %s::timestamptz, %s::double precision,"
    " %s::varchar, %s::boolean)"
)
RAW_UPDATE = """
    UPDATE dispatch_servicecall AS c
    SET eta = v.eta, planned_start = v.planned_start, planned_finish = v.planned_finish,
        slack_minutes = v.slack_minutes, risk = v.risk, overtime = v.overtime,
        eta_computed_at = %s
    FROM (VALUES {rows}) AS v(id, eta, planned_start, planned_finish, slack_minutes, risk, overtime)
    WHERE c.id = v.id
"""
# The same, with every column the service writes (the floor the budget is measured against).
RAW_ROW_ALL = (
    RAW_ROW[:-1] + ", %s::double precision, %s::timestamptz, %s::timestamptz, %s::timestamptz,"
    " %s::timestamptz, %s::double precision)"
)
RAW_UPDATE_ALL = """
    UPDATE dispatch_servicecall AS c
    SET eta = v.eta, planned_start = v.planned_start, planned_finish = v.planned_finish,
        slack_minutes = v.slack_minutes, risk = v.risk, overtime = v.overtime,
        p_late = v.p_late, eta_p10 = v.eta_p10, eta_p80 = v.eta_p80, eta_p90 = v.eta_p90,
        risk_since = v.risk_since, p_late_planned = v.p_late_planned, eta_computed_at = %s
    FROM (VALUES {rows}) AS v(id, eta, planned_start, planned_finish, slack_minutes, risk, overtime,
        p_late, eta_p10, eta_p80, eta_p90, risk_since, p_late_planned)
    WHERE c.id = v.id
"""
WRITTEN = """
    SELECT id, eta, planned_start, planned_finish, slack_minutes, risk, overtime,
        p_late, eta_p10, eta_p80, eta_p90, risk_since, p_late_planned
    FROM dispatch_servicecall WHERE scheduled_day = %s AND eta_computed_at = %s
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    day: date
    noon: datetime

    def now(self, minute: int) -> datetime:
        return self.noon + timedelta(minutes=minute)


def today_at_noon() -> tuple[date, datetime]:
    day = timezone.localdate()
    return day, datetime.combine(day, clock_time(12, 0), ZoneInfo(settings.TIME_ZONE))


def demo_scenario() -> Scenario:
    day, noon = today_at_noon()
    demo_build(seed=1, day=day, now=noon)
    return Scenario("demo seed 1", day, noon)


def fleet_scenario(techs: int, calls: int) -> Scenario:
    day, noon = today_at_noon()
    build_fleet(techs=techs, calls=calls, day=day, seed=1)
    return Scenario(f"fleet {techs}x{calls}", day, noon)


# --- the service and its baseline ----------------------------------------------------------------


def recompute(sc: Scenario, minute: int) -> int:
    return etas.etas_refresh_day(day=sc.day, now=sc.now(minute))


def written_rows(sc: Scenario, minute: int) -> list[tuple]:
    """The rows the service wrote at that minute, nudged so that writing them changes them."""
    with connection.cursor() as cursor:
        cursor.execute(WRITTEN, [sc.day, sc.now(minute)])
        rows = cursor.fetchall()
    nudge = timedelta(seconds=7)  # never what the next minute's recompute computes
    return [
        (pk, *(t and t + nudge for t in (eta, start, finish)), slack and slack + 0.05, risk, ot)
        + (p and p + 0.001, *(t and t + nudge for t in (p10, p80, p90)), since, planned)
        for pk, eta, start, finish, slack, risk, ot, p, p10, p80, p90, since, planned in rows
    ]


RAW_TECH_IDS = "SELECT id FROM technicians_technician WHERE id > %s ORDER BY id LIMIT %s"
RAW_TECH_LOCK = (
    "SELECT id, home_lat, home_lng, last_lat, last_lng, last_seen_at, shift_start, shift_end "
    "FROM technicians_technician WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
)
RAW_QUEUES = (
    "SELECT c.id, c.technician_id, s.lat, s.lng, c.duration_minutes, c.window_start, c.deadline,"
    " c.status, c.started_at, c.risk_since, c.eta, c.planned_start, c.planned_finish,"
    " c.slack_minutes, c.risk, c.overtime, c.category_id, c.p_late_planned, c.p_late,"
    " c.eta_p10, c.eta_p80, c.eta_p90 FROM dispatch_servicecall c"
    " JOIN customers_site s ON s.id = c.site_id WHERE c.technician_id = ANY(%s)"
    " AND c.scheduled_day = %s AND c.status IN ('assigned', 'en_route', 'on_site')"
    " ORDER BY c.technician_id, c.position"
)
RAW_UNASSIGNED = (
    "SELECT id, deadline, risk_since, eta, planned_start, planned_finish, slack_minutes, risk,"
    " overtime, p_late_planned, p_late, eta_p10, eta_p80, eta_p90"
    " FROM dispatch_servicecall WHERE scheduled_day = %s AND status = 'new'"
)


def raw_reads(day: date) -> None:
    """The same reads as the service (the same columns, the odds' among them): technicians in
    keyset batches, locked, and their queues."""
    last_id = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(RAW_TECH_IDS, [last_id, settings.RECOMPUTE_BATCH_SIZE])
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            with transaction.atomic():
                cursor.execute(RAW_TECH_LOCK, [ids])
                cursor.fetchall()
                cursor.execute(RAW_QUEUES, [ids, day])
                cursor.fetchall()
            last_id = ids[-1]
        cursor.execute(RAW_UNASSIGNED, [day])
        cursor.fetchall()


def raw_baseline(day: date, rows: list[tuple], now: datetime) -> None:
    raw_reads(day)
    raw_write(rows, now)


def raw_baseline_seven(day: date, rows: list[tuple], now: datetime) -> None:
    raw_reads(day)
    raw_write([row[:7] for row in rows], now, RAW_UPDATE, RAW_ROW)


def raw_write(
    rows: list[tuple], now: datetime, update: str = RAW_UPDATE_ALL, cell: str = RAW_ROW_ALL
) -> None:
    """The floor: one UPDATE ... FROM (VALUES ...) per batch, each its own transaction."""
    with connection.cursor() as cursor:
        for i in range(0, len(rows), BATCH):
            batch = rows[i : i + BATCH]
            sql = update.format(rows=", ".join([cell] * len(batch)))
            cursor.execute(sql, [now, *(value for row in batch for value in row)])


def seconds(run: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter()
    result = run()
    return time.perf_counter() - began, result


# --- where the time goes -------------------------------------------------------------------------


@contextmanager
def time_spent() -> Iterator[dict[str, float]]:
    """Seconds in the engine, in writing (with its SQL) and in each kind of statement."""
    spent: dict[str, float] = defaultdict(float)

    def timed(name: str, fn: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - began

        return wrapper

    def on_execute(execute, sql, params, many, context):
        return timed(f"sql {sql.split(None, 1)[0].upper()}", execute)(sql, params, many, context)

    originals = etas.plan_queues, etas._write_changed
    etas.plan_queues = timed("engine", etas.plan_queues)
    etas._write_changed = timed("write", etas._write_changed)
    try:
        with connection.execute_wrapper(on_execute):
            yield spent
    finally:
        etas.plan_queues, etas._write_changed = originals


def breakdown(sc: Scenario, minute: int) -> str:
    with time_spent() as spent:
        total, _ = seconds(lambda: recompute(sc, minute))
    ms = {name: value * 1000 for name, value in spent.items()}
    update, select = ms.get("sql UPDATE", 0.0), ms.get("sql SELECT", 0.0)
    other = total * 1000 - ms["engine"] - ms["write"] - select
    return (
        f"{sc.name}: total {total * 1000:.0f} ms = engine {ms['engine']:.0f}"
        f" + writes {ms['write']:.0f} (its UPDATEs in PostgreSQL {update:.0f},"
        f" building them in Django {ms['write'] - update:.0f})"
        f" + SELECTs {select:.0f} + other Python {other:.0f}"
    )


def worker_peak(sc: Scenario, minute: int) -> dict[str, float]:
    """In a fresh process, like a Celery worker: one full recompute, then its peak RSS."""
    started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    written = recompute(sc, minute)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    connection.close()
    return {"started": started, "peak": peak, "written": written}


# --- report ------------------------------------------------------------------------------------

# Minutes after noon: 0 warm-up, 1 counts queries, 2 the breakdown, then two per timed run (the
# service and a spare), then the memory run. A minute is never reused: its ETAs are stored.
FIRST_TIMED_MINUTE = 3


def after_timed_runs(runs: int) -> int:
    return FIRST_TIMED_MINUTE + 2 * runs


def timed_runs(sc: Scenario, runs: int) -> dict[str, list[float]]:
    """Service and baseline, interleaved run by run; each run a minute later."""
    series: dict[str, list[float]] = {"service": [], "raw": [], "raw7": [], "rows": []}
    for minute in range(FIRST_TIMED_MINUTE, after_timed_runs(runs), 2):
        took, count = seconds(partial(recompute, sc, minute))
        rows = written_rows(sc, minute)
        assert len(rows) == count, f"{len(rows)} rows stamped, {count} written"
        series["service"].append(took)
        series["rows"].append(count)
        series["raw"].append(seconds(partial(raw_baseline, sc.day, rows, sc.now(minute)))[0])
        # The spare minute: the seven-column floor, on rows nudged once more.
        again = [(r[0], *(t and t + timedelta(seconds=7) for t in r[1:4]), *r[4:]) for r in rows]
        series["raw7"].append(
            seconds(partial(raw_baseline_seven, sc.day, again, sc.now(minute + 1)))[0]
        )
    return series


def bench_scenario(sc: Scenario, runs: int) -> tuple[list[tuple[str, ...]], list[str]]:
    # Untimed warm-up: fills the fleet's empty ETAs; the demo's are already current.
    fill, filled = seconds(partial(recompute, sc, 0))
    with CaptureQueriesContext(connection) as queries:
        recompute(sc, 1)
    notes = [f"{sc.name}: warm-up {fill * 1000:.0f} ms for {filled} rows", breakdown(sc, 2)]
    series = timed_runs(sc, runs)
    ms = {name: statistics.median(values) * 1000 for name, values in series.items()}
    n = statistics.median(series["rows"])
    open_calls = ServiceCall.objects.filter(
        scheduled_day=sc.day, status__in=ServiceCall.OPEN_STATUSES
    ).count()

    def row(
        measure: str, took: float, rows: str, queries: str, budget: str, base: str = "raw"
    ) -> tuple[str, ...]:
        ratio = took / ms[base]
        verdict = f"{budget} {'ok' if ratio <= 1.5 else 'OVER'}" if budget else ""
        per_k = f"{took * 1000 / max(n, 1):.1f}"
        shown = "" if measure.strip().startswith("raw") else f"{ratio:.1f}x"
        return (sc.name, measure, f"{took:.0f}", rows, per_k, shown, verdict, queries)

    return [
        row("etas_refresh_day", ms["service"], f"{n:.0f}/{open_calls}", str(len(queries)), "1.5x"),
        row("  raw reads + UPDATE..VALUES", ms["raw"], f"{n:.0f}", str(-(-int(n) // BATCH)), ""),
        row("  (the same, to 7 columns)", ms["service"], "", "", "", "raw7"),
        row("  raw, 7 columns only", ms["raw7"], f"{n:.0f}", str(-(-int(n) // BATCH)), ""),
    ], notes


HEADER = ("scenario", "measure", "median ms", "rows", "ms/1k rows", "ratio", "budget", "queries")


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]
    for row in [HEADER, *rows]:
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs; medians are reported")
    parser.add_argument("--techs", type=int, default=200, help="technicians in the fleet")
    parser.add_argument("--calls", type=int, default=2000, help="calls of the fleet's day")
    parser.add_argument("--skip-demo", action="store_true", help="only the synthetic fleet")
    args = parser.parse_args()

    began = time.perf_counter()
    name = database_prepare()
    print(
        f"database {name}, {args.runs} runs, median; Django {django.get_version()}, "
        f"RECOMPUTE_BATCH_SIZE={settings.RECOMPUTE_BATCH_SIZE}, {os.cpu_count()} CPUs"
    )
    table: list[tuple[str, ...]] = []
    notes: list[str] = []
    scenarios = [] if args.skip_demo else [demo_scenario]
    scenarios.append(lambda: fleet_scenario(args.techs, args.calls))
    for build in scenarios:
        data_wipe()
        built, sc = seconds(build)
        notes.append(f"{sc.name}: built in {built:.1f} s")
        rows, more = bench_scenario(sc, args.runs)
        table += rows
        notes += more
    connection.close()  # the child opens its own
    with multiprocessing.get_context("forkserver").Pool(1) as pool:
        peak = pool.apply(worker_peak, (sc, after_timed_runs(args.runs)))
    print_table(table)
    for note in notes:
        print(note)
    print(
        f"memory, {sc.name}: a fresh process peaks at {peak['peak']:.0f} MB (ru_maxrss) over one"
        f" full recompute of {peak['written']} rows, from {peak['started']:.0f} MB after setup"
        " (Celery worker budget: 250 MB at 2,000 x 20,000)"
    )
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
