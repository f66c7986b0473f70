"""Rescue for a call at risk or late: the smallest change that brings it back on time.

Three kinds of change, smallest first: move it earlier in its own queue, give it to another
technician, or swap it with a teammate's call that has slack. Each is priced with the engine
against the current plans (its ripple: lateness added to others, calls that turn at risk or
late, promises broken). When every option that saves the call hurts someone, the answer says so
and lists the least-bad ones. Read-only; a chosen option is applied through the move service
(a swap is two moves in one transaction, `calls_swap`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from dispatch import clock
from dispatch.errors import InvalidInput
from dispatch.eta import Leg, Stop, classify_risk, plan_route
from dispatch.insertion import Ripple, Route, route_ripple
from dispatch.models import ServiceCall
from dispatch.selectors import call_get_for_user
from dispatch.services.candidates import (
    Excluded,
    TeamPlan,
    call_open_get,
    candidates_in,
    stop_of_call,
    team_plan_load,
    team_technicians,
    unable_reason,
    utc_datetime,
)
from dispatch.services.moves import MoveResult, call_move_within, with_retries
from technicians.models import Technician

KIND_ORDER = {"earlier": 0, "reassign": 1, "swap": 2}
SHOWN = 6


@dataclass(frozen=True)
class RescueMove:
    call_id: int
    technician_id: int
    position: int  # 0-based
    expected_version: int


@dataclass(frozen=True)
class RescueOption:
    kind: str  # earlier | reassign | swap
    description: str
    technician: Technician  # who would serve the rescued call
    moves: list[RescueMove]
    arrival: datetime
    slack_minutes: float | None
    risk: str
    added_lateness_minutes: float
    turned_worse: list[int] = field(default_factory=list)
    promises_broken: int = 0
    swap_with: int | None = None

    @property
    def on_time(self) -> bool:
        return self.risk != "late"

    @property
    def hurts(self) -> bool:
        return bool(self.added_lateness_minutes or self.turned_worse or self.promises_broken)

    @property
    def rank(self) -> tuple:
        harm = (self.added_lateness_minutes, len(self.turned_worse), self.promises_broken)
        safe = self.risk == "ok"
        slack = -(self.slack_minutes or 0.0)
        return (not self.on_time, self.hurts, not safe, *harm, KIND_ORDER[self.kind], slack)


@dataclass
class Rescue:
    call: ServiceCall
    risk: str  # the call's risk now
    options: list[RescueOption]  # best first
    excluded: list[Excluded]

    @property
    def needed(self) -> bool:
        return self.risk in ("at_risk", "late")

    @property
    def clean(self) -> bool:
        return bool(self.options) and self.options[0].on_time and not self.options[0].hurts

    @property
    def verdict(self) -> str:
        if not self.needed:
            return f"Call #{self.call.pk} is on time; it needs no rescue."
        if self.clean:
            return f"Rescue: {self.options[0].description}."
        if any(o.on_time for o in self.options):
            return "No rescue without breaking another promise; the least-bad options are below."
        return "No change brings this call back on time; the least-late options are below."


def call_rescue(*, user, call_id: int, now: datetime | None = None) -> Rescue:
    """The rescue options for a call at risk or late, best first (see the module docstring)."""
    now = now or clock.now()
    call = call_open_get(user=user, call_id=call_id, office_only=True)
    plan = team_plan_load(techs=team_technicians(user, call), day=call.scheduled_day, now=now)
    risk = _current_risk(plan, call)
    if risk not in ("at_risk", "late"):
        return Rescue(call, risk, [], [])
    options = _earlier(plan, call) + _swaps(plan, call)
    candidates, excluded = candidates_in(plan, call)
    options += [_reassign(plan, call, c) for c in candidates]
    options.sort(key=lambda o: o.rank)
    return Rescue(call, risk, options[:SHOWN], excluded)


def _current_risk(plan: TeamPlan, call: ServiceCall) -> str:
    if call.technician_id is None or call.technician_id not in plan.routes:
        return call.risk or "ok"
    for leg in plan.route_of(call.technician_id).plan(plan.travel):
        if leg.id == call.pk:
            return classify_risk(leg, plan.margin)
    return call.risk or "ok"


def _option(plan, kind, description, tech, moves, leg: Leg, ripple: Ripple, swap_with=None):
    return RescueOption(
        kind=kind,
        description=description,
        technician=tech,
        moves=moves,
        arrival=utc_datetime(leg.arrival),
        slack_minutes=None if leg.slack is None else round(leg.slack / 60.0, 1),
        risk=classify_risk(leg, plan.margin),
        added_lateness_minutes=round(ripple.added_lateness / 60.0, 1),
        turned_worse=list(ripple.turned_worse),
        promises_broken=len(ripple.promises_broken),
        swap_with=swap_with,
    )


def _replan(route: Route, stops: list[Stop], plan: TeamPlan) -> list[Leg]:
    return plan_route(
        route.start_at,
        route.origin,
        stops,
        plan.travel,
        first_on_site_since=route.first_on_site_since,
    )


def _ripple(plan, before: list[Leg], after: list[Leg], route: Route, skip: int) -> Ripple:
    others = [leg for leg in after if leg.id != skip]
    return route_ripple(
        before, others, margin=plan.margin, shift_end=route.shift_end, promises=plan.promises
    )


def _own(plan: TeamPlan, call: ServiceCall):
    """The call's technician, route and index, when it waits in a queue (not under way)."""
    if call.technician_id is None or call.status != "assigned":
        return None
    tech = next((t for t in plan.techs if t.pk == call.technician_id), None)
    route = plan.routes.get(call.technician_id)
    ids = [s.id for s in route.stops] if route else []
    if tech is None or call.pk not in ids:
        return None
    return tech, route, ids.index(call.pk)


