"""The day's recompute split into per-team Celery tasks, with 1, 2 and 4 worker processes.

Builds a synthetic fleet (bench/fleet.py, seed 1) of --techs x --calls in --teams teams in the
bench database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/dispatch_bench;
refused unless its name holds "bench"; wiped), on today with "now" at local noon. For each count
of --workers it starts that many `celery worker --pool=solo` processes on --broker (a Redis
database of its own: the queue is purged), and times, run by run, from sending
`recompute_day` to the day's heartbeat (the banner's) reaching that run's "now": the fan-out,
every team's part on whichever worker took it, and the last part's heartbeat. Each run moves
"now" on by a minute, so every ETA changes and is written again. The same whole day in this one
process (`etas_refresh_day`, no Celery) is timed beside it as the baseline.

    python bench/bench_scaleout.py [--techs 2000] [--calls 20000] [--teams 20]
        [--workers 1,2,4] [--runs 3] [--broker redis://127.0.0.1:6379/14] [--quick]

--quick is 200 x 2,000 in 10 teams. `bench/run.py --scaleout` adds these rows to its table.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

from celery import Celery
from django.db import connection

from bench.bench_recompute import today_at_noon
from bench.fleet import build_fleet, data_wipe, database_prepare
from bench.servers import app_env, celery_worker_start, wait_until
from dispatch.models import Heartbeat, ServiceCall
from dispatch.services.background import RECOMPUTE
from dispatch.services.etas import etas_refresh_day
from dispatch.tasks import recompute_day

DEFAULT_BROKER = "redis://127.0.0.1:6379/14"


PART_DONE = re.compile(r"Task dispatch\.tasks\.recompute_team\[[^\]]+\] succeeded in ([0-9.]+)s")


@dataclass
class Series:
    label: str
    seconds: list[float] = field(default_factory=list)
    # Seconds the workers spent in the team parts, summed, per run: over the wall time, how many
    # processes were busy on average.
    in_parts: list[float] = field(default_factory=list)
    # CPU seconds per run: the workers and their PostgreSQL backends (split runs), or this
    # process and its backend (in-process runs). What the work costs, whatever else runs.
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def heartbeat_at() -> datetime | None:
    # Autocommit: each poll is its own snapshot, and one connection serves every poll.
    last = Heartbeat.objects.filter(name=RECOMPUTE).values_list("last_success_at", flat=True)
    return last.first()


class Minutes:
    """A fresh "now" for every run: local noon plus one more minute each time."""

    def __init__(self, noon: datetime):
        self.noon, self.n = noon, 0

    def next(self) -> datetime:
        self.n += 1
        return self.noon + timedelta(minutes=self.n)


def split_run(app: Celery, day, now: datetime, timeout: float) -> float:
    began = time.perf_counter()
    app.send_task(recompute_day.name, args=[day.isoformat(), now.isoformat()])
    if not wait_until(lambda: heartbeat_at() == now, timeout=timeout, interval=0.05):
        raise RuntimeError(f"the split recompute at {now} did not finish in {timeout:.0f} s")
    return time.perf_counter() - began


TICKS = os.sysconf("SC_CLK_TCK")
BACKENDS = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s"


def _cpu_of(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (None: it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_snapshot(pids: list[int]) -> dict[int, float]:
    """CPU seconds of these processes and of every PostgreSQL backend of the bench database but
    this process's own (the workers' connections), by pid."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]
        cursor.execute(BACKENDS, [own])
        backends = [row[0] for row in cursor.fetchall()]
    values = {pid: _cpu_of(pid) for pid in [*pids, *backends]}
    return {pid: v for pid, v in values.items() if v is not None}


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def own_cpu() -> float:
    """This process and its own backend, CPU seconds so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    return (_cpu_of(os.getpid()) or 0.0) + (_cpu_of(backend) or 0.0)


def part_seconds(workers) -> float:
    return sum(float(t) for worker in workers for t in PART_DONE.findall(worker.log()))


def purge(broker: str) -> None:
    import redis

    client = redis.Redis.from_url(broker)
    client.flushdb()  # the broker database is ours alone (--broker): no other run's messages
    client.close()


def in_process_run(day, now: datetime, series: Series) -> None:
    cpu = own_cpu()
    began = time.perf_counter()
    etas_refresh_day(day=day, now=now)
    series.seconds.append(time.perf_counter() - began)
    series.cpu.append(own_cpu() - cpu)


def measure(
    *, workers: list[int], runs: int, broker: str, day, noon: datetime, timeout: float
) -> tuple[Series, list[tuple[Series, Series]], int]:
    """For each worker count, its split runs and, alternating with them run by run (the machine
    is shared), the same day in this process; each run a minute later than the one before."""
    minutes = Minutes(noon)
    etas_refresh_day(day=day, now=minutes.next())  # fills the fleet's empty ETAs (untimed)
    rows = ServiceCall.objects.filter(scheduled_day=day).count()
    everything = Series("etas_refresh_day, one process")

    log_dir = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    env = app_env(os.environ["DATABASE_URL"], broker, CACHE_URL=broker)
    out = []
    for count in workers:
        purge(broker)
        started = [
            celery_worker_start(name=f"scaleout-{count}-{i}", env=env, log_dir=log_dir)
            for i in range(count)
        ]
        app = Celery(broker=broker)
        try:
            series = Series(f"split recompute, {count} worker{'s' if count > 1 else ''}")
            beside = Series(f"  in-process, beside {count}")
            split_run(app, day, minutes.next(), timeout)  # warm-up: imports, connections
            for _ in range(runs):
                in_process_run(day, minutes.next(), beside)
                seen = part_seconds(started)
                cpu = cpu_snapshot([w.pid for w in started])
                series.seconds.append(split_run(app, day, minutes.next(), timeout))
                time.sleep(0.2)  # the last part's log line follows its heartbeat
                series.cpu.append(cpu_spent(cpu, cpu_snapshot([w.pid for w in started])))
                series.in_parts.append(part_seconds(started) - seen)
            print(f"{series.label}: done, load {os.getloadavg()[0]:.1f}")
            out.append((series, beside))
            everything.seconds += beside.seconds
            everything.cpu += beside.cpu
        finally:
            app.close()
            for worker in started:
                worker.stop()
    return everything, out, rows


def scaleout(
    *,
    techs: int,
    calls: int,
    teams: int,
    workers: list[int],
    runs: int,
    broker: str,
    timeout: float,
) -> tuple[Series, list[tuple[Series, Series]], int]:
    """Wipe the bench database, build the fleet in teams, and measure (see the module doc)."""
    began = time.perf_counter()
    data_wipe()
    day, noon = today_at_noon()
    build_fleet(techs=techs, calls=calls, day=day, seed=1, teams=teams)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"scale-out fleet {techs} x {calls} in {teams} teams:"
        f" built in {time.perf_counter() - began:.0f} s"
    )
    return measure(workers=workers, runs=runs, broker=broker, day=day, noon=noon, timeout=timeout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--techs", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--teams", type=int, default=20, help="teams sharing the technicians")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to try")
    parser.add_argument("--runs", type=int, default=3, help="timed runs each; medians reported")
    parser.add_argument("--broker", default=os.environ.get("SCALEOUT_BROKER", DEFAULT_BROKER))
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run at most")
    parser.add_argument("--quick", action="store_true", help="200 x 2,000 in 10 teams")
    args = parser.parse_args()
    if args.quick:
        args.techs, args.calls, args.teams = 200, 2000, 10
    workers = [int(n) for n in args.workers.split(",")]

    began = time.perf_counter()
    name = database_prepare()
    print(
        f"database {name}; {args.techs} x {args.calls} in {args.teams} teams; {args.runs} runs;"
        f" {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}"
    )
    baseline, series, rows = scaleout(
        techs=args.techs, calls=args.calls, teams=args.teams, workers=workers, runs=args.runs,
        broker=args.broker, timeout=args.timeout,
    )  # fmt: skip
    one = series[0][0].median
    print(f"\n{rows} calls of the day, every one rewritten each run")
    head = ("measure", "median s", "runs (s)", "vs 1 worker", "vs beside", "busy", "CPU s")
    print(
        f"{head[0]:34} {head[1]:>9} {head[2]:>20} {head[3]:>12} {head[4]:>10} {head[5]:>5}"
        f" {head[6]:>6}"
    )
    for split, beside in series:
        busy = statistics.median(p / w for p, w in zip(split.in_parts, split.seconds, strict=True))
        ratios = f"{one / split.median:11.2f}x {beside.median / split.median:9.2f}x {busy:5.2f}"
        for s, tail in ((split, ratios), (beside, " " * 35)):
            runs = " ".join(f"{x:.2f}" for x in s.seconds)
            print(f"{s.label:34} {s.median:9.2f} {runs:>20} {tail} {statistics.median(s.cpu):6.2f}")
    print(
        f"{baseline.label:34} {baseline.median:9.2f} (all {len(baseline.seconds)} runs);"
        f" CPU {statistics.median(baseline.cpu):.2f} s"
    )
    print("busy: seconds the workers spent in team parts (their logs) over the wall time, median")
    print("CPU s: user + system seconds of the workers and their PostgreSQL backends per run")
    print(f"\nload average now {os.getloadavg()[0]:.1f}; total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
