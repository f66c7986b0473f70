"""The ETA engine and travel providers: pure, no database, milliseconds.

The Solomon VRPTW benchmark gives real stops with windows and published routes that keep
every window, so it checks the engine against numbers we did not compute ourselves.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.eta import (
    AT_RISK,
    LATE,
    OK,
    Leg,
    Stop,
    classify_risk,
    leg_overtime,
    overtime,
    plan_route,
)
from dispatch.travel import euclidean, euclidean_trunc1, great_circle

REPO = Path(__file__).resolve().parents[2]
# A copy of ../shared/data/solomon travels with the repo, so any clone can run these tests.
SOLOMON_DIR = Path(os.environ.get("SOLOMON_DIR") or REPO / "tests" / "data" / "solomon")
TRAVEL_BY_CONVENTION = {"double": euclidean, "trunc1": euclidean_trunc1}


# --- Solomon data ---------------------------------------------------------------------


def _solution_files() -> list[Path]:
    files = sorted((SOLOMON_DIR / "solutions").glob("*.json"))
    # With no files pytest would skip the parametrized test; a placeholder fails it.
    return files or [SOLOMON_DIR / "solutions" / "<no solution files>"]


def _require_data(path: Path) -> None:
    if not path.is_file():
        pytest.fail(
            f"Solomon data not found at {path} (SOLOMON_DIR={SOLOMON_DIR}). "
            "Expected tests/data/solomon in the repo, or set SOLOMON_DIR.",
            pytrace=False,
        )


def _load_solution(path: Path) -> dict:
    _require_data(path)
    return json.loads(path.read_text())


def _load_instance(name: str) -> tuple[tuple[float, float], float, dict[int, Stop]]:
    """Depot location, depot due date, and a Stop per customer id."""
    path = SOLOMON_DIR / "instances" / f"{name}.txt"
    _require_data(path)
    rows = [line.split() for line in path.read_text().splitlines()]
    rows = [r for r in rows if len(r) == 7 and r[0].isdigit()]
    depot, customers = rows[0], rows[1:]
    stops = {
        int(r[0]): Stop(
            id=int(r[0]),
            location=(float(r[1]), float(r[2])),
            duration=float(r[6]),
            window_start=float(r[4]),
            deadline=float(r[5]),
        )
        for r in customers
    }
    return (float(depot[1]), float(depot[2])), float(depot[5]), stops


def _run_solution(solution: dict, travel) -> tuple[list[list[Leg]], float, float]:
    """Plan each route as one technician's queue: legs, distance, latest return."""
    depot, _, stops = _load_instance(solution["instance"])
    all_legs, distance, latest_return = [], 0.0, 0.0
    for route in solution["routes"]:
        queue = [stops[c] for c in route]
        legs = plan_route(0.0, depot, queue, travel)
        path = [depot, *(s.location for s in queue), depot]
        distance += sum(travel(a, b) for a, b in itertools.pairwise(path))
        latest_return = max(latest_return, legs[-1].finish + travel(queue[-1].location, depot))
        all_legs.append(legs)
    return all_legs, distance, latest_return


@pytest.mark.parametrize("path", _solution_files(), ids=lambda p: p.name)
def test_published_solomon_route_keeps_every_window_and_distance(path):
    solution = _load_solution(path)
    travel = TRAVEL_BY_CONVENTION[solution["distance_convention"]]
    depot_due = _load_instance(solution["instance"])[1]

    all_legs, distance, latest_return = _run_solution(solution, travel)

    assert solution["vehicles"] == len(solution["routes"])
    visited = sorted(leg.id for legs in all_legs for leg in legs)
    assert visited == list(range(1, 101)), "every customer visited exactly once"
    late = [leg.id for legs in all_legs for leg in legs if leg.late]
    assert late == []
    # Service never starts before the customer's ready time (the window's start is kept).
    customers = _load_instance(solution["instance"])[2]
    early = [
        leg.id for legs in all_legs for leg in legs if leg.start < customers[leg.id].window_start
    ]
    assert early == []
    assert distance == pytest.approx(solution["distance"], abs=0.01)
    assert latest_return <= depot_due


def test_rc101_cvrplib_routes_are_late_at_customer_46_with_unrounded_distances():
    solution = _load_solution(SOLOMON_DIR / "solutions" / "RC101.cvrplib.json")

    all_legs, _, _ = _run_solution(solution, euclidean)

    late = [leg for legs in all_legs for leg in legs if leg.late]
    assert [leg.id for leg in late] == [46]
    assert -late[0].slack == pytest.approx(0.0703, abs=1e-4)
    assert late[0].start == pytest.approx(143.0703, abs=1e-4)


# --- plan_route edge cases ------------------------------------------------------------