def _earlier(plan: TeamPlan, call: ServiceCall) -> list[RescueOption]:
    own = _own(plan, call)
    if own is None:
        return []
    tech, route, index = own
    before = route.plan(plan.travel)
    rest = [s for s in route.stops if s.id != call.pk]
    options = []
    for p in range(route.floor, index):
        stops = rest[:p] + [route.stops[index]] + rest[p:]
        after = _replan(route, stops, plan)
        ripple = _ripple(plan, before, after, route, call.pk)
        if ripple.overtime:
            continue  # nobody is pushed past the end of their shift by a rescue
        move = RescueMove(call.pk, tech.pk, p, call.version)
        text = f"move #{call.pk} up to place {p + 1} in {tech.name}'s queue"
        options.append(_option(plan, "earlier", text, tech, [move], after[p], ripple))
    return options


def _reassign(plan: TeamPlan, call: ServiceCall, candidate) -> RescueOption:
    tech = candidate.technician
    move = RescueMove(call.pk, tech.pk, candidate.position, call.version)
    route = plan.routes[tech.pk]
    stops = list(route.stops)
    stops.insert(candidate.position, stop_of_call(call))
    after = _replan(route, stops, plan)
    ripple = _ripple(plan, route.plan(plan.travel), after, route, call.pk)
    text = f"give #{call.pk} to {tech.name} (place {candidate.position + 1})"
    return _option(plan, "reassign", text, tech, [move], after[candidate.position], ripple)


def _row_skills(plan: TeamPlan) -> dict[int, set[str]]:
    ids = list(plan.versions)
    skills: dict[int, set[str]] = defaultdict(set)
    for call_id, code in ServiceCall.skills.through.objects.filter(
        servicecall_id__in=ids
    ).values_list("servicecall_id", "skill__code"):
        skills[call_id].add(code)
    return skills


@dataclass(frozen=True)
class _Side:
    """The rescued call's side of a swap: its technician, their route and plan, its index."""

    tech: Technician
    route: Route
    before: list[Leg]
    index: int


