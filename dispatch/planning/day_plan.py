"""Plan the day: a solver proposes an order for every technician; the planning core judges it.

The solver (``solver.Solver``; PyVRP by default) only orders calls. Everything the product shows
of a proposal comes from the same engine, promise and ripple rules as a single move: the ETAs,
who is late or at risk, the travel, the overtime, the promises kept and broken. So a proposal
and the board agree, whichever solver made it.

Rules of the proposal:
- work under way (on site, or set out for) stays first with its technician, never moved;
- only technicians still working today get calls; one past the end of the shift keeps the queue
  they are working in overtime, and one marked off has their calls re-placed;
- what the solver cannot fit on time is placed by the planning core where it is least late
  (emergencies first), so an over-full day gets a plan that says who will be late; a call nobody
  is able to take is listed as unplanned and stays where it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from dispatch.planning.choice import World
from dispatch.planning.eligibility import unable, works_after
from dispatch.planning.eta import Leg, Location, Stop, classify_risk, overtime
from dispatch.planning.insertion import insertions
from dispatch.planning.ripple import at_door, lateness
from dispatch.planning.routes import Route
from dispatch.planning.solver import Costs, Job, SolverAnswer, SolverProblem, Vehicle
from dispatch.planning.travel import travel_matrix

# What serving a call on time is worth, by priority (the solver drops the cheapest first).
VALUE = {"emergency": 8.0, "high": 4.0, "normal": 2.0, "low": 1.0}
PRIORITY_ORDER = {"emergency": 0, "high": 1, "normal": 2, "low": 3}


@dataclass(frozen=True)
class DayInput:
    """Some technicians' day (``world``: their queues as they stand) and the calls to place."""

    world: World
    homes: Mapping[object, Location]  # technician id -> where their day ends
    unassigned: Sequence[Stop] = ()
    needs: Mapping[object, frozenset[str]] = field(default_factory=dict)  # call id -> skills
    priority: Mapping[object, str] = field(default_factory=dict)  # call id -> priority
    costs: Costs = field(default_factory=Costs)


@dataclass(frozen=True, slots=True)
class Figures:
    late: int = 0
    at_risk: int = 0
    travel_minutes: float = 0.0
    overtime_minutes: float = 0.0
    calls_moved: int = 0
    promises_broken: int = 0
    waiting: int = 0  # calls nobody has (before: the unassigned list; after: nobody able)

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Change:
    call: object
    from_technician: object | None
    to_technician: object | None
    eta_before: float | None
    eta_after: float | None
    position_before: int | None
    position_after: int | None
    promise_broken: bool = False
    risk_before: str = ""
    risk_after: str = ""


@dataclass
class Proposal:
    routes: dict[object, list[object]]  # technician id -> every queued call id, in order
    unplanned: list[object]  # calls nobody able can take (they stay where they are)
    before: Figures
    after: Figures
    changes: list[Change]
    legs: dict[object, Leg]  # the proposal's timing of every planned call
    solver_seconds: float = 0.0
    late_placed: list[object] = field(default_factory=list)  # placed late by the core


def plan_day(day: DayInput, solver: Callable[..., SolverAnswer], seconds: float, seed: int = 1):
    """The proposal for ``day`` after ``seconds`` of search."""
    world = day.world
    able = {t for t, w in world.workers.items() if t in world.routes and works_after(w, world.now)}
    problem, pinned, free = _problem(day, able)
    answer = solver(problem, seconds, seed=seed)
    stops = {s.id: s for route in world.routes.values() for s in route.stops}
    stops.update({s.id: s for s in day.unassigned})
    routes = {
        t: _least_change(day, t, route, pinned[t], [stops[c] for c in answer.routes.get(t, [])])
        for t, route in world.routes.items()
        if t in able
    }
    # Calls not given to the solver stay: pinned work, and the queues of those not working.
    for t, route in world.routes.items():
        if t not in able:
            routes[t] = route.with_stops(list(pinned[t]))
    routed = {c for ids in answer.routes.values() for c in ids}
    every = [s for t in world.routes for s in free[t]] + list(day.unassigned)
    left = [s for s in every if s.id not in routed]  # left out, or given to nobody
    late_placed, unplanned = _place_left(day, routes, able, left)
    after = {t: r.plan(world.travel) for t, r in routes.items()}
    before = {t: r.plan(world.travel) for t, r in world.routes.items()}
    return Proposal(
        routes={t: [s.id for s in r.stops] for t, r in routes.items()},
        unplanned=[s.id for s in unplanned],
        before=figures(day, world.routes, before, day.unassigned, moved=0),
        after=figures(
            day, routes, after, unplanned_unassigned(day, unplanned), moved=_moved(world, routes)
        ),
        changes=changes(day, routes, before, after),
        legs={leg.id: leg for legs in after.values() for leg in legs},
        solver_seconds=answer.seconds,
        late_placed=[s.id for s in late_placed],
    )


