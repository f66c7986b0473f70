"""The day planner: plan time, peak memory and plan quality by size and solver time, against the
product's one-call-at-a-time insertion measured in the same run.

    python bench/bench_plan.py [--quick] [--sizes 15x100,60x600,200x2000] [--seconds 2,10,30]
                               [--at 12:00] [--no-trace]

Runs in its own database (BENCH_PLAN_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/dispatch_bench_plan; created and migrated at start; refused
unless its name holds "bench"; wiped for every size; DATABASE_URL is ignored). For each size the
synthetic team of bench/fleet.py (seed 1: 90% of the calls queued, the rest waiting) is written for
today; "now" is --at local time (default noon: every queue is under way). Then, each in a fresh
Python process (so its peak RSS is its own):

- **planner**: the product path, ``plan_request(start=False)`` then ``plan_compute(now=...)`` with
  the PyVRP solver, once per --seconds. Timed by phase: reading the day (``plan_input``), the
  problem and travel matrix (``day_plan._problem``), building the PyVRP model (the solver call
  minus its searches), the searches (PyVRP's own clock), judging the proposal (the rest of
  ``plan_day``: least-change, placing what was left out, figures, changes) and storing the plan.
  "Overhead" is the whole ``plan_compute`` minus the solver's limit.
- **insertion** (the baseline): the same ``plan_input``, then each waiting call, in deadline order,
  placed where the product's Suggest would put it (``choice.candidates``; an emergency by
  ``choice.send_now``, like the day simulation; nobody on time: the least-late place), queued calls
  left as they are; judged by the same ``day_plan.figures``.
- **idle**: a process that only sets up Django, imports PyVRP and the planner and touches the
  database: its peak RSS is subtracted from the others'.
- **trace** (unless --no-trace): the planner again at the smallest --seconds under tracemalloc,
  for the peak of Python's own allocations (PyVRP's C++ memory is not seen by it); its times are
  not reported (tracemalloc slows Python code).

--quick: 15 x 100 and 60 x 600 at 2 s only. One run per cell (the solver's time is the cost);
the overhead's median is over the --seconds of one size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_PLAN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_bench_plan"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "false")
warnings.filterwarnings("ignore", message="No directory at")

import django

django.setup()

FULL_SIZES = "15x100,60x600,200x2000"
QUICK_SIZES = "15x100,60x600"


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KB on Linux


def _now_at(day, at: str):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from django.conf import settings

    hour, minute = (int(x) for x in at.split(":"))
    return datetime.combine(day, time(hour, minute), ZoneInfo(settings.TIME_ZONE))


def _fleet_team(techs: int, calls: int):
    from django.contrib.auth.models import User

    from technicians.models import Team

    team = Team.objects.get(name=f"Bench {techs}x{calls}")
    return team, User.objects.get(username="bench-dispatcher")


# --- the children (each a fresh process) ----------------------------------------------------------


def child_idle(_args) -> dict:
    import pyvrp  # noqa: F401 - what the planner's process holds too
    from django.db import connection

    import dispatch.planning.day_plan  # noqa: F401
    import dispatch.planning.pyvrp_solver  # noqa: F401
    import dispatch.services.day_plans  # noqa: F401

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dispatch_servicecall")
        cursor.fetchone()
    return {"maxrss_mb": _maxrss_mb()}


class Clock:
    """Seconds spent in wrapped functions, by name (a call inside another counts in both)."""

    def __init__(self):
        self.spent: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.kept: dict[str, object] = {}

    def wrap(self, name: str, fn, keep: bool = False):
        def timed(*args, **kwargs):
            began, cpu = time.perf_counter(), time.process_time()
            try:
                result = fn(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - began
                self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu
            if keep:
                self.kept[name] = result
            return result

        return timed


def child_plan(args) -> dict:
    import tracemalloc

    from django.db import connection
    from django.utils import timezone

    from dispatch.models import DayPlan
    from dispatch.planning import day_plan, pyvrp_solver
    from dispatch.services import day_plans

    day = timezone.localdate()
    now = _now_at(day, args.at)
    team, user = _fleet_team(args.techs, args.calls)
    clock = Clock()
    # Instrumented in place (the names the modules call through): nothing in them is changed.
    day_plans.plan_input = clock.wrap("read", day_plans.plan_input)
    day_plans.plan_day = clock.wrap("plan_day", day_plans.plan_day, keep=True)
    day_plan._problem = clock.wrap("problem", day_plan._problem, keep=True)
    day_plan.travel_matrix = clock.wrap("matrix", day_plan.travel_matrix)
    search = clock.wrap("search", pyvrp_solver._search)
    runtimes: list[float] = []

    clients: list[int] = []

    def searched(data, *a, **kw):
        clients.append(data.num_clients)
        best, runtime = search(data, *a, **kw)
        runtimes.append(runtime)  # PyVRP's own clock: from its first stopping check
        return best, runtime

    pyvrp_solver._search = searched
    solver = clock.wrap("solver", pyvrp_solver.solve, keep=True)
    plan = day_plans.plan_request(
        user=user, day=day, team_id=team.pk, seconds=args.seconds, start=False
    )
    rss_before = _maxrss_mb()
    if args.trace:
        tracemalloc.start()
    began = time.perf_counter()
    cpu_began = time.process_time()
    day_plans.plan_compute(plan.pk, now=now, solver=solver)
    wall = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if args.trace else None
    plan = DayPlan.objects.get(pk=plan.pk)
    assert plan.status == "ready", (plan.status, plan.error)
    proposal = clock.kept["plan_day"]
    answer = clock.kept["solver"]
    problem = clock.kept["problem"][0]
    s = clock.spent
    plan_day_s, problem_s, solver_s, search_s = (
        s["plan_day"],
        s["problem"],
        s["solver"],
        s.get("search", 0.0),
    )
    connection.close()
    return {
        "wall": wall,
        "cpu": cpu,
        "read": s["read"],
        "matrix": s["matrix"],
        "problem": problem_s - s["matrix"],
        "model": solver_s - search_s,
        "search": search_s,
        "search_cpu": clock.cpu.get("search", 0.0),
        "pyvrp_runtime": sum(runtimes),
        "searches": len(runtimes),
        "clients": clients,
        "solver_seconds": answer.seconds,
        "judge": plan_day_s - problem_s - solver_s,
        "store": wall - s["read"] - plan_day_s,
        "before": plan.before,
        "after": plan.after,
        "unplanned": len(plan.unplanned),
        "late_placed": len(proposal.late_placed),
        "left_out": len(answer.left_out),
        "feasible": answer.feasible,
        "changes": len(plan.changes),
        "places": len(problem.durations),
        "jobs": len(problem.jobs),
        "vehicles": len(problem.vehicles),
        "maxrss_mb": _maxrss_mb(),
        "maxrss_before_mb": rss_before,
        "traced_mb": traced,
    }


def insertion_place(day_input):
    """Each waiting call, most urgent deadline first, where Suggest would put it; the queues as
    they stand otherwise. Returns (routes, calls nobody could take)."""
    from dataclasses import replace

    from dispatch.planning import choice
    from dispatch.planning.eligibility import unable
    from dispatch.planning.insertion import insertions

    world = day_input.world
    routes = dict(world.routes)
    order = sorted(
        day_input.unassigned,
        key=lambda s: (s.deadline if s.deadline is not None else float("inf"), str(s.id)),
    )
    left = []
    for stop in order:
        needs = frozenset(day_input.needs.get(stop.id, ()))
        emergency = day_input.priority.get(stop.id) == "emergency"
        now_world = replace(world, routes=routes)
        pick = choice.send_now if emergency else choice.candidates
        found, _ = pick(now_world, stop, needs)
        if found:
            tech, position = found[0].technician_id, found[0].position
        else:  # nobody on time: the least lateness in all, as the day simulation does
            tries = []
            for t, worker in world.workers.items():
                if unable(worker, needs, now=world.now, emergency=emergency):
                    continue
                for ins in insertions(
                    routes[t], stop, world.travel, rules=world.rules, promises=world.promises
                ):
                    own = -ins.leg.slack if ins.leg.late else 0.0
                    tries.append((own + ins.ripple.added_lateness, ins.travel_added, str(t), t,
                                  ins.position))  # fmt: skip
            if not tries:
                left.append(stop)
                continue
            *_, tech, position = min(tries)
        stops = list(routes[tech].stops)
        stops.insert(position, stop)
        routes[tech] = routes[tech].with_stops(stops)
    return routes, left


def child_insertion(args) -> dict:
    import pyvrp  # noqa: F401 - imported as in the planner's process, for the same RSS baseline
    from django.db import connection
    from django.utils import timezone

    from dispatch.planning.plan_figures import figures
    from dispatch.selectors.day_plans import plan_input

    day = timezone.localdate()
    now = _now_at(day, args.at)
    team, _ = _fleet_team(args.techs, args.calls)
    began = time.perf_counter()
    day_input = plan_input(team.pk, day, now).day_input
    read = time.perf_counter() - began
    placed_at = time.perf_counter()
    routes, left = insertion_place(day_input)
    place = time.perf_counter() - placed_at
    judged_at = time.perf_counter()
    world = day_input.world
    before = figures(
        day_input,
        world.routes,
        {t: r.plan(world.travel) for t, r in world.routes.items()},
        day_input.unassigned,
        moved=0,
    )
    after = figures(
        day_input, routes, {t: r.plan(world.travel) for t, r in routes.items()}, left, moved=0
    )
    judge = time.perf_counter() - judged_at
    connection.close()
    return {
        "wall": time.perf_counter() - began,
        "read": read,
        "place": place,
        "judge": judge,
        "waiting": len(day_input.unassigned),
        "left": len(left),
        "before": before.as_dict(),
        "after": after.as_dict(),
        "maxrss_mb": _maxrss_mb(),
    }


CHILDREN = {"idle": child_idle, "plan": child_plan, "insertion": child_insertion}


def run_child(kind: str, techs: int = 0, calls: int = 0, seconds: int = 0, *, at: str,
              trace: bool = False) -> dict:  # fmt: skip
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--at", at]
    cmd += ["--techs", str(techs), "--calls", str(calls), "--child-seconds", str(seconds)]
    if trace:
        cmd.append("--trace")
    began = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=3600)  # noqa: S603
    took = time.perf_counter() - began
    if done.returncode != 0:
        ru = f"exit {done.returncode}"
        print(f"  {kind} {techs}x{calls} {seconds}s FAILED ({ru}, {took:.0f} s):")
        print(done.stdout[-3000:], done.stderr[-5000:])
        return {"failed": ru, "process_s": took}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = took
    return result


# --- the parent: build each size, run the children, print the tables ------------------------------


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def fmt(x, nd=1) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    return f"{x:,}"


def figs(f: dict) -> str:
    return (
        f"{f['late']} / {f['at_risk']} / {f['travel_minutes']:,.0f} / {f['overtime_minutes']:,.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15x100 and 60x600 at 2 s only")
    parser.add_argument("--sizes", default=None, help=f"techs x calls, comma list ({FULL_SIZES})")
    parser.add_argument("--seconds", default=None, help="solver limits, comma list (2,10,30)")
    parser.add_argument("--at", default="12:00", help="'now', local time of today (12:00)")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--techs", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--child-seconds", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.seconds = args.child_seconds
        print(json.dumps(CHILDREN[args.child](args)))
        return

    from django.db import connection
    from django.utils import timezone

    from bench.fleet import build_fleet, data_wipe, database_prepare

    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    limits = [int(x) for x in (args.seconds or ("2" if args.quick else "2,10,30")).split(",")]
    sizes = [tuple(int(n) for n in s.split("x")) for s in sizes.split(",")]
    began = time.perf_counter()
    name = database_prepare()
    print(
        f"database {name}; sizes {sizes}; solver limits {limits} s; now = today {args.at} local; "
        f"{os.cpu_count()} CPUs; load average at the start {load()}"
    )
    idle = run_child("idle", at=args.at)
    base_rss = idle["maxrss_mb"]
    print(
        f"idle process (Django + PyVRP + planner imported, one query): peak RSS {base_rss:.0f} MB"
    )
    results: dict[tuple, dict] = {}
    for techs, calls in sizes:
        data_wipe()
        built_at = time.perf_counter()
        fleet = build_fleet(techs=techs, calls=calls, day=timezone.localdate(), seed=1)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would have by now
        connection.close()
        print(
            f"\n{techs} x {calls}: fleet written in {time.perf_counter() - built_at:.1f} s "
            f"({fleet.assigned} queued, {fleet.unassigned} waiting); load {load()}"
        )
        ins = run_child("insertion", techs, calls, at=args.at)
        results[(techs, calls, "insertion")] = ins
        if "failed" not in ins:
            print(
                f"  insertion: {ins['wall']:.1f} s (read {ins['read']:.1f}, place "
                f"{ins['place']:.1f}, judge {ins['judge']:.1f}); late/at risk/travel/overtime "
                f"{figs(ins['after'])}; peak RSS +{ins['maxrss_mb'] - base_rss:.0f} MB"
            )
        for limit in limits:
            r = run_child("plan", techs, calls, limit, at=args.at)
            results[(techs, calls, limit)] = r
            if "failed" in r:
                continue
            print(
                f"  planner {limit:>2} s: plan_compute {r['wall']:.1f} s (read {r['read']:.1f}, "
                f"matrix {r['matrix']:.2f}, problem {r['problem']:.2f}, model {r['model']:.2f}, "
                f"search {r['search']:.1f}, judge {r['judge']:.1f}, store {r['store']:.2f}); "
                f"{figs(r['after'])}; peak RSS +{r['maxrss_mb'] - base_rss:.0f} MB; "
                f"load {load()}"
            )
        if not args.no_trace:
            t = run_child("plan", techs, calls, min(limits), at=args.at, trace=True)
            results[(techs, calls, "trace")] = t
            if "failed" not in t:
                print(f"  tracemalloc peak (Python objects) {t['traced_mb']:.0f} MB")
    print_tables(results, sizes, limits, base_rss)
    print(
        f"\nload average at the end {load()}; total {time.perf_counter() - began:.0f} s "
        "(each cell one run; see bench/README.md)"
    )


def print_tables(results, sizes, limits, base_rss) -> None:
    print("\nPlan time and memory (seconds; RSS: peak growth over the idle process)")
    head = (
        "| size | limit | plan_compute | overhead | read | matrix+problem | model | PyVRP set-up "
        "| search (PyVRP clock) | judge | store | peak RSS + | tracemalloc peak |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for techs, calls in sizes:
        trace = results.get((techs, calls, "trace"), {})
        for limit in limits:
            r = results.get((techs, calls, limit), {})
            if "failed" in r or not r:
                print(f"| {techs} x {calls} | {limit} s | FAILED {r.get('failed', '')} |")
                continue
            traced = trace.get("traced_mb") if limit == min(limits) else None
            print(
                f"| {techs} x {calls} | {limit} s | {r['wall']:.1f} | {r['wall'] - limit:+.1f} "
                f"| {r['read']:.2f} | {r['matrix'] + r['problem']:.2f} | {r['model']:.2f} "
                f"| {r['search'] - r['pyvrp_runtime']:.2f} | {r['pyvrp_runtime']:.1f} "
                f"| {r['judge']:.2f} | {r['store']:.2f} "
                f"| {r['maxrss_mb'] - base_rss:.0f} MB "
                f"| {'' if traced is None else f'{traced:.0f} MB'} |"
            )
        overheads = [
            results[(techs, calls, lim)]["wall"] - lim
            for lim in limits
            if "failed" not in results.get((techs, calls, lim), {"failed": 1})
        ]
        if len(overheads) > 1:
            print(
                f"| {techs} x {calls} | median overhead | | {statistics.median(overheads):+.1f} |"
            )

    print(
        "\nPlan quality: late / at risk / travel min / overtime min after the plan, "
        "against insertion (same calls, same run)"
    )
    head = (
        "| size | queued + waiting | before | insertion (time) | planner 2/10/30 s | "
        "late vs ins. | travel vs ins. | moved | unplanned |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for techs, calls in sizes:
        ins = results.get((techs, calls, "insertion"), {})
        runs = [(lim, results.get((techs, calls, lim), {})) for lim in limits]
        ok = [(lim, r) for lim, r in runs if r and "failed" not in r]
        if "failed" in ins or not ins or not ok:
            print(f"| {techs} x {calls} | FAILED |")
            continue
        planner = "; ".join(f"{lim} s: {figs(r['after'])}" for lim, r in ok)
        late = ", ".join(
            f"{r['after']['late']}/{ins['after']['late']}"
            + (
                f" ({r['after']['late'] / ins['after']['late']:.2f}x)"
                if ins["after"]["late"]
                else ""
            )
            for _, r in ok
        )
        travel = ", ".join(
            f"{r['after']['travel_minutes'] / ins['after']['travel_minutes']:.2f}x" for _, r in ok
        )
        moved = ", ".join(str(r["after"]["calls_moved"]) for _, r in ok)
        unplanned = ", ".join(str(r["unplanned"]) for _, r in ok)
        print(
            f"| {techs} x {calls} | {calls - ins['waiting']} + {ins['waiting']} "
            f"| {figs(ins['before'])} | {figs(ins['after'])} ({ins['place']:.1f} s) "
            f"| {planner} | {late} | {travel} | {moved} | {unplanned} (ins. {ins['left']}) |"
        )
        for lim, r in ok:
            if r["before"] != ins["before"]:
                print(f"  NOTE: the planner's 'before' differs at {lim} s: {r['before']}")
    print(
        "\nSolver detail: jobs / places / vehicles; solver answer feasible; left out by the "
        "solver (placed by the core: late_placed)"
    )
    for techs, calls in sizes:
        for limit in limits:
            r = results.get((techs, calls, limit), {})
            if r and "failed" not in r:
                print(
                    f"  {techs} x {calls} {limit:>2} s: {r['jobs']} jobs, {r['places']} places, "
                    f"{r['vehicles']} vehicles; feasible {r['feasible']}; left out "
                    f"{r['left_out']}, late_placed {r['late_placed']}; changes {r['changes']}; "
                    f"PyVRP clients (copies) per search {r['clients']}; cpu {r['cpu']:.1f} s of "
                    f"{r['wall']:.1f} s wall (search: {r['search_cpu']:.1f} s cpu of "
                    f"{r['search']:.1f} s; {r['searches']} searches, PyVRP's clock "
                    f"{r['pyvrp_runtime']:.1f} s, so {r['search'] - r['pyvrp_runtime']:.1f} s of "
                    "set-up before it starts)"
                )


if __name__ == "__main__":
    main()