def _swaps(plan: TeamPlan, call: ServiceCall) -> list[RescueOption]:
    """Trade places with a teammate's waiting call that has slack and that this call's technician
    can do: both calls are timed in their new queues, and both queues' ripples are counted."""
    own = _own(plan, call)
    if own is None:
        return []
    me, my_route, index = own
    side = _Side(me, my_route, my_route.plan(plan.travel), index)
    needed, row_skills = {s.code for s in call.skills.all()}, _row_skills(plan)
    my_skills = plan.skills.get(me.pk, set())
    options = []
    for tech in plan.techs:
        if tech.pk == me.pk or unable_reason(plan, tech, needed):
            continue
        route = plan.routes[tech.pk]
        before = route.plan(plan.travel)
        for j in range(route.floor, len(route.stops)):
            if before[j].slack is not None and before[j].slack < plan.margin:
                continue  # only a call with slack to spare can give up its place
            if row_skills[route.stops[j].id] <= my_skills:
                option = _swap_with(plan, call, side, tech, before, j)
                if option is not None:
                    options.append(option)
    return options


def _swap_with(plan, call, side: _Side, tech, before: list[Leg], j: int) -> RescueOption | None:
    route, mine = plan.routes[tech.pk], side.route.stops[side.index]
    other = route.stops[j]
    theirs = _replan(route, [*route.stops[:j], mine, *route.stops[j + 1 :]], plan)
    ours = _replan(
        side.route, [*side.route.stops[: side.index], other, *side.route.stops[side.index + 1 :]],
        plan,
    )  # fmt: skip
    both = side.before + before
    ripple = _ripple(plan, both, theirs, route, call.pk)
    ripple += _ripple(plan, both, ours, side.route, call.pk)
    if ripple.overtime or theirs[j].finish > route.shift_end:
        return None  # nobody is pushed past the end of their shift by a rescue
    moves = [
        RescueMove(call.pk, tech.pk, j, call.version),
        RescueMove(other.id, side.tech.pk, side.index, plan.versions[other.id]),
    ]
    text = (
        f"swap #{call.pk} with {tech.name}'s #{other.id}: #{call.pk} goes to {tech.name} "
        f"(place {j + 1}), #{other.id} to {side.tech.name} (place {side.index + 1})"
    )
    return _option(plan, "swap", text, tech, moves, theirs[j], ripple, other.id)


# --- applying a swap --------------------------------------------------------------------------


def calls_swap(
    *,
    user,
    call_id: int,
    other_id: int,
    expected_version: int,
    other_expected_version: int,
    reason: str = "",
    now: datetime | None = None,
) -> tuple[MoveResult, MoveResult]:
    """Two waiting calls of two technicians trade places, as two moves of the move service in
    one transaction: both happen or neither does, and each writes its own event."""

    def attempt() -> tuple[MoveResult, MoveResult]:
        with transaction.atomic():
            call = call_get_for_user(user=user, call_id=call_id)
            other = call_get_for_user(user=user, call_id=other_id)
            _check_swappable(call, other)
            x, i, y, j = call.technician_id, call.position, other.technician_id, other.position
            common = {"user": user, "reason": reason, "now": now}
            first = call_move_within(
                call_id=call.pk,
                technician_id=y,
                position=j,
                expected_version=expected_version,
                **common,
            )
            second = call_move_within(
                call_id=other.pk,
                technician_id=x,
                position=i,
                expected_version=other_expected_version,
                **common,
            )
            return first, second

    return with_retries(attempt)


def _check_swappable(call: ServiceCall, other: ServiceCall) -> None:
    for c in (call, other):
        if c.status != "assigned" or c.technician_id is None:
            raise InvalidInput(
                f"Call #{c.pk} is not waiting in a queue ({c.get_status_display().lower()}); "
                "only waiting calls can be swapped."
            )
    if call.technician_id == other.technician_id:
        raise InvalidInput("Both calls are in the same queue; move one of them instead.")
    if call.scheduled_day != other.scheduled_day:
        raise InvalidInput("The two calls are on different days.")
