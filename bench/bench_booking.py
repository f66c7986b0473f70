"""The booking window search: how long offering windows takes, as ratios to neighbours measured in
the same run.

Same database rules as bench_board.py (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/dispatch_bench, must name a *bench* database; wiped between
scenarios). Scenarios: the demo company (team North) and a synthetic team of --techs x --calls
(bench/fleet.py), "now" being the real clock. Measures, interleaved run by run:

- offers POST: POST /book/ action=offers through the test Client, as the dispatcher (the page,
  the capacity meter and every offered window of today and tomorrow);
- booking_offers: the service alone (no HTTP, no template);
- team_load: its reads alone (technicians, both days' open calls, skills): the database part;
- call_candidates: the existing search of every technician's best place for one unassigned call of
  today (one day, no windows), the nearest thing the product already does.

    python bench/bench_booking.py [--runs 7] [--techs 60] [--calls 600] [--skip-demo]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# Never the product's database: the benches wipe whatever they run in (as bench_board.py).
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.bench_board import Row, medians, print_table  # noqa: E402
from bench.fleet import build_fleet, data_wipe, database_prepare  # noqa: E402
from customers.models import Site  # noqa: E402
from dispatch.models import ServiceCall  # noqa: E402
from dispatch.planning import routes  # noqa: E402
from dispatch.selectors import booking  # noqa: E402
from dispatch.selectors.candidates import call_candidates  # noqa: E402
from dispatch.selectors.capacity import team_load  # noqa: E402
from dispatch.services.etas import etas_refresh_day  # noqa: E402
from technicians.models import Team, Technician  # noqa: E402


@dataclass(frozen=True)
class Scenario:
    name: str
    day: date
    team_id: int
    user_id: int
    site_id: int
    skill: str
    call_id: int  # an unassigned call of today, for call_candidates


def scenario(name: str, team: Team, user: User) -> Scenario:
    day = timezone.localdate()
    tech = Technician.objects.filter(team=team).prefetch_related("skills").order_by("id").first()
    skill = tech.skills.order_by("code").first().code
    call = ServiceCall.objects.filter(scheduled_day=day, status="new").order_by("id").first()
    site = Site.objects.order_by("id")[Site.objects.count() // 2]
    return Scenario(name, day, team.pk, user.pk, site.pk, skill, call.pk)


def demo_scenario() -> Scenario:
    call_command("seed_demo", "--seed", "1", "--yes-wipe-everything", stdout=io.StringIO())
    return scenario(
        "demo seed 1 (North)", Team.objects.get(name="North"), User.objects.get(username="csr")
    )


def fleet_scenario(techs: int, calls: int) -> Scenario:
    fleet = build_fleet(techs=techs, calls=calls, day=timezone.localdate(), seed=1)
    etas_refresh_day(day=fleet.day)
    return scenario(f"fleet {techs}x{calls}", fleet.team, fleet.dispatcher)


def need(sc: Scenario) -> booking.BookingNeed:
    site = Site.objects.get(pk=sc.site_id)
    return booking.BookingNeed((site.lat, site.lng), frozenset({sc.skill}), 60, "normal")


def bench_scenario(sc: Scenario, runs: int) -> list[Row]:
    user = User.objects.get(pk=sc.user_id)
    team = Team.objects.get(pk=sc.team_id)
    client = Client()
    client.force_login(user)
    want = need(sc)
    data = {"action": "offers", "site": sc.site_id, "team": sc.team_id, "duration_minutes": 60}
    data["customer"] = Site.objects.get(pk=sc.site_id).customer_id
    days = booking.booking_days(timezone.now())

    def post():
        return lambda: client.post("/book/", data)

    plans = count_plans(lambda: booking.booking_offers(user=user, team=team, need=want))
    offers = booking.booking_offers(user=user, team=team, need=want)
    result = medians(
        {
            "http": post,
            "service": lambda: lambda: booking.booking_offers(user=user, team=team, need=want),
            "reads": lambda: lambda: team_load(team=team, days=days),
            "candidates": lambda: lambda: call_candidates(user=user, call_id=sc.call_id),
        },
        runs,
    )
    (h_ms, h_q), (s_ms, s_q) = result["http"], result["service"]
    (r_ms, r_q), (c_ms, c_q) = result["reads"], result["candidates"]
    techs = Technician.objects.filter(team=team).count()
    return [
        (sc.name, "offers POST", f"{h_ms:.1f}", f"{c_ms:.1f}", f"{h_ms / c_ms:.1f}x", "", str(h_q))
        + (f"{len(offers.offers)} windows offered; ratio to call_candidates",),
        (sc.name, "  booking_offers", f"{s_ms:.1f}", f"{c_ms:.1f}", f"{s_ms / c_ms:.1f}x", "")
        + (str(s_q), f"{plans} engine plans, {techs} technicians, skill {sc.skill}, 2 days"),
        (sc.name, "  team_load (reads)", f"{r_ms:.1f}", "", f"{r_ms / s_ms:.0%} of it", "")
        + (str(r_q), ""),
        (sc.name, "  call_candidates", f"{c_ms:.1f}", "", "", "", str(c_q), "one call, today"),
    ]


def count_plans(run) -> int:
    """How many times the search asks the engine for a whole queue's plan (each window is then
    priced incrementally by the planning core's insertion, which plans nothing whole)."""
    calls = 0
    original = routes.plan_route

    def counting(*args, **kwargs):
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    routes.plan_route = counting
    try:
        run()
    finally:
        routes.plan_route = original
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs; medians are reported")
    parser.add_argument("--techs", type=int, default=60, help="technicians in the synthetic team")
    parser.add_argument("--calls", type=int, default=600, help="calls of the synthetic day")
    parser.add_argument("--skip-demo", action="store_true", help="only the synthetic fleet")
    args = parser.parse_args()
    began = time.perf_counter()
    name = database_prepare()
    print(
        f"database {name}, {args.runs} runs, median; Django {django.get_version()}, "
        f"DEBUG={settings.DEBUG}, {os.cpu_count()} CPUs; now {timezone.localtime():%H:%M} local"
    )
    rows: list[Row] = []
    if not args.skip_demo:
        data_wipe()
        rows += bench_scenario(demo_scenario(), args.runs)
    data_wipe()
    rows += bench_scenario(fleet_scenario(args.techs, args.calls), args.runs)
    connection.close()
    print_table(rows)
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