def _least_change(
    day: DayInput, tech, route: Route, pinned: list[Stop], proposed: list[Stop]
) -> Route:
    """The solver's order for one technician, unless keeping their current order (with what is
    new put where it adds least) is as good: the solver has no reason to prefer the order a
    technician already knows when two are equally good, and a re-plan should change only what it
    must. "As good": no more late, at risk, promises broken, overtime, nor travel (to 30 s)."""
    travel = day.world.travel
    solver_route = route.with_stops([*pinned, *proposed])
    mine = {s.id for s in proposed}
    kept = [s for s in route.stops[route.floor :] if s.id in mine]
    if not kept:
        return solver_route
    current = route.with_stops([*pinned, *kept])
    for stop in proposed:
        if stop in kept:
            continue
        tries = insertions(
            current, stop, travel, rules=day.world.rules, promises=day.world.promises
        )
        best = min(tries, key=lambda ins: ins.travel_added)
        stops = list(current.stops)
        stops.insert(best.position, stop)
        current = current.with_stops(stops)
    if _score(day, tech, current) <= _score(day, tech, solver_route):
        return current
    return solver_route


def _score(day: DayInput, tech, route: Route) -> tuple:
    world, legs = day.world, route.plan(day.world.travel)
    margin = world.rules.risk_margin
    risks = [classify_risk(leg, margin) for leg in legs]
    broken = sum(
        1
        for leg in legs
        if leg.id in world.promises.at and not world.promises.kept(leg.id, at_door(leg))
    )
    return (
        risks.count("late"),
        round(sum(lateness(leg) for leg in legs) / 60.0),
        broken,
        risks.count("at_risk"),
        round(overtime(legs, route.shift_end) / 60.0),
        round(_travel(route, day.homes.get(tech), world.travel, day.costs.drive_home) / 30.0),
    )


def _problem(day: DayInput, able: set) -> tuple[SolverProblem, dict, dict]:
    world = day.world
    places: list[Location] = []
    index: dict[Location, int] = {}

    def place(at: Location) -> int:
        if at not in index:
            index[at] = len(places)
            places.append(at)
        return index[at]

    vehicles, jobs, pinned, free = [], [], {}, {}
    for t, route in world.routes.items():
        pinned[t] = list(route.stops[: route.floor])
        free[t] = list(route.stops[route.floor :])
        if t not in able and not world.workers[t].marked_off:
            # Past the end of their shift: they are working their queue in overtime, and taking
            # it from them now hands it to whoever is left (seen on the simulated evening: one
            # technician planned until the next morning). It stays; nothing new is added.
            pinned[t], free[t] = list(route.stops), []
        if t not in able:
            continue
        legs = route.with_stops(pinned[t]).plan(world.travel)
        start_at = legs[-1].finish if legs else route.start_at
        origin = pinned[t][-1].location if pinned[t] else route.origin
        worker = world.workers[t]
        vehicles.append(
            Vehicle(t, place(origin), place(day.homes.get(t, origin)), start_at,
                    worker.shift_end, worker.skills)
        )  # fmt: skip
        current = {leg.id: leg for leg in route.plan(world.travel)}
        for stop in free[t]:
            jobs.append(_job(day, stop, place(stop.location), t, current.get(stop.id)))
    for stop in [s for t in world.routes if t not in able for s in free[t]] + list(day.unassigned):
        jobs.append(_job(day, stop, place(stop.location), None, None))
    # A call nobody planned has the skills for goes straight to the core's placing (unplanned).
    skilled = [v.skills for v in vehicles]
    jobs = [j for j in jobs if j.keep_with is not None or any(j.needs <= s for s in skilled)]
    problem = SolverProblem(vehicles, jobs, travel_matrix(world.travel, places), day.costs)
    return problem, pinned, free


def _job(day: DayInput, stop: Stop, place: int, owner, leg: Leg | None) -> Job:
    promises = day.world.promises
    # Only a promise kept today earns its keep; one already broken is no reason to stay put.
    kept = leg is not None and promises.kept(stop.id, at_door(leg))
    promise_due = promises.at[stop.id] + promises.tolerance if kept else None
    return Job(
        id=stop.id,
        place=place,
        duration=stop.duration,
        ready=stop.window_start,
        due=stop.deadline,
        needs=frozenset(day.needs.get(stop.id, ())),
        value=VALUE.get(day.priority.get(stop.id, "normal"), 2.0),
        keep_with=owner,
        promise_due=promise_due,
    )


