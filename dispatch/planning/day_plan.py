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
from dataclasses import dataclass, field, replace

from dispatch.planning.choice import World
from dispatch.planning.eligibility import unable, works_after
from dispatch.planning.eta import Leg, Location, Stop, classify_risk, overtime
from dispatch.planning.insertion import insertions
from dispatch.planning.plan_figures import Change, Figures, changes, figures, route_travel
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


@dataclass
class Proposal:
    routes: dict[object, list[object]]  # technician id -> every queued call id, in order
    unplanned: list[object]  # calls nobody able can take (they stay where they are)
    before: Figures
    after: Figures
    changes: list[Change]
    legs: dict[object, Leg]  # the proposal's timing of every planned call
    solver_seconds: float = 0.0
    late_placed: list[object] = field(default_factory=list)  # placed by the core, not the solver
    reasons: dict[object, str] = field(default_factory=dict)  # why each unplanned call is
    working: int = 0  # technicians the plan could give calls to
    solver_kept: bool = True  # False: the solver found nothing better than the least change


def plan_day(day: DayInput, solver: Callable[..., SolverAnswer], seconds: float, seed: int = 1):
    """The proposal for ``day`` after ``seconds`` of search.

    Two candidates are judged alike: the solver's order, and the least change (every queue as it
    is, only the calls waiting, or losing their technician, placed by the core). The solver's is
    proposed only when it is better in the order a dispatcher weighs a day: fewer late, fewer
    left waiting, fewer promises broken, fewer at risk, less overtime (by the quarter hour), less
    driving (by five minutes). Otherwise the least change is, so a re-plan of a planned day
    settles instead of reshuffling calls for nothing."""
    world = day.world
    able = {t for t, w in world.workers.items() if t in world.routes and works_after(w, world.now)}
    problem, pinned, free = _problem(day, able)
    answer = solver(problem, seconds, seed=seed)
    stops = {s.id: s for route in world.routes.values() for s in route.stops}
    stops.update({s.id: s for s in day.unassigned})
    every = [s for t in world.routes for s in free[t]] + list(day.unassigned)
    solved = _candidate(
        day, able, pinned, {t: [stops[c] for c in answer.routes.get(t, [])] for t in able}, every
    )
    kept = _candidate(day, able, pinned, {t: list(free[t]) for t in able}, every)
    chosen = solved if _rank(solved) < _rank(kept) else kept
    routes, late_placed, unplanned, reasons, after, figures_after = chosen
    before = {t: r.plan(world.travel) for t, r in world.routes.items()}
    return Proposal(
        routes={t: [s.id for s in r.stops] for t, r in routes.items()},
        unplanned=[s.id for s in unplanned],
        before=figures(day, world.routes, before, day.unassigned, moved=0),
        after=figures_after,
        changes=changes(day, routes, before, after),
        legs={leg.id: leg for legs in after.values() for leg in legs},
        solver_seconds=answer.seconds,
        late_placed=[s.id for s in late_placed],
        reasons=reasons,
        working=len(able),
        solver_kept=chosen is solved,
    )


def _candidate(day: DayInput, able: set, pinned: dict, order: dict, every: list[Stop]):
    """A whole proposal from an order per able technician: routes, the calls the core placed,
    those nobody takes (and why), the legs and the figures."""
    world = day.world
    routes = {
        t: _least_change(day, t, route, pinned[t], order[t]) if t in able
        else route.with_stops(list(pinned[t]))
        for t, route in world.routes.items()
    }  # fmt: skip
    given = {s.id for ids in order.values() for s in ids}
    left = [s for s in every if s.id not in given]  # left out, or given to nobody
    placed, unplanned, reasons = _place_left(day, routes, able, left)
    legs = {t: r.plan(world.travel) for t, r in routes.items()}
    waiting = unplanned_unassigned(day, unplanned)
    return (
        routes,
        placed,
        unplanned,
        reasons,
        legs,
        figures(day, routes, legs, waiting, moved=_moved(world, routes)),
    )


