"""Where one call fits in one technician's queue, and what it costs the calls already there.

Pure like ``eta.py`` (no Django, no clock): the candidates and rescue services and the simulated
day all ask the same question, so they share this answer. Times are floats in one unit.

Every insertion is planned incrementally: the queue is planned once; an insertion at position p
keeps the legs before p, times the new stop from the leg before it, and replays the tail with the
travel times the base plan already paid for (only one new travel time is looked up). The replay
stops as soon as a stop starts exactly when it did before (a booked window absorbed the delay):
everything after it is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dispatch.eta import Leg, Location, Stop, Travel, classify_risk, plan_route

RISK_RANK = {"ok": 0, "at_risk": 1, "late": 2}


@dataclass(frozen=True, slots=True)
class Route:
    """One technician's queue as the engine sees it, plus where new work may go."""

    start_at: float
    origin: Location
    stops: Sequence[Stop]
    shift_end: float
    floor: int = 0  # first position a new call may take: after work under way
    first_on_site_since: float | None = None

    def plan(self, travel: Travel) -> list[Leg]:
        return plan_route(
            self.start_at,
            self.origin,
            self.stops,
            travel,
            first_on_site_since=self.first_on_site_since,
        )


@dataclass(frozen=True, slots=True)
class Ripple:
    """What a change costs the calls that were already planned (never the call being placed)."""

    added_lateness: float = 0.0  # summed over the other calls, in time units
    turned_worse: tuple = ()  # ids whose risk rises (ok -> at risk, at risk -> late ...)
    promises_broken: tuple = ()  # ids whose promised time was kept and no longer is
    overtime: tuple = ()  # ids that newly finish past the shift end

    @property
    def harm(self) -> tuple:
        return (round(self.added_lateness), len(self.turned_worse), len(self.promises_broken))

    def __add__(self, other: Ripple) -> Ripple:
        return Ripple(
            self.added_lateness + other.added_lateness,
            self.turned_worse + other.turned_worse,
            self.promises_broken + other.promises_broken,
            self.overtime + other.overtime,
        )


@dataclass(frozen=True, slots=True)
class Insertion:
    position: int
    leg: Leg  # the inserted call's timing
    travel_added: float
    ripple: Ripple = field(default_factory=Ripple)
    overtime: bool = False  # the inserted call itself finishes past the shift end

    @property
    def on_time(self) -> bool:
        return not self.leg.late


@dataclass(frozen=True, slots=True)
class Promises:
    """Promised arrival times by call id, and how far an ETA may drift before it is broken."""

    at: Mapping[object, float] = field(default_factory=dict)
    tolerance: float = 0.0

    def broken(self, stop_id: object, before: float, after: float) -> bool:
        promised = self.at.get(stop_id)
        if promised is None:
            return False
        return abs(before - promised) <= self.tolerance < abs(after - promised)


def _rank(leg: Leg, margin: float) -> int:
    return RISK_RANK[classify_risk(leg, margin)]


def _lateness(leg: Leg) -> float:
    return -leg.slack if leg.late else 0.0


def insertions(
    route: Route,
    new: Stop,
    travel: Travel,
    *,
    margin: float,
    promises: Promises | None = None,
    positions: Sequence[int] | None = None,
    base: list[Leg] | None = None,
) -> list[Insertion]:
    """The new stop tried at every allowed position (or the given ones), each with its ripple."""
    base = route.plan(travel) if base is None else base
    promises = promises or Promises()
    wanted = range(route.floor, len(route.stops) + 1) if positions is None else positions
    return [_insert_at(route, base, new, p, travel, margin, promises) for p in wanted]


def _insert_at(route, base, new, p, travel, margin, promises) -> Insertion:
    stops = route.stops
    if p > 0:
        here, clock = stops[p - 1].location, base[p - 1].finish
    else:
        here, clock = route.origin, route.start_at
    to_new = travel(here, new.location)
    leg = _timed(new, clock + to_new)
    from_new = travel(new.location, stops[p].location) if p < len(stops) else 0.0
    replaced = (base[p].arrival - clock) if p < len(stops) else 0.0
    ripple = _replay_tail(route, base, p, leg.finish, from_new, margin, promises)
    return Insertion(
        position=p,
        leg=leg,
        travel_added=to_new + from_new - replaced,
        ripple=ripple,
        overtime=leg.finish > route.shift_end,
    )


def _timed(stop: Stop, arrival: float) -> Leg:
    ready = stop.window_start
    start = arrival if ready is None or arrival >= ready else ready
    due = stop.deadline
    slack = None if due is None else due - arrival
    return Leg(stop.id, arrival, start, start + stop.duration, slack, due is not None and slack < 0)


def _replay_tail(route, base, p, clock, first_travel, margin, promises) -> Ripple:
    stops, lateness, worse, broken, overtime = route.stops, 0.0, [], [], []
    for i in range(p, len(stops)):
        hop = first_travel if i == p else base[i].arrival - base[i - 1].finish
        old = base[i]
        leg = _timed(stops[i], clock + hop)
        if leg.start == old.start:
            break  # a booked window absorbed the delay: the rest of the queue is unchanged
        lateness += _lateness(leg) - _lateness(old)
        if _rank(leg, margin) > _rank(old, margin):
            worse.append(leg.id)
        if promises.broken(leg.id, old.arrival, leg.arrival):
            broken.append(leg.id)
        if leg.finish > route.shift_end >= old.finish:
            overtime.append(leg.id)
        clock = leg.finish
    return Ripple(lateness, tuple(worse), tuple(broken), tuple(overtime))


def route_ripple(
    before: list[Leg], after: list[Leg], *, margin: float, shift_end: float, promises: Promises
) -> Ripple:
    """The ripple between two plans of the same calls (ids matched), e.g. for a swap."""
    old = {leg.id: leg for leg in before}
    lateness, worse, broken, overtime = 0.0, [], [], []
    for leg in after:
        was = old.get(leg.id)
        if was is None:
            continue  # a call that arrived with the change is judged on its own
        lateness += _lateness(leg) - _lateness(was)
        if _rank(leg, margin) > _rank(was, margin):
            worse.append(leg.id)
        if promises.broken(leg.id, was.arrival, leg.arrival):
            broken.append(leg.id)
        if leg.finish > shift_end >= was.finish:
            overtime.append(leg.id)
    return Ripple(lateness, tuple(worse), tuple(broken), tuple(overtime))
