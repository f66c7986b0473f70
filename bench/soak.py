"""Concurrency soak: many people moving the same calls at once, then every invariant checked.

    python bench/soak.py [--seconds 60] [--clients 16] [--techs 12] [--calls 96] [--port 18920]

In its own database (BENCH_DATABASE_URL, default .../dispatch_bench; wiped) it builds a team for
tomorrow (bench/fleet.py, seed 1: tomorrow, so a stored ETA does not depend on the minute it was
computed and can be compared with a fresh recompute), starts gunicorn with --web-workers (2) and
--celery-workers (2) Celery workers on REDIS_URL, and runs --clients threads for --seconds. Each
client reads the board (GET /board/), picks a call (half the time one of a few hot calls) and a
target (often one of a few hot technicians, sometimes the unassigned list) and posts the move
with the version it read, as the board's drag does (confirm=1, with a reason). A "beat" thread
asks the workers for a recompute of the day every two seconds, as Celery beat would, so
recomputes race with the moves. Every request and its answer is recorded, then:

- every open call is in exactly one place (assigned <=> technician and position), none lost;
- positions are dense (0..n-1) in every queue;
- exactly one move event per accepted move;
- versions only grow: each call's accepted moves used distinct versions, exactly
  initial..final-1, so no two people's moves were both applied on the same version;
- every acknowledged move is reflected in the final state unless a later acknowledged move
  (of a higher version) overrode it: the call is where its last accepted move put it;
- stored ETAs equal a fresh recompute (one run in a rolled-back transaction writes no row);
- no server errors (5xx), no request lost.

The same functions run for 10 s in the test suite (tests/soak/test_soak.py).
"""

from __future__ import annotations

import os
import random
import re
import sys
import threading
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

if __name__ == "__main__":
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_bench"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("DEBUG", "false")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()

from django.db import connection, transaction  # noqa: E402

from bench.servers import HttpSession  # noqa: E402

CARD = re.compile(rb'data-call="(\d+)" data-version="(\d+)"')
MOVE_KINDS = ("moved", "reordered", "assigned")


@dataclass
class Attempt:
    client: int
    call_id: int
    expected_version: int
    technician: int | None
    position: int | None
    began: float
    ended: float = 0.0
    status: int = 0
    # accepted | conflict | refused | unavailable (503 database down) | server_error | lost
    outcome: str = ""
    detail: str = ""


@dataclass
class Soak:
    """What a soak ran against and what happened."""

    port: int
    day: date
    team_id: int
    technician_ids: list[int]
    sessionids: list[str]
    initial: dict[int, int]  # call id -> version before the soak
    attempts: list[Attempt] = field(default_factory=list)
    board_reads: int = 0
    # (began, ended, status, body) of every board read: what the fault drills look at
    reads: list[tuple[float, float, int, bytes]] = field(default_factory=list)
    read_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def soak_prepare(*, port: int, day: date, team_id: int, users) -> Soak:
    from bench.servers import session_for
    from dispatch.models import ServiceCall
    from technicians.models import Technician

    techs = list(
        Technician.objects.filter(team_id=team_id).order_by("id").values_list("id", flat=True)
    )
    initial = dict(ServiceCall.objects.filter(scheduled_day=day).values_list("id", "version"))
    sessions = [session_for(u) for u in users]
    return Soak(port, day, team_id, techs, sessions, initial)


def _client(soak: Soak, index: int, stop: threading.Event, lock: threading.Lock) -> None:
    rng = random.Random(1000 + index)  # noqa: S311 - load, not crypto
    http = HttpSession(soak.port, soak.sessionids[index % len(soak.sessionids)])
    board = f"/board/?day={soak.day.isoformat()}&team={soak.team_id}"
    hot_calls = sorted(soak.initial)[:6]
    hot_techs = soak.technician_ids[:3]
    while not stop.is_set():
        began = time.monotonic()
        try:
            page = http.get(board)
        except OSError as exc:
            with lock:
                soak.read_errors.append(f"board read: {exc}")
                soak.reads.append((began, time.monotonic(), 0, str(exc).encode()))
            continue
        with lock:
            soak.board_reads += 1
            soak.reads.append((began, time.monotonic(), page.status, page.body[:300]))
        if page.status != 200:
            with lock:
                soak.read_errors.append(f"board read {page.status}")
            time.sleep(0.05)  # a board that is down is not hammered
            continue
        cards = {int(c): int(v) for c, v in CARD.findall(page.body)}
        if not cards:
            continue
        hot = [c for c in hot_calls if c in cards]
        call = rng.choice(hot) if hot and rng.random() < 0.5 else rng.choice(sorted(cards))
        roll = rng.random()
        if roll < 0.1:
            tech, position = None, None
        else:
            tech = rng.choice(hot_techs if roll < 0.6 else soak.technician_ids)
            position = rng.randint(0, 8)
        attempt = Attempt(index, call, cards[call], tech, position, time.monotonic())
        form = {
            "call": call,
            "technician": "" if tech is None else tech,
            "position": "" if position is None else position,
            "expected_version": cards[call],
            "confirm": "1",
            "reason": "soak: rebalancing",
            "day": soak.day.isoformat(),
            "team": soak.team_id,
        }
        try:
            answer = http.post("/board/move/", form=form, headers={"HX-Request": "true"})
        except OSError as exc:
            attempt.outcome, attempt.detail = "lost", str(exc)
        else:
            attempt.status = answer.status
            attempt.outcome = _outcome(answer.status, answer.body)
            if attempt.outcome != "accepted":
                attempt.detail = answer.body[:200].decode(errors="replace")
        attempt.ended = time.monotonic()
        with lock:
            soak.attempts.append(attempt)