def _rank(candidate) -> tuple:
    f = candidate[5]
    return (
        f.late, f.waiting, f.promises_broken, f.at_risk,
        round(f.overtime_minutes / 15.0), round(f.travel_minutes / 5.0),
    )  # fmt: skip


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
        round(route_travel(route, day.homes.get(tech), world.travel, day.costs.drive_home) / 30.0),
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
        planned = route.plan(world.travel)
        # A queue already running further into overtime than the limit stays plannable: the
        # limit bounds what a plan adds, not what the day already holds.
        allowed = max(day.costs.max_overtime, overtime(planned, route.shift_end))
        vehicles.append(
            Vehicle(t, place(origin), place(day.homes.get(t, origin)), start_at,
                    worker.shift_end, worker.skills, allowed)
        )  # fmt: skip
        current = {leg.id: leg for leg in planned}
        for stop in free[t]:
            jobs.append(_job(day, stop, place(stop.location), t, current.get(stop.id)))
    for stop in [s for t in world.routes if t not in able for s in free[t]] + list(day.unassigned):
        jobs.append(_job(day, stop, place(stop.location), None, None))
    # A call nobody planned has the skills for goes straight to the core's placing (unplanned).
    skilled = [v.skills for v in vehicles]
    jobs = [j for j in jobs if j.keep_with is not None or any(j.needs <= s for s in skilled)]
    matrix = travel_matrix(world.travel, places)
    problem = SolverProblem(vehicles, _hopeless_relaxed(jobs, vehicles, matrix), matrix, day.costs)
    return problem, pinned, free


def _hopeless_relaxed(jobs: list[Job], vehicles: list[Vehicle], matrix) -> list[Job]:
    """A call nobody can reach by its deadline any more is late whatever the plan: given to the
    solver without its window, it is routed where it costs least instead of making every plan
    infeasible (an over-full day's search otherwise never leaves the queues as they are). The
    proposal is judged by the engine, which still counts it late."""
    if not vehicles:
        return jobs
    out = []
    for job in jobs:
        if job.due is not None:
            earliest = min(v.start_at + matrix[v.start, job.place] for v in vehicles)
            if earliest > job.due:
                job = replace(job, due=None, promise_due=None)
        out.append(job)
    return out


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
    """Place what the solver left out, most urgent first, where it harms least: fewest calls late
    or at risk, then fewest minutes late. Not into more overtime than the plan allows (a call
    that only fits so stays waiting: nobody has the hours), and an emergency nobody reaches by
    its deadline stays waiting for a person to send someone now (Suggest, the on-call list)
    rather than being booked late in the day. Returns (placed, unplanned, reasons)."""
    world = day.world
    order = sorted(
        left,
        key=lambda s: (PRIORITY_ORDER.get(day.priority.get(s.id, "normal"), 2),
                       s.deadline if s.deadline is not None else float("inf")),
    )  # fmt: skip
    limit = {t: _overtime_allowed(day, world.routes[t]) for t in able}
    placed, unplanned, reasons = [], [], {}
    for stop in order:
        emergency = day.priority.get(stop.id) == "emergency"
        needs = day.needs.get(stop.id, ())
        best, skilled = None, False
        for t in sorted(able, key=str):
            if unable(world.workers[t], needs, now=world.now, emergency=emergency):
                continue
            skilled = True
            base = routes[t].plan(world.travel)
            for ins in insertions(routes[t], stop, world.travel, rules=world.rules,
                                  promises=world.promises, base=base):  # fmt: skip
                if not emergency and _overtime_after(routes[t], base, ins) > limit[t]:
                    continue
                cost = (
                    int(ins.leg.late) + len(ins.ripple.turned_worse),
                    round((lateness(ins.leg) + ins.ripple.added_lateness) / 60.0, 1),
                    len(ins.ripple.promises_broken),
                    ins.travel_added,
                )
                if best is None or cost < best[0]:
                    best = (cost, t, ins.position, ins.leg.late)
        if best is None or (emergency and best[3]):
            unplanned.append(stop)
            reasons[stop.id] = _why_not(day, able, skilled, emergency, best)
            continue
        _, t, position, _ = best
        stops = list(routes[t].stops)
        stops.insert(position, stop)
        routes[t] = routes[t].with_stops(stops)
        placed.append(stop)
    # A call nobody able can take stays in the queue it is in, in its old order, at the end.
    for t, route in world.routes.items():
        staying = [s for s in route.stops if s in unplanned]
        if staying:
            routes[t] = routes[t].with_stops([*routes[t].stops, *staying])
    return placed, unplanned, reasons


def _overtime_allowed(day: DayInput, route: Route) -> float:
    return max(day.costs.max_overtime, overtime(route.plan(day.world.travel), route.shift_end))


def _overtime_after(route: Route, base: list[Leg], ins) -> float:
    """The queue's overtime with the insertion: the last finish moves by the insertion's shift
    of the tail, or is the new call's own finish when it goes last."""
    last = ins.leg.finish if ins.position >= len(base) else base[-1].finish + ins.ripple.max_shift
    return max(0.0, last - route.shift_end)


def _why_not(day: DayInput, able: set, skilled: bool, emergency: bool, best) -> str:
    if not able:
        return "nobody in this plan is working any more today"
    if not skilled:
        return "nobody working has the skills"
    if emergency:
        return "an emergency nobody in this plan reaches by its deadline: send someone now"
    minutes = round(day.costs.max_overtime / 60.0)
    return f"it only fits with more than {minutes} min of overtime"


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
