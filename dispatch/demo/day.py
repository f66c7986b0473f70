"""The whole demo planned in memory: the company, then one day of about a hundred calls.

This is where the order of the random draws is fixed: the same seed, day and reference time
give the same plan because every step below draws from one generator, in this order.
"""

from __future__ import annotations

import random
from datetime import date, datetime

from dispatch.demo.calls import (
    assign,
    booked_time,
    choose_live,
    completed_calls,
    emergency_call,
    new_call,
    place_technician,
    shift_of,
    start_live_call,
    tech_call,
)
from dispatch.demo.company import build_customers, build_technicians
from dispatch.demo.plan import CallSpec, DemoPlan, minutes, reference_time
from dispatch.demo.problems import EMERGENCIES, PROBLEMS
from dispatch.demo.queues import (
    deadline_kinds,
    insert_emergency,
    planned_arrivals,
    queue_sizes,
    set_queued_deadline,
    set_unassigned_deadline,
)
from dispatch.demo.reference import MAX_DONE, MIN_QUEUE


def build_day(rng: random.Random, plan: DemoPlan) -> None:
    """About 100 calls: queued (a few under way), done earlier today, the rest waiting."""
    total = rng.randint(96, 104)
    unassigned_count = rng.randint(16, 22)
    live = choose_live(rng, plan)
    firsts: list[CallSpec | None] = []
    done: list[list[CallSpec]] = []
    # Whatever the hour, every technician keeps a queue of at least MIN_QUEUE calls.
    completed_budget = total - unassigned_count - MIN_QUEUE * len(plan.techs)
    for tech in range(len(plan.techs)):
        mode = live.get(tech)
        first = start_live_call(rng, plan, tech, mode) if mode else None
        finished: list[CallSpec] = []
        start, end = shift_of(plan, tech)
        if start + minutes(45) <= plan.now and completed_budget > 0:
            until = first.en_route_at if first else min(plan.now, end) - minutes(10)
            limit = min(MAX_DONE, completed_budget)
            finished = completed_calls(rng, plan, tech, until, limit)
            completed_budget -= len(finished)
        place_technician(rng, plan, tech, first, finished)
        firsts.append(first)
        done.append(finished)

    completed_count = sum(len(d) for d in done)
    sizes = queue_sizes(rng, plan, total - unassigned_count - completed_count)
    queues: list[list[CallSpec]] = []
    for tech, size in enumerate(sizes):
        queue = [firsts[tech]] if firsts[tech] else []
        queue += [tech_call(rng, plan, tech) for _ in range(size - len(queue))]
        queues.append(queue)

    waiting: list[CallSpec] = []
    emergencies = [emergency_call(rng, plan, p) for p in rng.sample(EMERGENCIES, rng.randint(1, 2))]
    if not insert_emergency(rng, plan, queues, emergencies[0]):
        waiting.append(emergencies[0])
    waiting += emergencies[1:]

    kinds = deadline_kinds(rng, queues)
    for tech, queue in enumerate(queues):
        arrivals = planned_arrivals(plan, tech, queue)
        for position, (call, arrival) in enumerate(zip(queue, arrivals, strict=True)):
            set_queued_deadline(rng, plan, call, kinds[(tech, position)], arrival)
            assign(rng, plan, call, tech, position)
        for call in done[tech]:
            assign(rng, plan, call, tech, 0)

    others = [
        new_call(rng, plan, rng.choice(PROBLEMS), rng.randrange(len(plan.customers)))
        for _ in range(max(0, unassigned_count - len(waiting)))
    ]
    late, at_risk = rng.randint(1, 2), rng.randint(1, 2)
    for i, call in enumerate(others):
        if i < late + at_risk:  # booked on an earlier day, now running out of time
            call.booked_at = booked_time(rng, plan.day, plan.now, earlier_day=True)
            set_unassigned_deadline(rng, plan, call, "late" if i < late else "at_risk")
        else:
            kind = rng.choices(("ok", "none"), weights=(65, 35))[0]
            set_unassigned_deadline(rng, plan, call, kind)
    waiting += others

    for tech in range(len(plan.techs)):
        plan.calls += done[tech]
    for queue in queues:
        plan.calls += queue
    plan.calls += waiting


def plan_demo(*, seed: int, day: date, now: datetime) -> DemoPlan:
    """The whole demo as plain data; nothing touches the database."""
    rng = random.Random(seed)
    plan = DemoPlan(
        day=day,
        now=reference_time(day, now),
        techs=build_technicians(rng),
        customers=build_customers(rng),
    )
    build_day(rng, plan)
    return plan
