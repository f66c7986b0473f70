"""The day planner: the real solver (PyVRP) proposes, the planning core judges the proposal."""

from __future__ import annotations

import math

import pytest

from dispatch.planning import pyvrp_solver
from dispatch.planning.choice import World
from dispatch.planning.day_plan import DayInput, plan_day
from dispatch.planning.eligibility import Worker
from dispatch.planning.eta import Stop
from dispatch.planning.promises import Promises
from dispatch.planning.routes import Route
from dispatch.planning.rules import Rules
from dispatch.planning.solver import Costs
from dispatch.planning.travel import great_circle, plane, travel_matrix

MIN = 60.0
TRAVEL = plane(60)  # one unit of distance is a minute of driving
DAY_END = 600 * MIN


def _worker(t, skills=(), end=DAY_END):
    return Worker(t, frozenset(skills), 0.0, end, ("00:00", "10:00"))


def _world(routes, workers=None, promised=None, now=0.0):
    workers = workers or {t: _worker(t) for t in routes}
    return World(
        routes=routes,
        workers=workers,
        promises=Promises(promised or {}, 15 * MIN),
        rules=Rules(),
        travel=TRAVEL,
        now=now,
    )


def _route(stops=(), origin=(0.0, 0.0), floor=0, end=DAY_END):
    return Route(start_at=0.0, origin=origin, stops=list(stops), shift_end=end, floor=floor)


