"""The published Solomon benchmarks planned through the product: each instance loaded as one team
(the depot every technician's home, the CVRPLIB solution's technician count, travel equal to the
Euclidean distance), planned through the API with 10 s of search, applied, and measured on the
board the moves left behind."""

from __future__ import annotations

import json
import math
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from customers.models import Customer, Site
from dispatch.models import ServiceCall
from dispatch.services.day_plans import plan_compute
from technicians.models import Team
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db

SOLOMON = Path(__file__).resolve().parents[1] / "data" / "solomon"
# Instance: (how far above the CVRPLIB optimum the travel may be, the optimum).
TARGETS = {"C101": 0.01, "R101": 0.03, "RC101": 0.03}


def _instance(name: str):
    rows = [r.split() for r in (SOLOMON / "instances" / f"{name}.txt").read_text().splitlines()]
    rows = [[float(x) for x in r] for r in rows if len(r) == 7 and r[0].isdigit()]
    return rows[0], rows[1:]


def _at(minutes: float) -> datetime:
    midnight = datetime.combine(DAY, time(0, 0), ZoneInfo(settings.TIME_ZONE))
    return midnight + timedelta(minutes=minutes)


def _load(name: str):
    """One team: every technician starts at the depot at 00:00 and ends by its due time."""
    depot, customers = _instance(name)
    solution = json.loads((SOLOMON / "solutions" / f"{name}.cvrplib.json").read_text())
    team = Team.objects.create(name=f"Solomon {name}")
    end = _at(depot[5]).timetz().replace(tzinfo=None)
    techs = []
    for i in range(solution["vehicles"]):
        tech = make_technician(f"{name.lower()}-{i}", team, home=(depot[2], depot[1]))
        tech.shift_start, tech.shift_end = time(0, 0), end
        tech.save(update_fields=["shift_start", "shift_end"])
        techs.append(tech)
    customer = Customer.objects.create(name=f"{name} customers", contract="time_and_materials")
    for number, x, y, _demand, ready, due, service in customers:
        site = Site.objects.create(
            customer=customer, address=f"Customer {number:.0f}", lat=y, lng=x
        )
        ServiceCall.objects.create(
            customer=customer, site=site, summary=f"Customer {number:.0f}",
            duration_minutes=int(service), window_start=_at(ready), deadline=_at(due),
            scheduled_day=DAY,
        )  # fmt: skip
    return team, techs, (depot[2], depot[1]), solution


@pytest.fixture
def solomon_settings(settings, clock_at):
    settings.TRAVEL_PROVIDER = "plane"
    settings.TRAVEL_PLANE_SECONDS_PER_UNIT = 60.0  # one unit of distance, one minute
    settings.PLAN_MAX_OVERTIME_MINUTES = 0  # every route ends by the depot's due time
    settings.PLAN_DRIVE_HOME = True  # Solomon routes return to the depot
    clock_at(local(12, 0, day=DAY - timedelta(days=1)))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_solomon_planned_through_the_api_and_applied(api, manager, solomon_settings, name):
    team, techs, depot, solution = _load(name)
    created = api.as_user(manager).post(
        "/api/v1/plans/", {"day": DAY.isoformat(), "team": team.pk, "seconds": 10}, format="json"
    )
    assert created.status_code == 201, created.json()
    plan_compute(created.json()["id"])
    plan = api.as_user(manager).get(f"/api/v1/plans/{created.json()['id']}/").json()
    assert plan["status"] == "ready" and plan["unplanned"] == []
    assert plan["after"]["late"] == 0

    applied = api.as_user(manager).post(f"/api/v1/plans/{plan['id']}/apply/", {}, format="json")
    assert applied.status_code == 200, applied.json()
    assert len(applied.json()["moved"]) == 100

    # Measured on the board: every customer in a queue, nobody late, the driving of the queues.
    distance, visited = 0.0, []
    for tech in techs:
        queue = list(
            ServiceCall.objects.filter(technician=tech, scheduled_day=DAY)
            .order_by("position")
            .select_related("site")
        )
        places = [depot, *((c.site.lat, c.site.lng) for c in queue), depot] if queue else []
        distance += sum(math.dist(a, b) for a, b in zip(places, places[1:], strict=False))
        visited += [c.pk for c in queue]
    assert len(visited) == len(set(visited)) == 100
    late = ServiceCall.objects.filter(scheduled_day=DAY, risk="late").count()
    assert late == 0
    # The engine never starts before the window opens (the window's start is kept).
    early = [
        c.pk for c in ServiceCall.objects.filter(scheduled_day=DAY)
        if c.planned_start < c.window_start
    ]  # fmt: skip
    assert early == []
    optimum = solution["distance"]
    print(f"{name}: {distance:.1f} against {optimum} ({100 * (distance / optimum - 1):+.2f} %)")
    assert distance <= optimum * (1 + TARGETS[name]), (distance, optimum)
    assert plan["after"]["travel_minutes"] == pytest.approx(distance, abs=1.0)
