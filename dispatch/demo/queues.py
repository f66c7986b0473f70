"""Each technician's queue and the deadlines that make some of its calls late or at risk.

Deadlines are set from the arrivals the product's own ETA engine plans for each queue, so the
late and at-risk calls the demo sets out to have are what the board shows, whatever the hour.
"""

from __future__ import annotations

import random
from datetime import datetime

from dispatch.demo.calls import shift_of, site_of
from dispatch.demo.plan import CallSpec, DemoPlan, at, ceil_to, floor_to, minutes, round_to
from dispatch.demo.reference import MAX_QUEUE, MIN_QUEUE
from dispatch.models import ServiceCall
from dispatch.selectors.planning import (
    QueuedCall,
    TechnicianPlace,
    travel_provider,
)
from dispatch.selectors.queue_fields import (
    plan_queue,
)


def remaining_minutes(plan: DemoPlan, tech: int) -> float:
    start, end = shift_of(plan, tech)
    return max(0.0, (end - max(start, plan.now)).total_seconds() / 60)


def queue_sizes(rng: random.Random, plan: DemoPlan, total: int) -> list[int]:
    """Queues adding up to ``total``: 4 to 8 calls each while the day is young, at least 2
    later on; the longer queues go to those with the most of their shift still ahead."""
    techs = len(plan.techs)
    smallest = max(MIN_QUEUE, min(4, total // techs))
    sizes = [smallest] * techs
    # A little weight even for a shift that is over: its calls just wait for a rescue.
    weights = [remaining_minutes(plan, tech) + 30 for tech in range(techs)]
    extra = max(0, min(total - smallest * techs, (MAX_QUEUE - smallest) * techs))
    while extra:
        i = rng.choices(range(techs), weights=weights)[0]
        if sizes[i] < MAX_QUEUE:
            sizes[i] += 1
            extra -= 1
    return sizes


def insert_emergency(
    rng: random.Random, plan: DemoPlan, queues: list[list[CallSpec]], call: CallSpec
) -> bool:
    """Put an emergency at the front of a qualified, on-shift technician's queue."""
    qualified = [
        i
        for i, t in enumerate(plan.techs)
        if t.status != "off" and all(s in t.skills for s in call.problem.skills) and queues[i]
    ]
    if not qualified:
        return False
    idle = [i for i in qualified if queues[i][0].status not in ServiceCall.QUEUED_STATUSES]
    tech = rng.choice(idle or qualified)
    queue = queues[tech]
    front = 1 if queue[0].status in ServiceCall.QUEUED_STATUSES else 0
    if len(queue) > 1:
        queue.pop()  # keep the queue's size: the last call waits for another day
    queue.insert(front, call)
    return True


def planned_arrivals(plan: DemoPlan, tech: int, queue: list[CallSpec]) -> list[datetime]:
    """Arrivals the ETA engine will compute for this queue (windows not yet set)."""
    spec = plan.techs[tech]
    place = TechnicianPlace(
        id=tech,
        home=spec.home,
        last=spec.location,
        last_seen_at=spec.seen_at,
        shift_start=spec.shift[0],
        shift_end=spec.shift[1],
    )
    queued = [
        QueuedCall(
            id=pos,
            location=site_of(plan, call),
            duration_minutes=call.duration,
            window_start=call.window_start,
            deadline=None,
            status=call.status,
            started_at=call.started_at,
        )
        for pos, call in enumerate(queue)
    ]
    fields = plan_queue(place, queued, plan.day, plan.now, travel_provider())
    return [fields[pos].eta for pos in range(len(queue))]


def window_before(
    rng: random.Random, plan: DemoPlan, deadline: datetime, latest: datetime
) -> datetime | None:
    """An arrival window that closes at ``deadline`` and opens no later than ``latest``."""
    opens = min(floor_to(deadline - minutes(60 * rng.choice((2, 3, 4))), 30), floor_to(latest, 30))
    day_start = at(plan.day, 7)
    if opens >= day_start:
        return opens
    return day_start if day_start <= min(deadline, latest) else None


def set_queued_deadline(
    rng: random.Random, plan: DemoPlan, call: CallSpec, kind: str, arrival: datetime
) -> None:
    """Window, deadline and promise for a queued call, relative to its planned arrival.

    The window always opens by the planned arrival, so it never adds waiting and the planned
    arrivals stay exactly what the engine will compute.
    """
    if kind == "late":
        deadline = floor_to(arrival - minutes(rng.randint(10, 50)), 5)
    elif kind == "at_risk":
        deadline = floor_to(arrival + minutes(rng.randint(10, 25)), 5)
    elif kind == "tight":
        deadline = floor_to(arrival + minutes(rng.randint(36, 50)), 5)
    elif kind == "ok":
        deadline = ceil_to(arrival + minutes(rng.randint(45, 150)), 30)
    else:
        deadline = None
    if deadline is None:
        if rng.random() < 0.5:
            call.window_start = floor_to(arrival, 60) - minutes(60 * rng.randint(0, 2))
        return
    call.deadline = deadline
    if call.priority != "emergency" and rng.random() < 0.8:
        call.window_start = window_before(rng, plan, deadline, arrival)
    if kind == "late" and rng.random() < 0.6:
        call.promised_eta = floor_to(deadline - minutes(rng.randint(15, 45)), 15)
    elif kind != "late" and rng.random() < 0.35:
        call.promised_eta = round_to(arrival + minutes(rng.choice((-15, 0, 0, 15))), 15)


def deadline_kinds(rng: random.Random, queues: list[list[CallSpec]]) -> dict[tuple[int, int], str]:
    """Which queued calls are late, at risk, tight, comfortable or without a deadline."""
    keys = [(t, p) for t, queue in enumerate(queues) for p in range(len(queue))]
    plain = [(t, p) for t, p in keys if queues[t][p].priority != "emergency"]
    # Late calls sit deeper in a queue (the day has slipped); short queues late in the day
    # leave fewer places to choose from.
    deep = [k for k in plain if k[1] >= 2] or [k for k in plain if k[1] >= 1]
    late = rng.sample(deep, min(len(deep), rng.randint(2, 4)))
    behind = [k for k in plain if k[1] >= 1 and k not in late]
    at_risk = rng.sample(behind, min(len(behind), rng.randint(3, 5)))
    kinds = {k: "late" for k in late} | {k: "at_risk" for k in at_risk}
    for key in keys:
        if key in kinds:
            continue
        if queues[key[0]][key[1]].priority == "emergency":
            kinds[key] = "tight"
        else:
            kinds[key] = rng.choices(("ok", "none", "tight"), weights=(65, 25, 10))[0]
    return kinds


def set_unassigned_deadline(rng: random.Random, plan: DemoPlan, call: CallSpec, kind: str) -> None:
    """Unassigned calls' risk runs from now; their deadlines are set around the working day."""
    base = min(max(plan.now, at(plan.day, 8)), at(plan.day, 16))
    if kind == "late":
        call.deadline = floor_to(base - minutes(rng.randint(10, 40)), 5)
    elif kind == "at_risk":
        call.deadline = floor_to(base + minutes(rng.randint(10, 25)), 5)
    elif kind == "ok":
        call.deadline = ceil_to(base + minutes(rng.randint(120, 300)), 30)
    elif rng.random() < 0.5:  # no deadline, but the customer is only home later
        call.window_start = ceil_to(base + minutes(rng.randint(60, 180)), 30)
    if call.deadline is not None and rng.random() < 0.8:
        call.window_start = window_before(rng, plan, call.deadline, call.deadline)