def _line(a, b):
    """Travel along the x axis, one time unit per unit of distance."""
    return abs(b[0] - a[0])


PLAN_CASES = [
    pytest.param({"stops": []}, [], id="empty queue"),
    pytest.param(
        {"stops": [Stop("a", (10, 0), 5, window_start=30, deadline=60)]},
        [Leg("a", arrival=10, start=30, finish=35, slack=50, late=False)],
        id="early arrival waits for the window",
    ),
    pytest.param(
        {"stops": [Stop("a", (10, 0), 5, window_start=4, deadline=60)]},
        [Leg("a", arrival=10, start=10, finish=15, slack=50, late=False)],
        id="window already open",
    ),
    pytest.param(
        {"stops": [Stop("a", (10, 0), 5)]},
        [Leg("a", arrival=10, start=10, finish=15, slack=None, late=False)],
        id="no deadline means no slack and never late",
    ),
    pytest.param(
        {"stops": [Stop("a", (10, 0), 5, deadline=10)]},
        [Leg("a", arrival=10, start=10, finish=15, slack=0, late=False)],
        id="arriving exactly at the deadline is not late",
    ),
    pytest.param(
        {"stops": [Stop("a", (10, 0), 5, deadline=9)]},
        [Leg("a", arrival=10, start=10, finish=15, slack=-1, late=True)],
        id="arriving after the deadline is late",
    ),
    pytest.param(
        {"stops": [Stop("a", (10, 0), 5), Stop("b", (4, 0), 1, deadline=30)]},
        [
            Leg("a", arrival=10, start=10, finish=15, slack=None, late=False),
            Leg("b", arrival=21, start=21, finish=22, slack=9, late=False),
        ],
        id="next stop leaves when the previous one finishes",
    ),
    pytest.param(
        {
            "start_at": 100,
            "origin": (7, 0),
            "stops": [Stop("a", (10, 0), 5, deadline=102), Stop("b", (12, 0), 1)],
        },
        [
            Leg("a", arrival=103, start=103, finish=108, slack=-1, late=True),
            Leg("b", arrival=110, start=110, finish=111, slack=None, late=False),
        ],
        id="en route travels from the current location from now",
    ),
    pytest.param(
        {
            "start_at": 100,
            "first_on_site_since": 90,
            "stops": [
                Stop("a", (10, 0), 30, window_start=95, deadline=92),
                Stop("b", (14, 0), 1),
            ],
        },
        [
            Leg("a", arrival=90, start=90, finish=120, slack=2, late=False),
            Leg("b", arrival=124, start=124, finish=125, slack=None, late=False),
        ],
        id="on site finishes at started-at plus duration",
    ),
    pytest.param(
        {
            "start_at": 100,
            "first_on_site_since": 50,
            "stops": [Stop("a", (10, 0), 30, deadline=40), Stop("b", (14, 0), 1)],
        },
        [
            Leg("a", arrival=50, start=50, finish=100, slack=-10, late=True),
            Leg("b", arrival=104, start=104, finish=105, slack=None, late=False),
        ],
        id="on site overrunning its duration finishes no earlier than now",
    ),
    pytest.param(
        {"start_at": 100, "first_on_site_since": 90, "stops": []},
        [],
        id="on site with an empty queue",
    ),
]


@pytest.mark.parametrize(("kwargs", "expected"), PLAN_CASES)
def test_plan_route(kwargs, expected):
    kwargs = {"start_at": 0.0, "origin": (0, 0), "travel": _line, **kwargs}
    start_at, origin, stops, travel = (
        kwargs.pop(k) for k in ("start_at", "origin", "stops", "travel")
    )

    assert plan_route(start_at, origin, stops, travel, **kwargs) == expected


OVERTIME_CASES = [
    pytest.param([], 100, 0.0, id="empty queue has no overtime"),
    pytest.param([Stop("a", (10, 0), 90)], 100, 0.0, id="finishing exactly at shift end"),
    pytest.param([Stop("a", (10, 0), 90), Stop("b", (20, 0), 5)], 100, 15.0, id="shift overrun"),
]


@pytest.mark.parametrize(("stops", "shift_end", "expected"), OVERTIME_CASES)
def test_overtime(stops, shift_end, expected):
    legs = plan_route(0.0, (0, 0), stops, _line)

    assert overtime(legs, shift_end) == expected
    assert any(leg_overtime(leg, shift_end) for leg in legs) == (expected > 0)


def _leg(slack, late=False):
    return Leg("x", arrival=0, start=0, finish=0, slack=slack, late=late)


