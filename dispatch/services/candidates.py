"""Which technician should go: every teammate's best place for a call, and what it costs others.

Read-only: it plans with the same engine and the same inputs as the move service (queues.py) and
writes nothing. The team's queues are read in three queries as plain rows, and every insertion is
priced incrementally by `dispatch.insertion`, so a 200-technician team answers in milliseconds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from dispatch import clock, roles
from dispatch.errors import InvalidInput, NotAllowed
from dispatch.eta import Stop, Travel
from dispatch.insertion import Insertion, Promises, Route, insertions
from dispatch.models import ServiceCall
from dispatch.selectors import board_team_default, call_get_for_user
from dispatch.services.queues import (
    WORKING_STATUSES,
    place_of,
    risk_margin_seconds,
    shift_bounds,
    starting_point,
    travel_provider,
)
from technicians.models import Technician

# Queued calls are read as plain tuples in this order (no model instances: a big team's day is
# thousands of rows, and only these fields matter to the engine).
ROW_FIELDS = (
    "technician_id",
    "id",
    "status",
    "started_at",
    "duration_minutes",
    "window_start",
    "deadline",
    "promised_eta",
    "site__lat",
    "site__lng",
    "version",
)
TECH, ID, STATUS, STARTED, MINUTES, READY, DUE, PROMISED, LAT, LNG, VERSION = range(11)


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

    @property
    def hurts(self) -> bool:
        return bool(self.added_lateness_minutes or self.turned_worse or self.promises_broken)


@dataclass(frozen=True)
class Excluded:
    technician: Technician
    reason: str


@dataclass
class TeamPlan:
    """A team's day as the engine sees it: loaded once, asked many questions."""

    day: date
    now: datetime
    travel: Travel
    margin: float
    promises: Promises
    techs: list[Technician]
    skills: dict[int, set[str]]
    routes: dict[int, Route]
    versions: dict[int, int]  # queued call id -> version, for the moves a rescue proposes

    def route_of(self, tech_id: int) -> Route:
        return self.routes[tech_id]


# --- loading ----------------------------------------------------------------------------------


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def stop_of_row(row: tuple) -> Stop:
    ready, due = row[READY], row[DUE]
    return Stop(
        row[ID],
        (row[LAT], row[LNG]),
        row[MINUTES] * 60.0,
        None if ready is None else ready.timestamp(),
        None if due is None else due.timestamp(),
    )


def stop_of_call(call: ServiceCall) -> Stop:
    return Stop(
        call.pk,
        (call.site.lat, call.site.lng),
        call.duration_minutes * 60.0,
        _ts(call.window_start),
        _ts(call.deadline),
    )


def _route(tech: Technician, rows: list, day: date, now: datetime) -> Route:
    # The same start rules as queues.plan_queue, so a candidate's ETA is the one a move stores.
    shift = shift_bounds(day, tech.shift_start, tech.shift_end)
    floor = 0
    while floor < len(rows) and rows[floor][STATUS] in WORKING_STATUSES:
        floor += 1
    on_site = rows[0][STARTED] if rows and rows[0][STATUS] == "on_site" else None
    return Route(
        start_at=max(now, shift[0]).timestamp(),
        origin=starting_point(place_of(tech), now, shift),
        stops=[stop_of_row(r) for r in rows],
        shift_end=shift[1].timestamp(),
        floor=floor,
        first_on_site_since=_ts(on_site),
    )


def team_plan_load(*, techs: list[Technician], day: date, now: datetime) -> TeamPlan:
    """Queues, skills and engine routes for these technicians on a day (three queries)."""
    ids = [t.pk for t in techs]
    skills: dict[int, set[str]] = defaultdict(set)
    for tech_id, code in Technician.skills.through.objects.filter(
        technician_id__in=ids
    ).values_list("technician_id", "skill__code"):
        skills[tech_id].add(code)
    rows: dict[int, list[tuple]] = defaultdict(list)
    for row in (
        ServiceCall.objects.filter(
            technician_id__in=ids, scheduled_day=day, status__in=ServiceCall.QUEUED_STATUSES
        )
        .order_by("technician_id", "position", "id")
        .values_list(*ROW_FIELDS)
    ):
        rows[row[TECH]].append(row)
    every = [r for q in rows.values() for r in q]
    promised = {r[ID]: r[PROMISED].timestamp() for r in every if r[PROMISED] is not None}
    return TeamPlan(
        day=day,
        now=now,
        travel=travel_provider(),
        margin=risk_margin_seconds(),
        promises=Promises(promised, settings.PROMISE_TOLERANCE_MINUTES * 60.0),
        techs=techs,
        skills=skills,
        routes={t.pk: _route(t, rows[t.pk], day, now) for t in techs},
        versions={r[ID]: r[VERSION] for r in every},
    )


def team_technicians(user, call: ServiceCall) -> list[Technician]:
    """The call's team (its technician's, else the user's default team), by name."""
    team = call.technician.team if call.technician_id else board_team_default(user)
    return list(Technician.objects.filter(team=team).order_by("name", "id"))


# --- candidates -------------------------------------------------------------------------------


