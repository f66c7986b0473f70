"""The simulated day: deterministic for a seed, honest to its rules, in memory (no database)."""

from __future__ import annotations

import math

from django.core.management import call_command

from dispatch.eta import Stop
from dispatch.planning.insertion import insertions
from dispatch.planning.routes import Route
from dispatch.simulation import Simulation, day_generate, day_simulate
from dispatch.travel import euclidean, great_circle

TRAVEL = great_circle(1.3, 40.0)


def test_a_seed_always_gives_the_same_day_and_the_same_results():
    one, two = day_generate(techs=6, calls=40, seed=3), day_generate(techs=6, calls=40, seed=3)
    assert one == two
    assert day_generate(techs=6, calls=40, seed=4) != one
    assert day_simulate(one, "ours", TRAVEL) == day_simulate(two, "ours", TRAVEL)


def test_every_call_is_served_once_and_never_before_it_was_booked():
    day = day_generate(techs=5, calls=30, seed=2)
    for policy in ("baseline", "ours"):
        out = Simulation(day, policy, TRAVEL).run()
        assert sorted(out.arrival) == [c.id for c in day.calls]
        assert all(out.arrival[c.id] > c.booked_at for c in day.calls)


def test_ours_beats_the_baseline_on_time_on_an_overloaded_day():
    day = day_generate(techs=15, calls=120, seed=1)
    baseline, ours = (day_simulate(day, p, TRAVEL) for p in ("baseline", "ours"))
    assert ours.on_time_rate > baseline.on_time_rate
    assert ours.rescues > 0 and baseline.rescues == 0


def test_insertion_replay_agrees_with_planning_the_whole_queue():
    # The incremental pricing must give exactly what planning the new queue from scratch gives.
    stops = [Stop(i, (i * 7.0 % 23, i * 5.0 % 17), 10.0, 40.0 * i, 60.0 * i + 90) for i in range(6)]
    route = Route(0.0, (0.0, 0.0), stops, shift_end=400.0)
    new = Stop("new", (11.0, 3.0), 15.0, None, 200.0)
    for found in insertions(route, new, euclidean, margin=30.0):
        order = list(stops)
        order.insert(found.position, new)
        full = Route(0.0, (0.0, 0.0), order, 400.0).plan(euclidean)
        assert math.isclose(full[found.position].arrival, found.leg.arrival)
        base = {leg.id: leg for leg in route.plan(euclidean)}
        late = sum(max(0.0, -leg.slack) for leg in full if leg.id != "new")
        was = sum(max(0.0, -leg.slack) for leg in base.values())
        assert math.isclose(found.ripple.added_lateness, late - was, abs_tol=1e-9)


def test_the_command_prints_both_policies(capsys):
    fast = ("--plan-seconds", "0.1", "--bound-seconds", "0.1")  # the solver's time, not the day
    call_command("simulate_day", "--techs", "4", "--calls", "20", "--seed", "7", *fast)
    out = capsys.readouterr().out
    assert "| 7 | baseline |" in out and "| 7 | ours |" in out
    assert "| 7 | ours (planner) |" in out and "| 7 | bound |" in out
    assert "| mean |" not in out  # one seed: nothing to average


def test_the_command_prints_every_seed_and_the_mean_of_each_policy(capsys):
    call_command(
        "simulate_day", "--techs", "3", "--calls", "12", "--seeds", "2",
        "--plan-seconds", "0.1", "--bound-seconds", "0.1",
    )  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    for policy in ("baseline", "ours", "ours (planner)", "bound"):
        for seed in ("1", "2", "mean"):
            assert sum(line.startswith(f"| {seed} | {policy} |") for line in lines) == 1


def test_the_command_runs_only_the_policies_asked_for(capsys):
    call_command("simulate_day", "--techs", "3", "--calls", "10", "--policies", "baseline,ours")
    out = capsys.readouterr().out
    assert "| 1 | ours |" in out and "planner" not in out.split("\n", 2)[-1]


def test_pruned_insertions_keep_the_least_lateness_and_every_on_time_position():
    stops = [Stop(i, (i * 9.0 % 31, i * 4.0 % 13), 20.0, None, 50.0 * i + 60) for i in range(8)]
    route = Route(0.0, (0.0, 0.0), stops, shift_end=1000.0)
    for deadline in (30.0, 80.0, 150.0, 400.0):
        new = Stop("new", (5.0, 5.0), 10.0, None, deadline)
        full = insertions(route, new, euclidean, margin=10.0)
        pruned = insertions(route, new, euclidean, margin=10.0, ripple_if_late=False)
        late = [-i.leg.slack for i in full if not i.on_time]
        if late:
            assert min(late) == min(-i.leg.slack for i in pruned if not i.on_time)
        assert [i for i in full if i.on_time] == [i for i in pruned if i.on_time]


def test_a_one_way_travel_provider_is_asked_both_ways():
    # Uphill costs double: without `symmetric`, to and from the new stop must be looked up apart.
    uphill = euclidean_up

    stops = [Stop(i, (float(i), float(i % 3)), 5.0, None, 100.0 + 10 * i) for i in range(5)]
    route = Route(0.0, (0.0, 0.0), stops, shift_end=500.0)
    new = Stop("new", (2.5, 4.0), 5.0, None, 300.0)
    for found in insertions(route, new, uphill, margin=5.0):
        order = list(stops)
        order.insert(found.position, new)
        full = Route(0.0, (0.0, 0.0), order, 500.0).plan(uphill)
        assert math.isclose(full[found.position].arrival, found.leg.arrival)
        assert math.isclose(driven(order) - driven(stops), found.travel_added)


def driven(stops) -> float:
    places = [(0.0, 0.0), *(s.location for s in stops)]
    return sum(euclidean_up(a, b) for a, b in zip(places, places[1:], strict=False))


def euclidean_up(a, b):
    return euclidean(a, b) * (2.0 if b[1] > a[1] else 1.0)
