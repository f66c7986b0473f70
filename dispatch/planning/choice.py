"""Which technician should go, and where in their queue: the one ranking of candidates.

A candidate is the best on-time place in one able technician's queue, with its ripple (in the
technician's queue, plus what leaving the current queue does to that one). Ranked: least harm
(lateness added, calls turned worse, promises broken), no overtime, own team before another
team's equally good choice, least travel added, least shift to others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from dispatch.planning.eligibility import Worker, call_out, unable
from dispatch.planning.eta import Stop, Travel
from dispatch.planning.insertion import Insertion, insertions
from dispatch.planning.promises import Promises
from dispatch.planning.ripple import EMPTY, Ripple, ripple_between
from dispatch.planning.routes import Route
from dispatch.planning.rules import Rules


@dataclass(frozen=True)
class World:
    """Everything the planner needs about some technicians on one day, as plain data."""

    routes: Mapping[object, Route]  # technician id -> their queue
    workers: Mapping[object, Worker]  # technician id -> eligibility facts
    promises: Promises
    rules: Rules
    travel: Travel
    now: float
    call_skills: Mapping[object, frozenset[str]] | None = None  # queued call id -> needs

    @cached_property
    def _owners(self) -> dict[object, object]:
        return {stop.id: tech for tech, route in self.routes.items() for stop in route.stops}

    def owner_of(self, call_id: object) -> object | None:
        return self._owners.get(call_id)


@dataclass(slots=True)
class Choice:
    technician_id: object
    insertion: Insertion  # where the call goes and its timing there
    ripple: Ripple  # to every other call: the new queue's and the one it leaves
    other_team: bool = False
    name: str = ""  # the last tie-break, so a ranking reads the same every time
    call_out: str = ""  # an on-call technician sent outside their shift: the cost, in words

    @property
    def position(self) -> int:
        return self.insertion.position

    @property
    def overtime(self) -> bool:
        return self.insertion.overtime or bool(self.ripple.overtime)

    def rank(self) -> tuple:
        r = self.ripple
        harm = (round(r.added_lateness / 60.0, 1), len(r.turned_worse), len(r.promises_broken))
        travel = round(self.insertion.travel_added / 60.0, 1)
        return (*harm, self.overtime, self.other_team, travel, r.max_shift_minutes, self.name)


def _insertion_rank(ins: Insertion) -> tuple:
    r = ins.ripple
    return (
        round(r.added_lateness / 60.0, 1),
        len(r.turned_worse),
        len(r.promises_broken),
        ins.overtime or bool(r.overtime),
        round(ins.travel_added / 60.0, 1),
        r.max_shift_minutes,
        ins.position,
    )


def best_place(
    route: Route,
    stop: Stop,
    world: World,
    *,
    emergency: bool = False,
) -> Insertion | str:
    """The best on-time place in one queue, or why there is none, in words."""
    tries = insertions(
        route,
        stop,
        world.travel,
        rules=world.rules,
        promises=world.promises,
        ripple_if_late=False,
    )
    on_time = [t for t in tries if t.on_time]
    if not on_time:
        late_by = min((-(t.leg.slack or 0.0) for t in tries), default=0.0) / 60.0
        return f"would arrive late by {late_by:.0f} min"
    if not emergency:
        in_shift = [t for t in on_time if not (t.overtime or t.ripple.overtime)]
        if not in_shift:
            return _overtime_reason(min(on_time, key=lambda t: t.position))
        on_time = in_shift
    return min(on_time, key=_insertion_rank)


def _overtime_reason(first: Insertion) -> str:
    pushed = first.ripple.overtime
    which = "this call" if first.overtime or not pushed else f"call #{pushed[-1]}"
    return f"would push {which} into overtime"


def leaving_ripple(world: World, call_id: object, owner: object = None) -> Ripple:
    """What taking a call out of its current queue does to the calls left there."""
    owner = owner if owner is not None else world.owner_of(call_id)
    if owner is None:
        return EMPTY
    route = world.routes[owner]
    before = {leg.id: leg for leg in route.plan(world.travel)}
    after = {leg.id: leg for leg in route.without(call_id).plan(world.travel)}
    return ripple_between(
        before,
        after,
        rules=world.rules,
        promises=world.promises,
        shift_end=route.shift_end,
        skip=call_id,
    )


def _choose(
    world: World, stop: Stop, needs: Iterable[str], *, emergency: bool, home_team, place_in
) -> tuple[list[Choice], list[tuple[object, str]]]:
    """Every able technician (the call's own excepted) placed by ``place_in(route)``, an
    Insertion or a reason in words; the eligibility rule decides who is asked at all."""
    needs = frozenset(needs)
    owner = world.owner_of(stop.id)
    leaving = leaving_ripple(world, stop.id, owner)
    found, excluded = [], []
    for tech_id, worker in world.workers.items():
        if tech_id == owner:
            continue
        reasons = unable(worker, needs, now=world.now, emergency=emergency)
        route = world.routes[tech_id]
        if emergency and worker.on_call_at(world.now):
            route = route.starting_by(world.now)  # called out: sets off now
        place = "; ".join(reasons) if reasons else place_in(route)
        if isinstance(place, str):
            excluded.append((tech_id, place))
            continue
        other = home_team is not None and worker.team != home_team
        cost = call_out(worker, now=world.now, at=place.leg.arrival, emergency=emergency)
        found.append(Choice(tech_id, place, place.ripple + leaving, other, worker.name, cost))
    return found, excluded


def candidates(
    world: World,
    stop: Stop,
    needs: Iterable[str],
    *,
    emergency: bool = False,
    home_team: object = None,
) -> tuple[list[Choice], list[tuple[object, str]]]:
    """Every able technician's best place, ranked, and every other technician with the reason.
    The call's current technician (if any) is neither."""

    def best(route: Route) -> Insertion | str:
        return best_place(route, stop, world, emergency=emergency)

    found, excluded = _choose(
        world, stop, needs, emergency=emergency, home_team=home_team, place_in=best
    )
    found.sort(key=Choice.rank)
    return found, excluded


def send_now(
    world: World, stop: Stop, needs: Iterable[str], *, home_team: object = None
) -> tuple[list[Choice], list[tuple[object, str]]]:
    """For an emergency: every able technician with the call right after their current work,
    soonest arrival first, then the candidate ranking. Late arrivals are offered: nearest wins."""

    def right_after_current_work(route: Route) -> Insertion:
        (slot,) = insertions(
            route,
            stop,
            world.travel,
            rules=world.rules,
            promises=world.promises,
            positions=[route.floor],
        )
        return slot

    found, excluded = _choose(
        world, stop, needs, emergency=True, home_team=home_team, place_in=right_after_current_work
    )
    found.sort(key=lambda c: (round(c.insertion.leg.arrival), c.rank()))
    return found, excluded