def utc_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(round(seconds), tz=ZoneInfo("UTC"))


def candidate_of(tech: Technician, insertion: Insertion) -> Candidate:
    leg, ripple = insertion.leg, insertion.ripple
    return Candidate(
        technician=tech,
        position=insertion.position,
        arrival=utc_datetime(leg.arrival),
        slack_minutes=None if leg.slack is None else round(leg.slack / 60.0, 1),
        travel_added_minutes=round(insertion.travel_added / 60.0, 1),
        added_lateness_minutes=round(ripple.added_lateness / 60.0, 1),
        turned_worse=list(ripple.turned_worse),
        promises_broken=len(ripple.promises_broken),
    )


def unable_reason(plan: TeamPlan, tech: Technician, needed: set[str]) -> str | None:
    """Why a technician cannot take the call at all, in words; None when they can."""
    missing = needed - plan.skills.get(tech.pk, set())
    if missing:
        return f"missing skill: {', '.join(sorted(missing))}"
    if tech.status == "off":
        return "off shift"
    if plan.routes[tech.pk].shift_end <= plan.now.timestamp():
        return "shift already over"
    return None


def best_for(plan: TeamPlan, tech: Technician, stop: Stop) -> Candidate | Excluded:
    """The best on-time insertion for one technician, or the reason they are not offered."""
    route = plan.routes[tech.pk]
    tries = insertions(
        route, stop, plan.travel, margin=plan.margin, promises=plan.promises, ripple_if_late=False
    )
    on_time = [t for t in tries if t.on_time]
    if not on_time:
        late_by = min(-(t.leg.slack or 0.0) for t in tries) / 60.0
        return Excluded(tech, f"would arrive late by {late_by:.0f} min")
    in_shift = [t for t in on_time if not (t.overtime or t.ripple.overtime)]
    if not in_shift:
        first = min(on_time, key=lambda t: t.position)
        pushed = first.ripple.overtime
        which = "this call" if first.overtime or not pushed else f"call #{pushed[-1]}"
        return Excluded(tech, f"would push {which} into overtime")
    # Ranked on the same rounded figures as Candidate.rank, so only the winner is converted.
    return candidate_of(tech, min(in_shift, key=_insertion_rank))


def _insertion_rank(insertion: Insertion) -> tuple:
    ripple = insertion.ripple
    return (
        round(ripple.added_lateness / 60.0, 1),
        len(ripple.turned_worse),
        len(ripple.promises_broken),
        round(insertion.travel_added / 60.0, 1),
        insertion.position,
    )


def call_open_get(*, user, call_id: int, office_only: bool = False) -> ServiceCall:
    call = call_get_for_user(user=user, call_id=call_id)
    if office_only and not roles.is_office(user):
        # Rescues and send-now move other technicians' work: the office decides those.
        raise NotAllowed(
            "Rescue and emergency dispatch are for the office (CSR, dispatcher, manager)."
        )
    if not call.is_open:
        raise InvalidInput(f"Call #{call.pk} is {call.status}; there is no one to send.")
    return call


def call_candidates(*, user, call_id: int, now: datetime | None = None):
    """Ranked candidates (on time, least ripple, least travel) and every exclusion, with reasons."""
    now = now or clock.now()
    call = call_open_get(user=user, call_id=call_id)
    techs = [t for t in team_technicians(user, call) if t.pk != call.technician_id]
    plan = team_plan_load(techs=techs, day=call.scheduled_day, now=now)
    return candidates_in(plan, call)


def candidates_in(plan: TeamPlan, call: ServiceCall):
    needed, stop = {s.code for s in call.skills.all()}, stop_of_call(call)
    candidates, excluded = [], []
    for tech in plan.techs:
        if tech.pk == call.technician_id:
            continue
        reason = unable_reason(plan, tech, needed)
        result = Excluded(tech, reason) if reason else best_for(plan, tech, stop)
        (excluded if isinstance(result, Excluded) else candidates).append(result)
    return sorted(candidates, key=lambda c: c.rank), excluded


# --- emergency: the nearest able technician, right after the call they are on ----------------


def call_send_now(*, user, call_id: int, now: datetime | None = None):
    """For an emergency: every able teammate with the call placed right after their current work,
    soonest arrival first (then least ripple). Late arrivals are still offered: nearest wins."""
    now = now or clock.now()
    call = call_open_get(user=user, call_id=call_id, office_only=True)
    techs = [t for t in team_technicians(user, call) if t.pk != call.technician_id]
    plan = team_plan_load(techs=techs, day=call.scheduled_day, now=now)
    needed, stop = {s.code for s in call.skills.all()}, stop_of_call(call)
    options, excluded = [], []
    for tech in plan.techs:
        reason = unable_reason(plan, tech, needed)
        if reason:
            excluded.append(Excluded(tech, reason))
            continue
        route = plan.routes[tech.pk]
        (now_slot,) = insertions(
            route,
            stop,
            plan.travel,
            margin=plan.margin,
            promises=plan.promises,
            positions=[route.floor],
        )
        options.append(candidate_of(tech, now_slot))
    options.sort(key=lambda c: (c.arrival, c.rank))
    return options, excluded
