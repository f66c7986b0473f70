"""Fault drills: Redis stopped during a move load, PostgreSQL restarted during a move load.

    python bench/faults.py redis    [--down 60] [--clients 4] [--port 18930] [--redis-port 18931]
    python bench/faults.py postgres [--down 3] [--after 12] [--clients 4] [--port 18932]
                                    [--pg-port 18933] [--redis-port 18934]

Both kill only servers of their own, on their own ports: a private redis-server, and for the
PostgreSQL drill a private cluster (initdb in a temporary directory, run as the `postgres` OS
user when root), never the shared ones. The move load is bench/soak.py's clients (each reads the
board, then moves a call with the version it read) against gunicorn with two workers, with
Celery workers and a thread sending the beat's recompute every two seconds.

- redis: (in BENCH_DATABASE_URL, wiped) load, Redis down for --down seconds, back, load. Passes
  when no move failed (every answer a 200 or an honest 409), no request during the outage took
  2 s, every invariant of the soak holds, and the background recompute ran again (heartbeat)
  within 30 s of Redis's return, with no technician left marked for a recompute.
- postgres: load, the cluster stopped (fast shutdown: every connection cut) for --down seconds,
  started, load for --after seconds. Passes when every request met during the outage was a 503
  with a message within 1 s, the service answered 200 again within 10 s of the restart with the
  same gunicorn and Celery processes (no restart), no move was half-applied (the soak's
  invariants, a 503 move counting as maybe-saved), and a Celery recompute ran after the restart.

Each prints its figures and exits non-zero when a check fails. The short forms run in the test
suite (tests/soak/test_faults.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.servers import (  # noqa: E402
    PrivatePostgres,
    PrivateRedis,
    app_env,
    celery_worker_start,
    gunicorn_start,
    wait_until,
)


@dataclass
class DrillResult:
    name: str
    figures: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"{self.name}: " + ("PASSED" if not self.problems else "FAILED")]
        lines += [f"  {k}: {v}" for k, v in self.figures.items()]
        lines += [f"  PROBLEM: {p}" for p in self.problems[:20]]
        return "\n".join(lines)


def children(pid: int) -> set[int]:
    """Process ids whose parent is `pid` (gunicorn's workers), from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


class Beat(threading.Thread):
    """Sends the beat's recompute tasks every `every` seconds; a down broker fails fast."""

    def __init__(self, broker: str, day_iso: str, every: float = 2.0):
        super().__init__(daemon=True)
        from celery import Celery

        self.app = Celery(broker=broker)
        self.app.conf.broker_connection_timeout = 1
        self.app.conf.broker_connection_retry = False
        self.app.conf.broker_connection_max_retries = 0
        self.app.conf.broker_transport_options = {
            "socket_timeout": 1,
            "socket_connect_timeout": 1,
            "max_retries": 0,
        }
        self.day_iso, self.every = day_iso, every
        self.stopped = threading.Event()
        self.sent = self.failed = 0

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                # Today's run is the heartbeat; the drill's day is where the load is.
                self.app.send_task("dispatch.tasks.recompute_day", retry=False)
                self.app.send_task(
                    "dispatch.tasks.recompute_day", args=(self.day_iso,), retry=False
                )
                self.sent += 1
            except Exception:  # noqa: BLE001 - the broker is down; the next tick tries again
                self.failed += 1

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)
        self.app.close()


def _heartbeat_after(moment: datetime) -> bool:
    from dispatch.models import Heartbeat

    return Heartbeat.objects.filter(name="recompute", last_success_at__gte=moment).exists()


# --- Redis ---------------------------------------------------------------------------------------


