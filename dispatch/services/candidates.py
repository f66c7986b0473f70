"""Which technician should go: every teammate's best place for a call, and what it costs others.

Read-only: it plans with the same engine and inputs as the move service, and writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from dispatch import clock
from dispatch.errors import InvalidInput
from dispatch.models import ServiceCall
from dispatch.selectors import board_team_default, call_get_for_user
from dispatch.services.queues import (
    EtaFields,
    first_free_position,
    place_of,
    plan_queue,
    queued_from,
    shift_bounds,
    starting_point,
    travel_provider,
)
from dispatch.services.risk import RISK_RANK
from technicians.models import Technician


@dataclass(frozen=True)
class Candidate:
    technician: Technician
    position: int  # 0-based, as the move service takes it
    arrival: datetime
    slack_minutes: float | None
    travel_added_minutes: float
    added_lateness_minutes: float  # summed over the technician's other calls
    turned_worse: list[int] = field(default_factory=list)  # calls that become at risk or late
    promises_broken: int = 0

    @property
    def rank(self) -> tuple:
        # On time is a given (late ones are excluded); then least ripple, then least travel.
        ripple = (self.added_lateness_minutes, len(self.turned_worse), self.promises_broken)
        return (*ripple, self.travel_added_minutes, self.technician.name)


@dataclass(frozen=True)
class Excluded:
    technician: Technician
    reason: str


def _lateness(fields: EtaFields) -> float:
    return max(0.0, -(fields.slack_minutes or 0.0)) if fields.risk == "late" else 0.0


def _breaks_promise(call: ServiceCall, before: EtaFields, after: EtaFields) -> bool:
    if call.promised_eta is None or before.eta is None or after.eta is None:
        return False
    tolerance = settings.PROMISE_TOLERANCE_MINUTES * 60
    kept = abs((before.eta - call.promised_eta).total_seconds()) <= tolerance
    return kept and abs((after.eta - call.promised_eta).total_seconds()) > tolerance


def _try(tech, queue, call, position, day, now, travel, before) -> Candidate:
    order = [queued_from(c) for c in queue]
    order.insert(position, queued_from(call, "assigned"))
    after = plan_queue(place_of(tech), order, day, now, travel)
    mine = after[call.pk]
    # Travel added: the detour from the stop before (or where the technician sets out from).
    shift = shift_bounds(day, tech.shift_start, tech.shift_end)
    prev = (
        order[position - 1].location if position > 0 else starting_point(place_of(tech), now, shift)
    )
    nxt = order[position + 1].location if position + 1 < len(order) else None
    added = 0.0
    if prev is not None:
        added += travel(prev, order[position].location)
    if nxt is not None:
        added += travel(order[position].location, nxt)
    if prev is not None and nxt is not None:
        added -= travel(prev, nxt)
    others = queue
    return Candidate(
        technician=tech,
        position=position,
        arrival=mine.eta,
        slack_minutes=mine.slack_minutes,
        travel_added_minutes=round(added / 60.0, 1),
        added_lateness_minutes=round(
            sum(_lateness(after[c.pk]) - _lateness(before[c.pk]) for c in others), 1
        ),
        turned_worse=[
            c.pk for c in others if RISK_RANK[after[c.pk].risk] > RISK_RANK[before[c.pk].risk]
        ],
        promises_broken=sum(_breaks_promise(c, before[c.pk], after[c.pk]) for c in others),
    )


def _best_for(tech, queue, call, day, now, travel):
    """The best insertion for one technician, or the reason they are not offered."""
    before = plan_queue(place_of(tech), [queued_from(c) for c in queue], day, now, travel)
    floor = first_free_position(queue)
    tries = [
        _try(tech, queue, call, p, day, now, travel, before) for p in range(floor, len(queue) + 1)
    ]
    on_time = [t for t in tries if t.slack_minutes is None or t.slack_minutes >= 0]
    if not on_time:
        late_by = min(-(t.slack_minutes or 0) for t in tries)
        return Excluded(tech, f"would arrive late by {late_by:.0f} min")
    best = min(on_time, key=lambda c: c.rank)
    shift_end = shift_bounds(day, tech.shift_start, tech.shift_end)[1]
    order = [queued_from(c) for c in queue]
    order.insert(best.position, queued_from(call, "assigned"))
    after = plan_queue(place_of(tech), order, day, now, travel)
    over = [pk for pk, f in after.items() if f.planned_finish and f.planned_finish > shift_end]
    if over:
        which = "this call" if over[-1] == call.pk else f"call #{over[-1]}"
        return Excluded(tech, f"would push {which} into overtime")
    return best


def _exclusion(tech: Technician, needed: set[str], now: datetime, day) -> str | None:
    missing = needed - {s.code for s in tech.skills.all()}
    if missing:
        return f"missing skill: {', '.join(sorted(missing))}"
    if tech.status == "off":
        return "off shift"
    if shift_bounds(day, tech.shift_start, tech.shift_end)[1] <= now:
        return "shift already over"
    return None


def call_candidates(*, user, call_id: int, now: datetime | None = None):
    """Ranked candidates (on time, least ripple, least travel) and every exclusion, with reasons."""
    now = now or clock.now()
    call = call_get_for_user(user=user, call_id=call_id)
    if not call.is_open:
        raise InvalidInput(f"Call #{call.pk} is {call.status}; there is no one to send.")
    team = call.technician.team if call.technician_id else board_team_default(user)
    techs = list(
        Technician.objects.filter(team=team)
        .exclude(pk=call.technician_id or 0)
        .prefetch_related("skills")
        .order_by("name")
    )
    day, travel = call.scheduled_day, travel_provider()
    queues: dict[int, list[ServiceCall]] = defaultdict(list)
    for queued in (
        ServiceCall.objects.select_related("site")
        .filter(technician__in=techs, scheduled_day=day, status__in=ServiceCall.QUEUED_STATUSES)
        .order_by("technician_id", "position")
    ):
        queues[queued.technician_id].append(queued)
    needed = {s.code for s in call.skills.all()}
    candidates, excluded = [], []
    for tech in techs:
        reason = _exclusion(tech, needed, now, day)
        result = (
            Excluded(tech, reason)
            if reason
            else _best_for(tech, queues[tech.pk], call, day, now, travel)
        )
        (excluded if isinstance(result, Excluded) else candidates).append(result)
    return sorted(candidates, key=lambda c: c.rank), excluded