def _grid_calls(n, spacing=5.0, deadline=None):
    return [
        Stop(100 + i, (spacing * (i % 5), spacing * (i // 5)), 20 * MIN, None, deadline)
        for i in range(n)
    ]


def _plan(day, seconds=1.0):
    return plan_day(day, pyvrp_solver.solve, seconds)


def test_the_numpy_matrices_equal_the_providers_pair_by_pair():
    points = [(51.5, -0.12), (51.52, -0.1), (51.49, -0.2), (52.0, 0.1)]
    for travel in (great_circle(1.3, 40.0), plane(60)):
        fast = travel_matrix(travel, points)
        for i, a in enumerate(points):
            for j, b in enumerate(points):
                assert fast[i, j] == pytest.approx(travel(a, b), abs=1e-6)


def test_every_waiting_call_is_given_out_with_nobody_late_when_there_is_room():
    calls = _grid_calls(10, deadline=400 * MIN)
    world = _world({1: _route(), 2: _route(origin=(20.0, 20.0))})
    proposal = _plan(DayInput(world, homes={1: (0, 0), 2: (20, 20)}, unassigned=calls))
    planned = sorted(c for route in proposal.routes.values() for c in route)
    assert planned == [c.id for c in calls]
    assert proposal.after.late == 0 and proposal.unplanned == []
    assert proposal.before.late == 0 and proposal.after.calls_moved == 0
    assert {ch.call for ch in proposal.changes} == {c.id for c in calls}


def test_skills_are_exact_a_call_goes_only_to_a_technician_who_has_them():
    calls = _grid_calls(8)
    needs = {c.id: frozenset({"gas"}) for c in calls[:3]}
    workers = {1: _worker(1, {"gas"}), 2: _worker(2)}
    # The technician without the skill starts right among the calls: the gas calls still go to 1.
    world = _world({1: _route(origin=(90.0, 90.0)), 2: _route(origin=(5.0, 5.0))}, workers)
    proposal = _plan(DayInput(world, homes={}, unassigned=calls, needs=needs))
    assert set(needs) <= set(proposal.routes[1])
    assert not set(needs) & set(proposal.routes[2])


def test_work_under_way_stays_first_and_is_never_moved():
    on_site = Stop(1, (50.0, 50.0), 60 * MIN)
    queued = [Stop(2, (50.0, 51.0), 20 * MIN), Stop(3, (0.0, 1.0), 20 * MIN)]
    route = Route(0.0, (0.0, 0.0), [on_site, *queued], DAY_END, floor=1, first_on_site_since=0.0)
    world = _world({1: route, 2: _route(origin=(0.0, 0.0))})
    day = DayInput(world, homes={}, costs=Costs(drive_home=False))
    proposal = _plan(day)
    assert proposal.routes[1][0] == 1
    # The call next door to the other technician goes to them (70 min of driving saved, more than
    # the cost of moving it); the call on site stays.
    assert 3 in proposal.routes[2]


def test_an_over_full_day_still_plans_every_call_and_says_who_will_be_late():
    # One technician, twelve hour-long calls due within three hours: most cannot be on time.
    calls = [Stop(100 + i, (float(i), 0.0), 60 * MIN, None, 180 * MIN) for i in range(12)]
    world = _world({1: _route()})
    proposal = _plan(DayInput(world, homes={}, unassigned=calls, costs=Costs(max_overtime=0)))
    assert sorted(proposal.routes[1]) == [c.id for c in calls]  # nobody dropped
    assert proposal.after.late >= 8
    assert proposal.late_placed  # the planning core placed what the solver could not fit
    late = [leg.id for leg in proposal.legs.values() if leg.late]
    assert len(late) == proposal.after.late


def test_a_call_nobody_able_can_take_is_unplanned_and_stays_where_it_is():
    call = Stop(100, (1.0, 1.0), 20 * MIN)
    world = _world({1: _route()}, {1: _worker(1)})
    proposal = _plan(DayInput(world, homes={}, unassigned=[call], needs={100: frozenset({"x"})}))
    assert proposal.unplanned == [100]
    assert proposal.routes[1] == []


def test_nobody_still_working_means_no_plan_and_nothing_moves():
    # Past the end of the shift: the queue being worked in overtime stays as it is.
    stops = _grid_calls(3)
    world = _world({1: _route(stops, end=0.0)}, {1: _worker(1, end=0.0)}, now=10.0)
    proposal = _plan(DayInput(world, homes={}))
    assert proposal.routes[1] == [s.id for s in stops]
    assert proposal.unplanned == []
    assert proposal.changes == []


def test_a_technician_past_their_shift_keeps_their_queue_and_gets_nothing_new():
    late_queue = [Stop(1, (0.0, 1.0), 60 * MIN), Stop(2, (0.0, 2.0), 60 * MIN)]
    waiting = Stop(3, (0.0, 1.5), 20 * MIN)
    workers = {1: _worker(1, end=100 * MIN), 2: _worker(2)}
    routes = {1: _route(late_queue, end=100 * MIN), 2: _route(origin=(50.0, 50.0))}
    world = _world(routes, workers, now=120 * MIN)
    proposal = _plan(DayInput(world, homes={}, unassigned=[waiting]))
    assert proposal.routes[1] == [1, 2]
    assert proposal.routes[2] == [3]


def test_a_technician_marked_off_has_their_calls_re_placed():
    from dataclasses import replace

    queue = [Stop(1, (0.0, 1.0), 30 * MIN)]
    workers = {1: replace(_worker(1), marked_off=True), 2: _worker(2)}
    world = _world({1: _route(queue), 2: _route()}, workers, now=60 * MIN)
    proposal = _plan(DayInput(world, homes={}))
    assert proposal.routes == {1: [], 2: [1]}
    assert proposal.after.calls_moved == 1


def _planned_world(proposal, world, stops):
    by_id = {s.id: s for s in stops}
    routes = {
        t: world.routes[t].with_stops([by_id[c] for c in ids]) for t, ids in proposal.routes.items()
    }
    return _world(routes, world.workers)


def test_planning_an_already_planned_day_again_moves_no_call():
    calls = _grid_calls(15, deadline=500 * MIN)
    world = _world({t: _route(origin=(10.0 * t, 0.0)) for t in (1, 2, 3)})
    first = _plan(DayInput(world, homes={t: (10.0 * t, 0.0) for t in (1, 2, 3)}, unassigned=calls))
    planned = _planned_world(first, world, calls)
    again = _plan(DayInput(planned, homes={t: (10.0 * t, 0.0) for t in (1, 2, 3)}))
    assert again.after.calls_moved == 0
    assert again.routes == first.routes
    assert again.changes == []


def test_one_new_emergency_moves_only_what_it_must():
    calls = _grid_calls(20, spacing=6.0, deadline=560 * MIN)
    homes = {t: (12.0 * t, 12.0) for t in (1, 2, 3, 4)}
    world = _world({t: _route(origin=homes[t]) for t in homes})
    first = _plan(DayInput(world, homes=homes, unassigned=calls))
    planned = _planned_world(first, world, calls)
    emergency = Stop(999, (13.0, 13.0), 30 * MIN, None, 60 * MIN)
    day = DayInput(planned, homes=homes, unassigned=[emergency], priority={999: "emergency"})
    proposal = _plan(day)
    assert proposal.legs[999].late is False
    # Nobody else's call changes hands: the emergency goes in, the rest only slides.
    assert proposal.after.calls_moved == 0
    changed_hands = [
        ch for ch in proposal.changes if ch.from_technician not in (None, ch.to_technician)
    ]
    assert changed_hands == []


def test_a_kept_promise_costs_more_to_break_than_the_travel_it_saves():
    # Call 2 is promised at 100 min; serving the far call 3 first would save a little driving
    # but arrive at 2 far past its promise.
    two = Stop(2, (40.0, 0.0), 10 * MIN)
    three = Stop(3, (45.0, 0.0), 10 * MIN)
    route = _route([two, three])
    base = {leg.id: leg for leg in route.plan(TRAVEL)}
    world = _world({1: route}, promised={2: base[2].start})
    proposal = _plan(DayInput(world, homes={}, costs=Costs(drive_home=False)))
    assert proposal.routes[1] == [2, 3]
    assert proposal.after.promises_broken == 0


def _solomon(name):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "solomon" / "instances" / f"{name}.txt"
    rows = [r.split() for r in path.read_text().splitlines()]
    rows = [r for r in rows if len(r) == 7 and r[0].isdigit()]
    depot = rows[0]
    points = {int(r[0]): (float(r[2]), float(r[1])) for r in rows}
    stops = [
        Stop(int(r[0]), points[int(r[0])], float(r[6]) * MIN, float(r[4]) * MIN, float(r[5]) * MIN)
        for r in rows[1:]
    ]
    return points[0], float(depot[5]) * MIN, stops


def test_solomon_r101_with_20_technicians_nobody_late_and_near_the_published_optimum():
    depot, due, stops = _solomon("R101")
    routes = {t: Route(0.0, depot, [], due) for t in range(20)}
    workers = {t: Worker(t, frozenset(), 0.0, due) for t in range(20)}
    world = World(routes, workers, Promises(), Rules(), TRAVEL, 0.0)
    day = DayInput(
        world, homes={t: depot for t in routes}, unassigned=stops, costs=Costs(max_overtime=0)
    )
    proposal = plan_day(day, pyvrp_solver.solve, 5.0)
    assert proposal.after.late == 0 and proposal.unplanned == []
    distance = proposal.after.travel_minutes  # minutes of driving = Solomon distance
    assert distance <= 1637.7 * 1.03, distance
    assert math.isfinite(distance)
