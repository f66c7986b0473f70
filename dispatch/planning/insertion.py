"""Where one call fits in one technician's queue, and what it costs the calls already there.

Every insertion is planned incrementally: the queue is planned once; an insertion at position p
keeps the legs before p, times the new stop from the leg before it, and replays the tail with the
travel times the base plan already paid for (only one new travel time is looked up). The replay
stops after a stop that starts exactly when it did before (a booked window absorbed the delay):
everything after it is unchanged. The ripple it reports is the one of ``ripple.ripple_between``
(a test holds the two equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dispatch.planning.eta import Leg, Location, Stop, Travel
from dispatch.planning.promises import Promises
from dispatch.planning.ripple import EMPTY, Ripple
from dispatch.planning.routes import Route
from dispatch.planning.rules import Rules


# Not frozen, like Ripple: thousands are made for one question; nothing mutates them.
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


def insertions(
    route: Route,
    new: Stop,
    travel: Travel,
    *,
    margin: float | None = None,
    rules: Rules | None = None,
    promises: Promises | None = None,
    positions: Sequence[int] | None = None,
    base: list[Leg] | None = None,
    ripple_if_late: bool = True,
) -> list[Insertion]:
    """The new stop tried at every allowed position (or the given ones), each with its ripple.

    ``rules`` gives the risk margin and the ripple shift; a bare ``margin`` (the older form)
    means the default rules with that margin. With ``ripple_if_late=False`` a position where the
    new stop itself would be late is not priced for others (its ripple is left empty), and the
    positions stop once no later one can be on time or less late than the best seen: callers
    that never offer a late arrival (and only need the least lateness to say why) skip most of
    the work on a day running behind.
    """
    rules = rules or (Rules() if margin is None else Rules(risk_margin=margin))
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
            ripple = _replay_tail(route, base, hops, p, leg.finish, from_new, rules, promises)
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


def _replay_tail(route, base, hops, p, clock, hop, rules: Rules, promises: Promises) -> Ripple:
    # Inline on purpose, like eta.plan_route: this loop runs for every position of every
    # technician asked, and a Leg or a helper call per stop would double its cost. The
    # rules are ripple.ripple_between's, stop by stop.
    stops, shift_end = route.stops, route.shift_end
    margin, shift_rule = rules.risk_margin, rules.ripple_shift
    promised, tolerance = promises.at, promises.tolerance
    lateness, worse, broken, overtime, shifted, most = 0.0, [], [], [], [], 0.0
    for i in range(p, len(stops)):
        if i > p:
            hop = hops[i]
        stop, old = stops[i], base[i]
        arrival = clock + hop
        ready = stop.window_start
        start = arrival if ready is None or arrival >= ready else ready
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
            if kept is not None and abs(old.start - kept) <= tolerance < abs(start - kept):
                broken.append(stop.id)
        later = arrival - old.arrival
        if later > most:
            most = later
        if later > shift_rule:
            shifted.append(stop.id)
        clock = start + stop.duration
        if clock > shift_end >= old.finish:
            overtime.append(stop.id)
        if start == old.start:
            break  # a booked window absorbed the delay: the rest of the queue is unchanged
    if not (lateness or worse or broken or overtime or most):
        return EMPTY
    return Ripple(lateness, tuple(worse), tuple(broken), tuple(overtime), tuple(shifted), most)