def _outcome(status: int, body: bytes) -> str:
    if status == 200 and b"Moved call" in body:
        return "accepted"
    if status == 409:
        return "conflict"
    if status == 503 and b"database is unavailable" in body:
        return "unavailable"
    if status >= 500:
        return "server_error"
    return "refused"


def _beat(send_recompute, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        send_recompute()


def soak_run(
    soak: Soak, *, clients: int, seconds: float, send_recompute=None, warmup: int = 6
) -> Soak:
    """Run the clients (and the beat, if given) for `seconds`; fills `soak.attempts`."""
    # Untimed: fresh gunicorn workers import and compile templates on their first requests.
    warm = HttpSession(soak.port, soak.sessionids[0])
    for _ in range(warmup):
        warm.get(f"/board/?day={soak.day.isoformat()}&team={soak.team_id}")
    stop, lock = threading.Event(), threading.Lock()
    threads = [
        threading.Thread(target=_client, args=(soak, i, stop, lock), daemon=True)
        for i in range(clients)
    ]
    if send_recompute is not None:
        threads.append(threading.Thread(target=_beat, args=(send_recompute, stop, 2.0)))
    began = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    soak.seconds = time.monotonic() - began
    return soak


# --- invariants ---------------------------------------------------------------------------------


def invariants_check(soak: Soak, *, outage: bool = False) -> list[str]:
    """Every broken invariant, in words; an empty list means the soak passed.

    With `outage` (a database fault drill), a move answered 503 "database unavailable" may or
    may not have been saved (the outage can strike between commit and answer): it may account
    for a version, an event and the final place, but nothing else may. Without it, any such
    answer is a problem.
    """
    from dispatch.models import CallEvent, ServiceCall

    problems: list[str] = []
    calls = {
        c["id"]: c
        for c in ServiceCall.objects.filter(scheduled_day=soak.day).values(
            "id", "status", "technician_id", "position", "version", "eta", "planned_start"
        )
    }
    if set(calls) != set(soak.initial):
        problems.append(f"calls appeared or vanished: {set(calls) ^ set(soak.initial)}")
    queues: dict[int, list[int]] = defaultdict(list)
    for c in calls.values():
        if c["status"] in ("completed", "cancelled"):
            continue
        queued = c["technician_id"] is not None
        if queued != (c["position"] is not None) or queued != (c["status"] != "new"):
            problems.append(f"call {c['id']} is not in exactly one place: {c}")
        if queued:
            queues[c["technician_id"]].append(c["position"])
        elif c["eta"] is not None or c["planned_start"] is not None:
            problems.append(f"unassigned call {c['id']} still has a planned ETA")
    for tech, positions in queues.items():
        if sorted(positions) != list(range(len(positions))):
            problems.append(f"technician {tech}: positions not dense: {sorted(positions)}")

    by_call: dict[int, list[Attempt]] = defaultdict(list)
    unsure: dict[int, list[Attempt]] = defaultdict(list)
    for a in soak.attempts:
        if a.outcome == "accepted":
            by_call[a.call_id].append(a)
        elif a.outcome == "unavailable" and outage:
            unsure[a.call_id].append(a)
    events = Counter(
        CallEvent.objects.filter(call_id__in=list(calls), kind__in=MOVE_KINDS).values_list(
            "call_id", flat=True
        )
    )
    for call_id in calls:
        problems += _call_history_check(
            call_id, calls[call_id], soak.initial.get(call_id), by_call[call_id],
            unsure[call_id], events.get(call_id, 0),
        )  # fmt: skip
    problems += _etas_fresh(soak.day)
    failed = ("server_error", "lost") if outage else ("server_error", "lost", "unavailable")
    bad = [a for a in soak.attempts if a.outcome in failed]
    if bad:
        problems.append(f"{len(bad)} server errors or lost requests, e.g. {bad[0]}")
    # In a database drill the board's 503s are the drill's to judge (bench/faults.py).
    problems += [e for e in soak.read_errors if not (outage and e.endswith("503"))][:5]
    return problems


def _call_history_check(call_id, final, start, moves, unsure, events) -> list[str]:
    """One call: its accepted moves (and any unsure ones) explain its version, events, place."""
    problems = []
    used = sorted(a.expected_version for a in moves)
    if len(set(used)) != len(used):
        problems.append(f"call {call_id}: two moves accepted on one version: {used}")
    if start is None:
        return problems
    applied = {a.expected_version: a for a in moves}
    for v in range(start, final["version"]):
        if v not in applied:
            maybe = [a for a in unsure if a.expected_version == v]
            if not maybe:
                problems.append(f"call {call_id}: version {v} was used by no acknowledged move")
                continue
            applied[v] = maybe[0]
    if any(v >= final["version"] or v < start for v in used):
        problems.append(
            f"call {call_id}: versions {start}->{final['version']} but moves accepted on {used}"
        )
    if not len(moves) <= events <= len(applied):
        problems.append(f"call {call_id}: {len(moves)} accepted moves but {events} move events")
    if applied:
        last = applied[max(applied)]
        if final["technician_id"] != last.technician:
            problems.append(
                f"call {call_id}: the last acknowledged move (v{last.expected_version}) sent it"
                f" to {last.technician}, it is with {final['technician_id']}"
            )
    return problems


def _etas_fresh(day: date) -> list[str]:
    """A fresh recompute of every queue, in a transaction rolled back: it must change nothing."""
    from dispatch.services.etas import etas_refresh_technicians

    with transaction.atomic():
        written = etas_refresh_technicians(technician_ids=None, day=day)
        transaction.set_rollback(True)
    return [f"a fresh recompute would change {written} stored ETAs"] if written else []


def summary(soak: Soak) -> str:
    outcomes = Counter(a.outcome for a in soak.attempts)
    total = len(soak.attempts)
    slowest = max((a.ended - a.began for a in soak.attempts), default=0.0)
    return (
        f"{soak.seconds:.0f} s: {total} moves attempted, {outcomes['accepted']} accepted "
        f"({outcomes['accepted'] / soak.seconds:.1f}/s), {outcomes['conflict']} conflicts "
        f"({outcomes['conflict'] / max(total, 1):.0%} 409), {outcomes['refused']} refused "
        f"(400/403/404), {outcomes['unavailable']} database-unavailable 503s, "
        f"{outcomes['server_error']} other server errors, {outcomes['lost']} lost; "
        f"{soak.board_reads} board reads; slowest move {slowest * 1000:.0f} ms"
    )


def refused_reasons(soak: Soak) -> Counter:
    return Counter(
        re.sub(r"#?\d+", "N", a.detail[:80]) for a in soak.attempts if a.outcome == "refused"
    )


# --- the script ---------------------------------------------------------------------------------


def main() -> None:
    import argparse
    import tempfile

    from celery import Celery
    from django.utils import timezone

    from bench.fleet import build_fleet, data_wipe, database_prepare
    from bench.servers import app_env, celery_worker_start, gunicorn_start, queue_drain
    from dispatch.services.etas import etas_refresh_day

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--techs", type=int, default=12)
    parser.add_argument("--calls", type=int, default=96)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--celery-workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=int(os.environ.get("SOAK_PORT", "18920")))
    args = parser.parse_args()
    broker = os.environ.get("REDIS_URL")
    if not broker:
        raise SystemExit("set REDIS_URL: the soak runs real Celery workers on it")

    database_prepare()
    data_wipe()
    day = timezone.localdate() + timedelta(days=1)
    fleet = build_fleet(techs=args.techs, calls=args.calls, day=day, seed=1)
    etas_refresh_day(day=day)
    dispatchers = [fleet.dispatcher]
    soak = soak_prepare(port=args.port, day=day, team_id=fleet.team.pk, users=dispatchers)
    connection.close()
    log_dir = Path(tempfile.mkdtemp(prefix="soak-"))
    env = app_env(os.environ["DATABASE_URL"], broker)
    started = []
    app = Celery(broker=broker)
    try:
        started.append(
            gunicorn_start(port=args.port, workers=args.web_workers, env=env, log_dir=log_dir)
        )
        for i in range(args.celery_workers):
            started.append(celery_worker_start(name=f"soak{i}", env=env, log_dir=log_dir))
        recompute = lambda: app.send_task("dispatch.tasks.recompute_day", args=(day.isoformat(),))  # noqa: E731
        soak_run(soak, clients=args.clients, seconds=args.seconds, send_recompute=recompute)
        queue_drain(broker, timeout=30)  # the workers finish what the last moves queued
    finally:
        for proc in reversed(started):
            proc.stop()
        app.close()
    print(summary(soak))
    for reason, n in refused_reasons(soak).most_common(5):
        print(f"  refused x{n}: {reason}")
    problems = invariants_check(soak)
    print("invariants: " + ("all hold" if not problems else f"{len(problems)} BROKEN"))
    for p in problems[:20]:
        print("  -", p)
    print(f"logs in {log_dir}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
