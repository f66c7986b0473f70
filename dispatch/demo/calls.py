"""Single calls of the day and what has already happened to them by the reference time.

A call is drawn for a technician it fits (skills, region) and, where the hour allows, is already
under way or finished, with the technician's status and last position to match, so the board
never shows someone "on site" with nowhere to be.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from dispatch.demo.plan import (
    CallSpec,
    DemoPlan,
    Location,
    at,
    floor_to,
    minutes,
)
from dispatch.demo.problems import NOTES, PROBLEMS, Problem
from dispatch.selectors.planning import shift_bounds


def draw_priority(rng: random.Random, problem: Problem) -> str:
    if problem.priority:
        return problem.priority
    roll = rng.random()
    return "high" if roll < 0.1 else "low" if roll < 0.18 else "normal"


def booked_time(rng: random.Random, day: date, now: datetime, *, earlier_day: bool) -> datetime:
    """When the call was booked: on an earlier day, or this morning before now."""
    morning_start, morning_end = at(day, 7), now - minutes(20)
    if earlier_day or rng.random() < 0.65 or morning_end <= morning_start + minutes(10):
        days_before = rng.randint(1, 5)
        return at(day - timedelta(days=days_before), rng.randint(8, 16), rng.randrange(0, 60, 5))
    span = int((morning_end - morning_start).total_seconds() // 60)
    return floor_to(morning_start + minutes(rng.randint(0, span)), 1)


def new_call(
    rng: random.Random,
    plan: DemoPlan,
    problem: Problem,
    customer: int,
    *,
    earlier_day: bool = False,
) -> CallSpec:
    sites = plan.customers[customer].sites
    description = problem.description
    if not description and rng.random() < 0.35:
        description = rng.choice(NOTES)
    return CallSpec(
        customer=customer,
        site=rng.randrange(len(sites)),
        problem=problem,
        priority=draw_priority(rng, problem),
        duration=rng.choice(problem.durations),
        description=description,
        booked_at=booked_time(rng, plan.day, plan.now, earlier_day=earlier_day),
    )


def problems_for(skills: tuple[str, ...]) -> list[Problem]:
    return [p for p in PROBLEMS if all(s in skills for s in p.skills)]


def region_customers(plan: DemoPlan, region: int) -> list[int]:
    return [i for i, c in enumerate(plan.customers) if c.region == region]


def fresh(options: list, used: list) -> list:
    """The options not used yet, or all of them once every one has been."""
    return [o for o in options if o not in used] or options


def tech_call(rng: random.Random, plan: DemoPlan, tech: int, **kw) -> CallSpec:
    """A call this technician is skilled for, in their region; a day rarely repeats itself."""
    spec, day = plan.techs[tech], plan.tech_days.setdefault(tech, [])
    problem = rng.choice(fresh(problems_for(spec.skills), [c.problem for c in day]))
    customers = fresh(region_customers(plan, spec.team), [c.customer for c in day])
    call = new_call(rng, plan, problem, rng.choice(customers), **kw)
    day.append(call)
    return call


def site_of(plan: DemoPlan, call: CallSpec) -> Location:
    site = plan.customers[call.customer].sites[call.site]
    return site.lat, site.lng


def shift_of(plan: DemoPlan, tech: int) -> tuple[datetime, datetime]:
    start, end = plan.techs[tech].shift
    return shift_bounds(plan.day, start, end)


def emergency_call(rng: random.Random, plan: DemoPlan, problem: Problem) -> CallSpec:
    call = new_call(rng, plan, problem, rng.randrange(len(plan.customers)))
    call.booked_at = floor_to(plan.now - minutes(rng.randint(8, 30)), 1)
    call.deadline = floor_to(plan.now + minutes(rng.randint(60, 90)), 5)
    return call


def assign(rng: random.Random, plan: DemoPlan, call: CallSpec, tech: int, position: int) -> None:
    call.tech = tech
    if call.status == "new":
        call.status = "assigned"
    if call.status != "completed":
        call.position = position
    latest = min(plan.now, call.en_route_at or plan.now) - minutes(1)
    call.assigned_at = max(
        call.booked_at, min(call.booked_at + minutes(rng.randint(3, 180)), latest)
    )


def is_working(plan: DemoPlan, tech: int) -> bool:
    """On shift long enough to have done something today."""
    start, end = shift_of(plan, tech)
    return start + minutes(45) <= plan.now < end


def choose_live(rng: random.Random, plan: DemoPlan) -> dict[int, str]:
    """A few working technicians are en route to, or on site at, their first queued call."""
    eligible = [i for i in range(len(plan.techs)) if is_working(plan, i)]
    chosen = sorted(rng.sample(eligible, min(len(eligible), rng.randint(3, 5))))
    return {tech: ("en_route", "on_site")[k % 2] for k, tech in enumerate(chosen)}


def start_live_call(rng: random.Random, plan: DemoPlan, tech: int, mode: str) -> CallSpec:
    call = tech_call(rng, plan, tech, earlier_day=True)
    call.status = mode
    if mode == "en_route":
        call.en_route_at = plan.now - minutes(rng.randint(5, 20))
    else:
        call.started_at = plan.now - minutes(rng.randint(10, max(10, min(call.duration - 10, 75))))
        call.en_route_at = call.started_at - minutes(rng.randint(12, 30))
    return call


def completed_calls(
    rng: random.Random, plan: DemoPlan, tech: int, until: datetime, limit: int
) -> list[CallSpec]:
    """The calls done since the shift started (at most ``limit``), all finished by ``until``."""
    done: list[CallSpec] = []
    free_at = shift_of(plan, tech)[0]
    while len(done) < limit:
        call = tech_call(rng, plan, tech, earlier_day=True)
        en_route_at = free_at + minutes(rng.randint(0, 10))
        started_at = en_route_at + minutes(rng.randint(12, 30))
        finished_at = started_at + minutes(call.duration)
        if finished_at > until:
            break
        call.status, call.en_route_at = "completed", en_route_at
        call.started_at, call.completed_at = started_at, finished_at
        call.window_start = floor_to(started_at, 60)
        call.deadline = call.window_start + minutes(180)
        done.append(call)
        free_at = finished_at
    return done


def between(a: Location, b: Location, fraction: float) -> Location:
    return (
        round(a[0] + (b[0] - a[0]) * fraction, 5),
        round(a[1] + (b[1] - a[1]) * fraction, 5),
    )


def place_technician(
    rng: random.Random,
    plan: DemoPlan,
    tech: int,
    first: CallSpec | None,
    done: list[CallSpec],
) -> None:
    """Status and last known location at "now", matching what the technician is doing."""
    spec, now = plan.techs[tech], plan.now
    start, end = shift_of(plan, tech)
    if not start <= now < end:
        spec.status, spec.location, spec.seen_at = "off", None, None
        return
    here = site_of(plan, done[-1]) if done else spec.home
    if first is not None and first.status == "en_route":
        spec.status = "en_route"
        spec.location = between(here, site_of(plan, first), rng.uniform(0.3, 0.7))
        spec.seen_at = now - minutes(rng.randint(1, 3))
    elif first is not None:
        spec.status, spec.location = "on_site", site_of(plan, first)
        spec.seen_at = now - minutes(rng.randint(1, 5))
    else:
        spec.status, spec.location = "available", here
        spec.seen_at = now - minutes(rng.randint(1, 15))
