"""The entry point: plan the demo, replace the stored data with it, and summarise the result.

Planning happens before the transaction opens, so the transaction holds only the writes;
``seed_demo``, the tests and the benchmarks all come in through ``demo_build``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

from common import clock
from customers.models import Customer, Site
from dispatch.demo.day import plan_demo
from dispatch.demo.history import save_calls
from dispatch.demo.plan import company_tz
from dispatch.demo.reference import PASSWORD, TECHNICIAN_COUNT
from dispatch.demo.rota import save_rota
from dispatch.demo.save import save_company, save_users, wipe
from dispatch.models import ServiceCall
from dispatch.services.etas import etas_refresh_day
from technicians.models import OnCallShift, Team, Technician


@dataclass(frozen=True)
class DemoResult:
    seed: int
    day: date
    now: datetime  # the reference time the day was built and its ETAs computed at


def demo_build(
    *, seed: int = 1, day: date | None = None, now: datetime | None = None
) -> DemoResult:
    """Wipe the dispatch data and build the demo company and its day, in one transaction."""
    now = now or clock.now()
    day = day or now.astimezone(company_tz()).date()
    plan = plan_demo(seed=seed, day=day, now=now)
    with transaction.atomic():
        wipe()
        users = save_users(plan)
        company = save_company(plan, users)
        save_rota(day, company[1], plan.now)
        save_calls(plan, users, company)
        etas_refresh_day(day=day, now=plan.now)
    return DemoResult(seed=seed, day=day, now=plan.now)


def counted(values) -> str:
    counts = Counter(values)
    return ", ".join(f"{key} {counts[key]}" for key in sorted(counts)) or "none"


def summary_lines(result: DemoResult) -> list[str]:
    calls = list(
        ServiceCall.objects.filter(scheduled_day=result.day).values_list(
            "status", "risk", "priority"
        )
    )
    open_calls = [c for c in calls if c[0] in ServiceCall.OPEN_STATUSES]
    teams = list(Team.objects.order_by("name").values_list("name", flat=True))
    techs = list(Technician.objects.values_list("status", flat=True))
    contracts = list(Customer.objects.values_list("contract", flat=True))
    local = result.now.astimezone(company_tz())
    return [
        f"Demo company for {result.day:%A %Y-%m-%d} (seed {result.seed}, as of {local:%H:%M %Z}):",
        f"  teams: {len(teams)} ({', '.join(teams)})",
        f"  technicians: {len(techs)} ({counted(techs)})",
        f"  customers: {len(contracts)} ({counted(contracts)}), sites: {Site.objects.count()}",
        f"  calls: {len(calls)}, emergencies: {sum(c[2] == 'emergency' for c in calls)}",
        f"    by status: {counted(c[0] for c in calls)}",
        f"    by risk (open calls): {counted(c[1] for c in open_calls)}",
        f"  on-call rota: {OnCallShift.objects.count()} spans (every night 17:00-08:00, weekends)",
        f"Logins (password {PASSWORD}):",
        "  manager      manager; staff and superuser, so /admin/ too",
        "  dispatcher   dispatcher, team North",
        "  csr          CSR, team North",
        f"  tech1..tech{TECHNICIAN_COUNT}  technicians (tech1-5 North, tech6-10 Central, "
        "tech11-15 South)",
    ]