def _place_left(day: DayInput, routes: dict[object, Route], able: set, left: list[Stop]):
    """Place what the solver left out, most urgent first, where it adds least lateness."""
    world = day.world
    order = sorted(
        left,
        key=lambda s: (PRIORITY_ORDER.get(day.priority.get(s.id, "normal"), 2),
                       s.deadline if s.deadline is not None else float("inf")),
    )  # fmt: skip
    placed, unplanned = [], []
    for stop in order:
        emergency = day.priority.get(stop.id) == "emergency"
        needs = day.needs.get(stop.id, ())
        best = None
        for t in sorted(able, key=str):
            if unable(world.workers[t], needs, now=world.now, emergency=emergency):
                continue
            for ins in insertions(routes[t], stop, world.travel, rules=world.rules,
                                  promises=world.promises):  # fmt: skip
                # Fewest calls late or at risk first, then fewest minutes late: least minutes
                # alone would turn several on-time calls late to save one call's lateness.
                cost = (
                    int(ins.leg.late) + len(ins.ripple.turned_worse),
                    round((lateness(ins.leg) + ins.ripple.added_lateness) / 60.0, 1),
                    len(ins.ripple.promises_broken),
                    ins.travel_added,
                )
                if best is None or cost < best[0]:
                    best = (cost, t, ins.position)
        if best is None:
            unplanned.append(stop)
            continue
        _, t, position = best
        stops = list(routes[t].stops)
        stops.insert(position, stop)
        routes[t] = routes[t].with_stops(stops)
        placed.append(stop)
    # A call nobody able can take stays in the queue it is in, in its old order, at the end.
    for t, route in world.routes.items():
        staying = [s for s in route.stops if s in unplanned]
        if staying:
            routes[t] = routes[t].with_stops([*routes[t].stops, *staying])
    return placed, unplanned


def unplanned_unassigned(day: DayInput, unplanned: list[Stop]) -> list[Stop]:
    waiting = {s.id for s in day.unassigned}
    return [s for s in unplanned if s.id in waiting]


def _moved(world: World, routes: Mapping[object, Route]) -> int:
    """Calls taken from one technician and given to another (assigning a waiting call is not)."""
    moved = 0
    for t, route in routes.items():
        for stop in route.stops:
            owner = world.owner_of(stop.id)
            moved += owner is not None and owner != t
    return moved


def figures(day: DayInput, routes, legs_of, waiting: Sequence[Stop], *, moved: int) -> Figures:
    world = day.world
    margin = world.rules.risk_margin
    late = at_risk = broken = 0
    travel = over = 0.0
    for t, legs in legs_of.items():
        route = routes[t]
        for leg in legs:
            risk = classify_risk(leg, margin)
            late += risk == "late"
            at_risk += risk == "at_risk"
            broken += leg.id in world.promises.at and not world.promises.kept(leg.id, at_door(leg))
        travel += _travel(route, day.homes.get(t), world.travel, day.costs.drive_home)
        over += overtime(legs, route.shift_end)
    for stop in waiting:  # waiting calls: judged from now, as the board does
        if stop.deadline is not None:
            slack = stop.deadline - world.now
            late += slack < 0
            at_risk += 0 <= slack < margin
    minutes = round(travel / 60.0, 1), round(over / 60.0, 1)
    return Figures(late, at_risk, *minutes, moved, broken, len(waiting))


def _travel(route: Route, home: Location | None, travel, drive_home: bool) -> float:
    stops = list(route.stops)
    if route.first_on_site_since is not None and stops:  # already there: the day goes on from it
        here, rest = stops[0].location, stops[1:]
    else:
        here, rest = route.origin, stops
    total = 0.0
    for stop in rest:
        total += travel(here, stop.location)
        here = stop.location
    if drive_home and home is not None and stops:
        total += travel(here, home)
    return total


def changes(day: DayInput, routes, before, after) -> list[Change]:
    """Every call whose technician, place in the queue or ETA (by a minute or more) changes."""
    world, margin = day.world, day.world.rules.risk_margin
    was = {leg.id: (t, i, leg) for t, legs in before.items() for i, leg in enumerate(legs)}
    found = []
    for t, legs in after.items():
        for i, leg in enumerate(legs):
            old_t, old_i, old = was.get(leg.id, (None, None, None))
            eta_before = old.arrival if old else None
            moved_eta = old is None or abs(leg.arrival - old.arrival) >= 60
            if old_t == t and old_i == i and not moved_eta:
                continue
            found.append(
                Change(
                    leg.id, old_t, t, eta_before, leg.arrival, old_i, i,
                    world.promises.broken(leg.id, at_door(old), at_door(leg)),
                    classify_risk(old, margin) if old else "", classify_risk(leg, margin),
                )
            )  # fmt: skip
    return found
