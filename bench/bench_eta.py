"""Throughput of the pure ETA engine, in stops per second.

Runs every published Solomon route (tests/data/solomon, a copy of ../shared/data/solomon)
as one technician's queue,
repeated --repeat times, and reports the median of --runs timings. A baseline does the
same arithmetic inline over plain tuples in the same process, so the ratio says what the
engine's structure (dataclasses, a call per queue) costs, whatever the machine's speed.

    python bench/bench_eta.py [--repeat 50] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Runnable as a plain script from anywhere, without installing the project.
sys.path.insert(0, str(REPO))

from dispatch.eta import Stop, plan_route
from dispatch.travel import euclidean

SOLOMON_DIR = Path(os.environ.get("SOLOMON_DIR") or REPO / "tests" / "data" / "solomon")

Location = tuple[float, float]
Queue = tuple[Location, list[Stop]]
# (id, location, duration, window_start, deadline): a Stop without the dataclass.
RawStop = tuple[object, Location, float, float | None, float | None]
RawQueue = tuple[Location, list[RawStop]]


def load_instance(path: Path) -> tuple[Location, dict[int, Stop]]:
    rows = [
        r
        for r in (line.split() for line in path.read_text().splitlines())
        if len(r) == 7 and r[0].isdigit()
    ]
    depot = (float(rows[0][1]), float(rows[0][2]))
    stops = {
        int(r[0]): Stop(
            int(r[0]), (float(r[1]), float(r[2])), float(r[6]), float(r[4]), float(r[5])
        )
        for r in rows[1:]
    }
    return depot, stops


def load_queues() -> list[Queue]:
    files = sorted((SOLOMON_DIR / "solutions").glob("*.json"))
    if not files:
        sys.exit(f"no Solomon solutions under {SOLOMON_DIR} (set SOLOMON_DIR)")
    queues: list[Queue] = []
    for path in files:
        solution = json.loads(path.read_text())
        depot, stops = load_instance(SOLOMON_DIR / "instances" / f"{solution['instance']}.txt")
        queues.extend((depot, [stops[c] for c in route]) for route in solution["routes"])
    return queues


def run_engine(queues: list[Queue]) -> None:
    for depot, stops in queues:
        plan_route(0.0, depot, stops, euclidean)


def run_baseline(queues: list[RawQueue]) -> None:
    # plan_route's formulas inlined, tuples in and out: the floor for pure Python.
    travel = euclidean
    for depot, stops in queues:
        legs: list[tuple[object, float, float, float, float | None, bool]] = []
        here, clock = depot, 0.0
        for stop_id, location, duration, window_start, deadline in stops:
            arrival = clock + travel(here, location)
            start = arrival if window_start is None or arrival >= window_start else window_start
            clock = start + duration
            if deadline is None:
                legs.append((stop_id, arrival, start, clock, None, False))
            else:
                legs.append(
                    (
                        stop_id,
                        arrival,
                        start,
                        clock,
                        deadline - arrival,
                        arrival > deadline,
                    )
                )
            here = location


def seconds(run: Callable[[], None]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def median_seconds(
    engine: Callable[[], None], baseline: Callable[[], None], runs: int
) -> tuple[float, float]:
    # Alternate the two so a noisy neighbour slows both alike and the ratio holds.
    pairs = [(seconds(engine), seconds(baseline)) for _ in range(runs)]
    return (
        statistics.median(p[0] for p in pairs),
        statistics.median(p[1] for p in pairs),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=50, help="times every route is planned per run"
    )
    parser.add_argument("--runs", type=int, default=7, help="timed runs; the median is reported")
    args = parser.parse_args()

    queues = load_queues() * args.repeat
    as_tuples = [
        (
            depot,
            [(s.id, s.location, s.duration, s.window_start, s.deadline) for s in stops],
        )
        for depot, stops in queues
    ]
    total = sum(len(stops) for _, stops in queues)

    engine_s, baseline_s = median_seconds(
        lambda: run_engine(queues), lambda: run_baseline(as_tuples), args.runs
    )
    engine, baseline = total / engine_s, total / baseline_s

    print(f"queues per run:  {len(queues):,} ({total:,} stops), {args.runs} runs, median")
    print(f"engine:          {engine:,.0f} stops/s")
    print(f"inline baseline: {baseline:,.0f} stops/s")
    print(f"engine/baseline: {engine / baseline:.2f}")


if __name__ == "__main__":
    main()