def redis_drill(
    *, soak, redis: PrivateRedis, clients: int, warm: float, down: float, after: float
) -> DrillResult:
    """Runs the load around a Redis outage; the caller has started gunicorn and the workers."""
    from django.db import connection
    from django.utils import timezone

    from bench.soak import invariants_check, soak_run, summary
    from technicians.models import Technician

    result = DrillResult(f"Redis down {down:.0f} s during a move load")
    beat = Beat(redis.url, soak.day.isoformat())
    load = threading.Thread(
        target=soak_run, args=(soak,), kwargs={"clients": clients, "seconds": warm + down + after}
    )
    beat.start()
    load.start()
    try:
        time.sleep(warm)
        redis.stop()
        t_down = time.monotonic()
        time.sleep(down)
        redis.start()
        t_up, up_at = time.monotonic(), timezone.now()
        converged = wait_until(lambda: _heartbeat_after(up_at), timeout=30, interval=0.25)
        converge_s = time.monotonic() - t_up
        connection.close()
        load.join()
    finally:
        beat.stop()
    marked = Technician.objects.filter(needs_recompute_since__isnull=False).count()
    during = [a for a in soak.attempts if t_down <= a.began < t_up]
    slowest = max((a.ended - a.began for a in soak.attempts), default=0.0)
    slowest_read = max((e - b for b, e, _, _ in soak.reads), default=0.0)
    slow = sorted(
        (round(b - t_down, 1), round(e - b, 2))
        for b, e in [(a.began, a.ended) for a in soak.attempts] + [r[:2] for r in soak.reads]
        if e - b >= 1
    )
    failed = [a for a in soak.attempts if a.outcome not in ("accepted", "conflict")]
    # The limit is the outage's: a request slowed by the machine's own load before it is not.
    outage_slowest = max(
        [a.ended - a.began for a in during]
        + [e - b for b, e, _, _ in soak.reads if t_down <= b < t_up],
        default=0.0,
    )
    result.figures |= {
        "load": summary(soak),
        "moves during the outage": f"{len(during)}, "
        f"{sum(a.outcome == 'accepted' for a in during)} accepted",
        "slowest move / board read": f"{slowest * 1000:.0f} ms / {slowest_read * 1000:.0f} ms",
        "slowest request during the outage": f"{outage_slowest * 1000:.0f} ms",
        "background recompute ran again": f"{converge_s:.1f} s after Redis returned"
        if converged
        else "NOT within 30 s",
        "requests over 1 s (s after Redis stopped, s taken)": slow[:10],
        "beat sends": f"{beat.sent} sent, {beat.failed} failed fast while Redis was down",
    }
    if failed:
        result.problems.append(f"{len(failed)} moves failed, e.g. {failed[0]}")
    if not during or not any(a.outcome == "accepted" for a in during):
        result.problems.append("no move was accepted while Redis was down")
    if outage_slowest >= 2:
        result.problems.append(
            f"a request during the outage took {outage_slowest:.1f} s (limit 2 s)"
        )
    if not converged:
        result.problems.append("no background recompute within 30 s of Redis's return")
    if marked:
        result.problems.append(f"{marked} technicians still marked for a recompute")
    result.problems += invariants_check(soak)
    return result


# --- PostgreSQL ----------------------------------------------------------------------------------


def postgres_drill(
    *,
    soak,
    pg: PrivatePostgres,
    web,
    worker,
    clients: int,
    warm: float,
    down: float,
    after: float,
    broker: str,
) -> DrillResult:
    """Runs the load around a PostgreSQL restart; gunicorn (`web`) and `worker` are running."""
    from django.db import connection
    from django.utils import timezone

    from bench.soak import invariants_check, soak_run, summary

    result = DrillResult(f"PostgreSQL restarted ({down:.0f} s down) during a move load")
    web_pids = {web.pid, *children(web.pid)}
    beat = Beat(broker, soak.day.isoformat())
    load = threading.Thread(
        target=soak_run, args=(soak,), kwargs={"clients": clients, "seconds": warm + down + after}
    )
    beat.start()
    load.start()
    try:
        time.sleep(warm)
        connection.close()
        pg.stop()
        t_down = time.monotonic()
        time.sleep(down)
        # The outage ends when the start begins: PostgreSQL accepts connections a moment
        # before `pg_ctl start -w` notices and returns.
        t_start = time.monotonic()
        pg.start()
        t_up, up_at = time.monotonic(), timezone.now()
        load.join()
        ran = wait_until(lambda: _heartbeat_after(up_at), timeout=30, interval=0.25)
    finally:
        beat.stop()
    same_pids = {web.pid, *children(web.pid)} == web_pids and web.alive() and worker.alive()
    requests = [(a.began, a.ended, a.status, a.detail.encode()) for a in soak.attempts]
    requests += soak.reads
    outage = [r for r in requests if t_down <= r[0] < t_start]
    wrong = [r for r in outage if r[2] != 503 or b"database is unavailable" not in r[3]]
    slow = [r for r in outage if r[1] - r[0] >= 1]
    back = sorted(r[1] for r in requests if r[0] >= t_up and r[2] == 200)
    back_s = (back[0] - t_up) if back else None
    result.figures |= {
        "load": summary(soak),
        "requests during the outage": f"{len(outage)}: "
        f"{sum(r[2] == 503 for r in outage)} answered 503 with the message, "
        f"slowest {max((r[1] - r[0] for r in outage), default=0) * 1000:.0f} ms",
        "first 200 after the restart": "never" if back_s is None else f"{back_s:.2f} s",
        "web and worker processes": "the same (no restart)" if same_pids else "CHANGED",
        "Celery recompute after the restart": "ran" if ran else "did NOT run within 30 s",
    }
    if not outage:
        result.problems.append("no request met the outage (make --down longer)")
    if wrong:
        result.problems.append(
            f"{len(wrong)} outage answers were not a 503 with the message: {wrong[0][2:]}"
        )
    if slow:
        result.problems.append(f"{len(slow)} outage answers took 1 s or more")
    if back_s is None or back_s > 10:
        result.problems.append("the service was not back within 10 s of the restart")
    if not same_pids:
        result.problems.append("gunicorn or the Celery worker was restarted")
    if not ran:
        result.problems.append("no Celery recompute ran after the restart")
    result.problems += invariants_check(soak, outage=True)
    return result


