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


@dataclass(slots=True)  # not frozen, for the same reason as Insertion; never mutated
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


EMPTY = Ripple()


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and thousands of
# these are made for one question; nothing mutates them.
@dataclass(slots=True)
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
    ripple_if_late: bool = True,
) -> list[Insertion]:
    """The new stop tried at every allowed position (or the given ones), each with its ripple.

    With ``ripple_if_late=False`` a position where the new stop itself would be late is not
    priced for others (its ripple is left empty), and the positions stop once no later one can
    be on time or less late than the best seen: callers that never offer a late arrival (and
    only need the least lateness to say why) skip most of the work on a day running behind.
    """
    base = route.plan(travel) if base is None else base
    promises = promises or Promises()
    # The travel time between consecutive stops, as the base plan paid it.
    hops = [0.0] + [base[i].arrival - base[i - 1].finish for i in range(1, len(base))]
    wanted = range(route.floor, len(route.stops) + 1) if positions is None else positions
    toward, away = _legs_to_and_from(new.location, travel)
    found: list[Insertion] = []
    least_late = None
    for p in wanted:
        if not ripple_if_late and _no_better_from(p, base, new, least_late):
            break
        leg, travel_added, from_new = _head(route, base, new, p, toward, away)
        ripple = EMPTY
        if ripple_if_late or not leg.late:
            ripple = _replay_tail(route, base, hops, p, leg.finish, from_new, margin, promises)
        elif least_late is None or -leg.slack < least_late:
            least_late = -leg.slack
        found.append(Insertion(p, leg, travel_added, ripple, leg.finish > route.shift_end))
    return found


def _no_better_from(p: int, base: list[Leg], new: Stop, least_late: float | None) -> bool:
    # From position p on, the new stop cannot arrive before the stop ahead of it finishes, and
    # those finishes only grow: once that bound is late by at least the least lateness found so
    # far, no later position is on time or less late (branch and bound, exact).
    if least_late is None or p == 0 or new.deadline is None:
        return False
    return base[p - 1].finish - new.deadline >= least_late


def _legs_to_and_from(place: Location, travel: Travel):
    """Travel to and from one place, each asked once per location. A provider that declares
    itself symmetric (``travel.symmetric = True``) answers both directions with one lookup, which
    halves the travel lookups of pricing every position of a queue."""
    if getattr(travel, "symmetric", False):
        memo: dict = {}

        def both(other: Location) -> float:
            seconds = memo.get(other)
            if seconds is None:
                seconds = memo[other] = travel(place, other)
            return seconds

        return both, both
    return (lambda other: travel(other, place)), (lambda other: travel(place, other))


def _head(route: Route, base: list[Leg], new: Stop, p: int, toward, away):
    """The new stop timed at position p, the travel it adds, and the hop to the stop after it."""
    stops = route.stops
    if p > 0:
        here, clock = stops[p - 1].location, base[p - 1].finish
    else:
        here, clock = route.origin, route.start_at
    to_new = toward(here)
    leg = _timed(new, clock + to_new)
    if p < len(stops):
        from_new = away(stops[p].location)
        return leg, to_new + from_new - (base[p].arrival - clock), from_new
    return leg, to_new, 0.0


def _timed(stop: Stop, arrival: float) -> Leg:
    ready = stop.window_start
    start = arrival if ready is None or arrival >= ready else ready
    due = stop.deadline
    slack = None if due is None else due - arrival
    return Leg(stop.id, arrival, start, start + stop.duration, slack, due is not None and slack < 0)


def _replay_tail(route, base, hops, p, clock, hop, margin, promises) -> Ripple:
    # Inline on purpose, like eta.plan_route: this loop runs for every position of every
    # technician of a team, and a Leg or a helper call per stop would double its cost.
    stops, shift_end = route.stops, route.shift_end
    promised, tolerance = promises.at, promises.tolerance
    lateness, worse, broken, overtime = 0.0, [], [], []
    for i in range(p, len(stops)):
        if i > p:
            hop = hops[i]
        stop, old = stops[i], base[i]
        arrival = clock + hop
        ready = stop.window_start
        start = arrival if ready is None or arrival >= ready else ready
        if start == old.start:
            break  # a booked window absorbed the delay: the rest of the queue is unchanged
        due = stop.deadline
        if due is not None:
            slack, was = due - arrival, old.slack
            if slack < 0:
                lateness -= slack
                if was >= 0:
                    worse.append(stop.id)
            elif slack < margin <= was:
                worse.append(stop.id)
            if was < 0:
                lateness += was
        if promised:
            kept = promised.get(stop.id)
            if kept is not None and abs(old.arrival - kept) <= tolerance < abs(arrival - kept):
                broken.append(stop.id)
        clock = start + stop.duration
        if clock > shift_end >= old.finish:
            overtime.append(stop.id)
    if not (lateness or worse or broken or overtime):
        return EMPTY
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
