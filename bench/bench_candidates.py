"""Candidates for one call across a big team: median ms, against what any answer must cost.

Runs in the dedicated bench database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/dispatch_bench; created and migrated at start, wiped first;
DATABASE_URL is ignored). One synthetic team (bench/fleet.py) of --techs technicians with about
--per-tech queued calls each, on today with "now" at local noon. The measured call is an
unassigned one with its skills cleared, so every technician is priced, and its deadline and window
cleared too, so every position is on time and its ripple priced in full (the worst case); a second
one keeps its booked window and deadline (most positions are then late and pruned).

- **call_candidates**: the service as the API calls it (reads included) for the worst-case
  call, target < 50 ms at 200 x 10; **(tight call)**: the same for the call with a window;
- **raw reads + one plan per queue**, the floor: the same rows fetched with raw SQL and every
  queue planned once by the engine (no insertion tried at all);
- **naive insertion**: the service's reads, then every position of every queue priced by
  planning the whole new queue from scratch (what an obvious implementation does);
- **engine only**: the service's pricing (dispatch.planning.insertion) on preloaded routes, no
  reads.

Measures are interleaved run by run after one warm-up run each; medians over --runs, the fastest
run, and the median CPU time of this process (less sensitive to a loaded machine).

    python bench/bench_candidates.py [--runs 15] [--techs 200] [--per-tech 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

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

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.fleet import build_fleet, data_wipe, database_prepare
from dispatch.eta import Stop, plan_route
from dispatch.models import ServiceCall
from dispatch.planning.insertion import insertions
from dispatch.selectors.candidates import call_candidates, call_world
from dispatch.selectors.planning import stop_of_call, travel_provider
from technicians.models import Technician


def _raw_floor(team_id: int, day, now: datetime) -> Callable[[], object]:
    travel = travel_provider()

    def run() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, home_lat, home_lng, shift_start FROM technicians_technician "
                "WHERE team_id = %s",
                [team_id],
            )
            techs = {row[0]: row for row in cursor.fetchall()}
            cursor.execute(
                "SELECT c.technician_id, c.id, s.lat, s.lng, c.duration_minutes, c.window_start, "
                "c.deadline FROM dispatch_servicecall c JOIN customers_site s ON s.id = c.site_id "
                "WHERE c.technician_id = ANY(%s) AND c.scheduled_day = %s "
                "AND c.status IN ('assigned', 'en_route', 'on_site') "
                "ORDER BY c.technician_id, c.position",
                [list(techs), day],
            )
            queues: dict[int, list[Stop]] = {}
            for tid, cid, lat, lng, minutes, ready, due in cursor.fetchall():
                queues.setdefault(tid, []).append(
                    Stop(cid, (lat, lng), minutes * 60.0, _ts(ready), _ts(due))
                )
        start = now.timestamp()
        for tid, row in techs.items():
            plan_route(start, (row[1], row[2]), queues.get(tid, []), travel)
        return len(techs)

    return run


def _ts(value):
    return None if value is None else value.timestamp()


def _naive(user, call: ServiceCall, now: datetime) -> Callable[[], object]:
    def run() -> int:
        world = call_world(user, call, now)[0].world
        new, tried = stop_of_call(call), 0
        for route in world.routes.values():
            for p in range(route.floor, len(route.stops) + 1):
                stops = list(route.stops)
                stops.insert(p, new)
                plan_route(route.start_at, route.origin, stops, world.travel,
                           first_on_site_since=route.first_on_site_since)  # fmt: skip
                tried += 1
        return tried

    return run


def _engine_only(user, call: ServiceCall, now: datetime) -> Callable[[], object]:
    world = call_world(user, call, now)[0].world
    new = stop_of_call(call)

    def run() -> int:
        return sum(
            len(insertions(route, new, world.travel, rules=world.rules, promises=world.promises))
            for route in world.routes.values()
        )

    return run


def measure(measures: dict[str, Callable[[], object]], runs: int) -> dict[str, tuple]:
    counts = {}
    for name, run in measures.items():  # warm-up, and the query count
        with CaptureQueriesContext(connection) as queries:
            run()
        counts[name] = len(queries.captured_queries)
    samples: dict[str, list[float]] = {name: [] for name in measures}
    cpu: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(runs):
        for name, run in measures.items():  # interleaved: noise hits every measure alike
            began, began_cpu = time.perf_counter(), time.process_time()
            run()
            samples[name].append(time.perf_counter() - began)
            cpu[name].append(time.process_time() - began_cpu)
    return {
        name: (
            statistics.median(s) * 1000,
            min(s) * 1000,
            statistics.median(cpu[name]) * 1000,
            counts[name],
        )
        for name, s in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--techs", type=int, default=200)
    parser.add_argument("--per-tech", type=int, default=10)
    args = parser.parse_args()
    name = database_prepare()
    data_wipe()
    day = timezone.localdate()
    # fleet.py queues 90% of the calls: this many calls gives --per-tech queued per technician.
    calls = round(args.techs * args.per_tech / 0.9)
    fleet = build_fleet(techs=args.techs, calls=calls, day=day, seed=1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have by now: fresh planner statistics
    now = datetime.combine(day, dtime(12, 0), ZoneInfo(settings.TIME_ZONE))
    tight, call = ServiceCall.objects.filter(scheduled_day=day, technician=None).order_by("id")[:2]
    for c in (tight, call):
        c.skills.clear()  # every technician is then priced
    # The worst case: no deadline and no window, so every position of every queue is on time
    # and its ripple is priced in full. `tight` keeps the fleet's window and deadline.
    ServiceCall.objects.filter(pk=call.pk).update(deadline=None, window_start=None)
    call.refresh_from_db()
    user = fleet.dispatcher
    queued = ServiceCall.objects.filter(technician__team=fleet.team, scheduled_day=day).count()
    techs = Technician.objects.filter(team=fleet.team).count()
    measures = {
        "call_candidates": lambda: call_candidates(user=user, call_id=call.pk, now=now),
        "call_candidates (tight call)": lambda: call_candidates(
            user=user, call_id=tight.pk, now=now
        ),
        "raw reads + one plan per queue": _raw_floor(fleet.team.pk, day, now),
        "naive insertion (full replan)": _naive(user, call, now),
        "engine only (no reads)": _engine_only(user, call, now),
    }
    results = measure(measures, args.runs)
    found, excluded = call_candidates(user=user, call_id=call.pk, now=now)
    tight_found, _ = call_candidates(user=user, call_id=tight.pk, now=now)
    print(
        f"database {name}; {techs} technicians, {queued} queued calls "
        f"({queued / techs:.1f} each); {args.runs} runs after a warm-up; "
        f"open call: {len(found)} candidates, {len(excluded)} excluded; tight call (window "
        f"{timezone.localtime(tight.window_start):%H:%M}-{timezone.localtime(tight.deadline):%H:%M}"
        f"): {len(tight_found)} candidates"
    )
    floor = results["raw reads + one plan per queue"][0]
    print(
        f"{'measure':34} {'median ms':>10} {'min ms':>8} {'cpu ms':>8} {'queries':>8} "
        f"{'x floor':>8}"
    )
    for label, (median, best, cpu, count) in results.items():
        print(f"{label:34} {median:10.1f} {best:8.1f} {cpu:8.1f} {count:8d} {median / floor:8.2f}")
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; cpu ms: this process's "
        "CPU time (median), which leaves out PostgreSQL's share and time spent waiting for a CPU"
    )
    verdict = "ok" if results["call_candidates"][0] < 50 else "OVER"
    print(f"target: call_candidates under 50 ms at 200 x 10: {verdict}")


if __name__ == "__main__":
    main()