RISK_CASES = [
    pytest.param(_leg(None), 30, OK, id="no deadline is ok"),
    pytest.param(_leg(31), 30, OK, id="more slack than the margin"),
    pytest.param(_leg(30), 30, OK, id="slack exactly at the margin is ok"),
    pytest.param(_leg(29.999), 30, AT_RISK, id="just under the margin"),
    pytest.param(_leg(0), 30, AT_RISK, id="arriving at the deadline is at risk"),
    pytest.param(_leg(-0.001, late=True), 30, LATE, id="past the deadline"),
    pytest.param(_leg(-5, late=True), 0, LATE, id="late even with no margin"),
]


@pytest.mark.parametrize(("leg", "margin", "expected"), RISK_CASES)
def test_classify_risk(leg, margin, expected):
    assert classify_risk(leg, margin) == expected


# --- travel providers -----------------------------------------------------------------

ONE_DEGREE_KM = 6371.0 * math.pi / 180  # 111.19 km


TRAVEL_CASES = [
    pytest.param(great_circle(1.0, 3600.0), (0, 0), (0, 0), 0.0, id="same point"),
    # At 3600 km/h one second is one km, so the result reads as km.
    pytest.param(
        great_circle(1.0, 3600.0),
        (45, 7),
        (46, 7),
        ONE_DEGREE_KM,
        id="1 degree of latitude",
    ),
    pytest.param(
        great_circle(1.0, 3600.0),
        (0, 0),
        (0, 1),
        ONE_DEGREE_KM,
        id="1 degree of longitude at equator",
    ),
    pytest.param(
        great_circle(1.0, 3600.0),
        (60, 0),
        (60, 1),
        55.59,
        id="1 degree of longitude at 60N is about half",
    ),
    pytest.param(
        great_circle(1.3, 40.0),
        (45, 7),
        (46, 7),
        ONE_DEGREE_KM * 1.3 / 40 * 3600,
        id="circuity and speed",
    ),
    pytest.param(
        great_circle(1.3, 40.0),
        (45, 7),
        (46, 7),
        13009.8,
        id="circuity and speed in seconds",
    ),
    pytest.param(great_circle(1.0, 3600.0), (0, 0), (0, 180), math.pi * 6371.0, id="antipodal"),
    pytest.param(euclidean, (0, 0), (3, 4), 5.0, id="euclidean"),
    pytest.param(euclidean_trunc1, (0, 0), (1, 1), 1.4, id="trunc1 truncates sqrt(2)"),
    pytest.param(
        euclidean_trunc1,
        (0, 0),
        (1, 2),
        2.2,
        id="trunc1 truncates sqrt(5) down, not up",
    ),
    pytest.param(euclidean_trunc1, (0, 0), (3, 4), 5.0, id="trunc1 keeps whole numbers"),
]


@pytest.mark.parametrize(("travel", "a", "b", "expected"), TRAVEL_CASES)
def test_travel(travel, a, b, expected):
    assert travel(a, b) == pytest.approx(expected, abs=0.1)
    assert travel(b, a) == pytest.approx(travel(a, b))


@pytest.mark.parametrize(("circuity", "speed"), [(1.3, 0), (1.3, -40), (0.5, 40)])
def test_great_circle_rejects_impossible_settings(circuity, speed):
    with pytest.raises(ValueError, match="must be"):
        great_circle(circuity, speed)


# --- properties -----------------------------------------------------------------------

times = st.floats(min_value=0, max_value=1e6, allow_nan=False)
maybe_times = st.none() | times
coords = st.tuples(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4))
stop_lists = st.lists(
    st.builds(
        Stop,
        id=st.uuids(),
        location=coords,
        duration=times,
        window_start=maybe_times,
        deadline=maybe_times,
    ),
    max_size=30,
)


@given(start_at=times, origin=coords, stops=stop_lists, on_site_for=st.none() | times)
def test_plan_route_invariants(start_at, origin, stops, on_site_for):
    first_on_site_since = None if on_site_for is None else start_at - on_site_for

    legs = plan_route(start_at, origin, stops, euclidean, first_on_site_since=first_on_site_since)

    assert len(legs) == len(stops)
    assert [leg.id for leg in legs] == [stop.id for stop in stops]
    for leg, stop in zip(legs, stops, strict=True):
        assert leg.finish >= leg.start >= leg.arrival
        if stop.window_start is not None and (first_on_site_since is None or stop is not stops[0]):
            assert leg.start >= stop.window_start  # early: wait for the window to open
        assert (leg.slack is None) == (stop.deadline is None)
        assert leg.late == (stop.deadline is not None and leg.arrival > stop.deadline)
    assert all(a.arrival <= b.arrival for a, b in itertools.pairwise(legs))
    if legs:
        assert legs[-1].finish >= start_at  # nothing is planned to end in the past