# --- the script ---------------------------------------------------------------------------------


def _setup_django(database_url: str, redis_url: str | None) -> None:
    os.environ["DATABASE_URL"] = database_url
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("DEBUG", "false")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()


def _fleet(techs: int, calls: int):
    from django.utils import timezone

    from bench.fleet import build_fleet
    from dispatch.services.etas import etas_refresh_day

    day = timezone.localdate() + timedelta(days=1)
    fleet = build_fleet(techs=techs, calls=calls, day=day, seed=1)
    etas_refresh_day(day=day)
    return fleet


def run_redis(args) -> DrillResult:
    redis = PrivateRedis(args.redis_port)
    redis.start()
    started = [redis]
    try:
        _setup_django(
            os.environ.get(
                "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_bench"
            ),
            redis.url,
        )
        from django.db import connection

        from bench.fleet import data_wipe, database_prepare
        from bench.soak import soak_prepare

        database_prepare()
        data_wipe()
        fleet = _fleet(args.techs, args.calls)
        soak = soak_prepare(
            port=args.port, day=fleet.day, team_id=fleet.team.pk, users=[fleet.dispatcher]
        )
        connection.close()
        logs = Path(tempfile.mkdtemp(prefix="fault-redis-"))
        env = app_env(os.environ["DATABASE_URL"], redis.url)
        started.append(gunicorn_start(port=args.port, workers=2, env=env, log_dir=logs))
        for i in range(2):
            started.append(celery_worker_start(name=f"fault{i}", env=env, log_dir=logs))
        return redis_drill(
            soak=soak,
            redis=redis,
            clients=args.clients,
            warm=args.warm,
            down=args.down,
            after=args.after,
        )
    finally:
        for proc in reversed(started):
            proc.stop()


def run_postgres(args) -> DrillResult:
    pg = PrivatePostgres(args.pg_port)
    redis = PrivateRedis(args.redis_port)
    started: list = []
    try:
        pg.init()
        redis.start()
        started.append(redis)
        _setup_django(pg.url, redis.url)
        from django.core.management import call_command
        from django.db import connection

        from bench.soak import soak_prepare

        call_command("migrate", verbosity=0, interactive=False)
        fleet = _fleet(args.techs, args.calls)
        soak = soak_prepare(
            port=args.port, day=fleet.day, team_id=fleet.team.pk, users=[fleet.dispatcher]
        )
        connection.close()
        logs = Path(tempfile.mkdtemp(prefix="fault-postgres-"))
        env = app_env(pg.url, redis.url)
        web = gunicorn_start(port=args.port, workers=2, env=env, log_dir=logs)
        started.append(web)
        worker = celery_worker_start(name="faultpg", env=env, log_dir=logs)
        started.append(worker)
        return postgres_drill(
            soak=soak,
            pg=pg,
            web=web,
            worker=worker,
            clients=args.clients,
            warm=args.warm,
            down=args.down,
            after=args.after,
            broker=redis.url,
        )
    finally:
        for proc in reversed(started):
            proc.stop()
        pg.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drill", choices=["redis", "postgres"])
    parser.add_argument("--down", type=float, help="seconds the server stays down")
    parser.add_argument("--warm", type=float, default=5, help="seconds of load before the fault")
    parser.add_argument("--after", type=float, help="seconds of load after the server is back")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--techs", type=int, default=8)
    parser.add_argument("--calls", type=int, default=56)
    parser.add_argument("--port", type=int, help="gunicorn's port")
    parser.add_argument("--redis-port", type=int)
    parser.add_argument("--pg-port", type=int, default=18933)
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = parser.parse_args()
    redis_defaults = {"down": 60, "after": 15, "port": 18930, "redis_port": 18931}
    pg_defaults = {"down": 3, "after": 12, "port": 18932, "redis_port": 18934}
    for key, value in (redis_defaults if args.drill == "redis" else pg_defaults).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    result = run_redis(args) if args.drill == "redis" else run_postgres(args)
    print(result.report())
    if args.json:
        print(
            json.dumps(
                {"name": result.name, "figures": result.figures, "problems": result.problems}
            )
        )
    sys.exit(1 if result.problems else 0)


if __name__ == "__main__":
    main()
