"""One eligibility rule, in a dispatcher's words; overtime never excludes an emergency."""

from __future__ import annotations

from dispatch.planning.choice import World, candidates, send_now
from dispatch.planning.eligibility import Worker, unable
from dispatch.planning.eta import Stop
from dispatch.planning.promises import Promises
from dispatch.planning.routes import Route
from dispatch.planning.rules import Rules
from dispatch.planning.travel import euclidean

H = 3600.0
DAY_SHIFT = dict(shift_start=8 * H, shift_end=17 * H, shift_words=("08:00", "17:00"))


def worker(i, skills=("plumbing",), **kw) -> Worker:
    return Worker(i, frozenset(skills), **({"name": f"t{i}"} | DAY_SHIFT | kw))


def test_reasons_name_the_missing_skill_and_the_hours():
    w = worker(1, ("electrical",))
    assert unable(w, {"plumbing", "gas"}, now=9 * H) == ["missing skill: gas, plumbing"]
    assert unable(w, (), now=17 * H) == ["shift ended 17:00"]
    assert unable(w, (), now=9 * H, at=18 * H) == ["shift ends 17:00"]
    assert unable(w, (), now=6 * H) == []  # before the shift: they start on time


def test_marked_off_counts_only_during_the_shift_and_on_call_covers_an_emergency():
    off = worker(1, marked_off=True)
    assert unable(off, (), now=7 * H) == []
    assert unable(off, (), now=9 * H) == ["marked off today"]
    on_call = worker(2, on_call=((17 * H, 32 * H),))
    assert unable(on_call, (), now=22 * H) == ["shift ended 17:00"]
    assert unable(on_call, (), now=22 * H, emergency=True) == []


def _world(routes, workers, now) -> World:
    return World(routes, workers, Promises(), Rules(), euclidean_km, now)


def euclidean_km(a, b) -> float:
    return euclidean(a, b) * 60.0  # a minute per unit


def test_an_emergency_is_offered_to_the_nearest_even_into_overtime_a_normal_call_is_not():
    # 16:40: one technician whose day ends at 17:00; a 60-minute job ten minutes away.
    routes = {1: Route(16 * H + 40 * 60, (0.0, 0.0), [], 17 * H)}
    workers = {1: worker(1)}
    job = Stop(99, (10.0, 0.0), 60 * 60.0, None, 18 * H)
    found, excluded = candidates(_world(routes, workers, 16 * H + 40 * 60), job, ["plumbing"])
    assert found == [] and excluded == [(1, "would push this call into overtime")]
    found, excluded = candidates(
        _world(routes, workers, 16 * H + 40 * 60), job, ["plumbing"], emergency=True
    )
    assert [c.technician_id for c in found] == [1] and found[0].overtime and excluded == []
    nearest, _ = send_now(_world(routes, workers, 16 * H + 40 * 60), job, ["plumbing"])
    assert [c.technician_id for c in nearest] == [1]


def test_another_teams_equally_good_technician_ranks_after_the_own_team():
    routes = {t: Route(8 * H, (0.0, 0.0), [], 17 * H) for t in (1, 2)}
    workers = {1: worker(1, team="south", name="a"), 2: worker(2, team="north", name="b")}
    job = Stop(99, (5.0, 0.0), 600.0, None, 12 * H)
    found, _ = candidates(_world(routes, workers, 8 * H), job, ["plumbing"], home_team="north")
    assert [(c.technician_id, c.other_team) for c in found] == [(2, False), (1, True)]
