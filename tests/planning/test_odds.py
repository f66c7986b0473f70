"""Learned durations and the chance of being late, in the pure planning core.

The propagation is checked against a brute-force simulation of the very same model (every job
estimate x its own log-normal ratio, every drive planned travel x the travel ratio, windows
waited for, the job on site conditioned on still running): the stated error in odds.py is 0.06
in probability, 8 % of the P10-P90 width for P10 and P80, 20 % for P90.
"""

from __future__ import annotations

import math
import random
from statistics import NormalDist

import numpy as np
import pytest

from dispatch.planning.durations import RATIO_CEIL, Spread, fit
from dispatch.planning.eta import Stop, plan_route
from dispatch.planning.odds import SAMPLES, Odds, p_late_after, queue_odds
from dispatch.planning.travel import plane

MIN = 60.0
P_TOLERANCE = 0.06
# Of the P10-P90 width: the 90th percentile sits in the thinnest tail of 256 draws.
WIDTH_TOLERANCE = {10: 0.08, 80: 0.08, 90: 0.20}


def _history(mu: float, sigma: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [math.exp(rng.gauss(mu, sigma)) for _ in range(n)]


def test_the_fit_recovers_known_parameters_from_generated_history():
    got = fit(_history(0.15, 0.3, 4000, seed=7), Spread(0.0, 0.35), prior_calls=10)
    assert got.calls == 4000
    assert got.mu == pytest.approx(0.15, abs=0.02)
    assert got.sigma == pytest.approx(0.3, abs=0.02)


def test_no_history_gives_the_defaults():
    assert fit([], Spread(0.0, 0.35), prior_calls=10) == Spread(0.0, 0.35, 0)


def test_a_little_history_is_shrunk_toward_the_prior():
    prior = Spread(0.0, 0.35)
    few = fit([2.0, 2.0, 2.0], prior, prior_calls=10)
    assert 0.0 < few.mu < math.log(2.0) / 2  # three calls move it less than half way
    many = fit([2.0] * 300 + [1.9, 2.1], prior, prior_calls=10)
    assert many.mu == pytest.approx(math.log(2.0), abs=0.03)


def test_outliers_are_clamped_not_believed():
    clean = fit([1.0, 1.1, 0.9] * 10, Spread(0.0, 0.35), prior_calls=0)
    wild = fit([1.0, 1.1, 0.9] * 10 + [400.0], Spread(0.0, 0.35), prior_calls=0)
    unclamped_mu = (math.log(400.0) + 10 * (math.log(1.1) + math.log(0.9))) / 31
    assert wild.mu < unclamped_mu
    assert wild.mu == pytest.approx((math.log(RATIO_CEIL) + 10 * math.log(0.99)) / 31, abs=0.01)
    assert wild.sigma > clean.sigma


def _brute_force(stops, spreads, travel, legs, start_at, now, on_site=None, n=200_000, seed=3):
    """The model simulated draw by draw: arrival samples of every stop (n per stop)."""
    rng = np.random.default_rng(seed)
    clock = np.full(n, start_at)
    previous_finish = start_at
    arrivals = []
    first = 0
    if on_site is not None:
        d, s = stops[0].duration, spreads[0]
        floor = (now - on_site) / d
        ratio = np.exp(rng.normal(s.mu, s.sigma, n * 20))
        ratio = ratio[ratio > floor][:n]  # conditioned on still running, by rejection
        assert len(ratio) == n
        clock = np.maximum(on_site + d * ratio, now)
        arrivals.append(np.full(n, on_site))
        previous_finish, first = legs[0].finish, 1
    for i in range(first, len(stops)):
        hop = legs[i].arrival - previous_finish
        clock = clock + hop * np.exp(rng.normal(travel.mu, travel.sigma, n))
        arrivals.append(clock.copy())
        if stops[i].window_start is not None:
            clock = np.maximum(clock, stops[i].window_start)
        clock = clock + stops[i].duration * np.exp(rng.normal(spreads[i].mu, spreads[i].sigma, n))
        previous_finish = legs[i].finish
    return arrivals


def _queue(seed: int, n: int = 8):
    rng = random.Random(seed)
    stops, t = [], 8 * 3600.0
    for i in range(n):
        duration = rng.choice([20, 45, 60, 90, 240]) * MIN
        ready = t + rng.uniform(-1, 2) * 3600 if rng.random() < 0.4 else None
        t += duration + 20 * MIN
        due = t + rng.uniform(-1.0, 1.5) * 3600
        if ready is not None and due < ready:
            due = ready + 3600
        stops.append(Stop(i, (rng.uniform(0, 30), rng.uniform(0, 30)), duration, ready, due))
    spreads = [Spread(rng.uniform(-0.1, 0.2), rng.uniform(0.1, 0.6)) for _ in stops]
    return stops, spreads


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("on_site", [False, True])
def test_the_propagation_equals_a_brute_force_simulation_within_its_stated_error(seed, on_site):
    stops, spreads = _queue(seed)
    travel_spread = Spread(0.05, 0.25)
    travel = plane(2 * MIN)  # 0.5 units a minute
    start_at = now = 8 * 3600.0
    since = now - 50 * MIN if on_site else None
    if on_site:  # a 90-minute job started 50 minutes ago
        stops[0] = Stop(0, stops[0].location, 90 * MIN, None, now + 20 * MIN)
    legs = plan_route(start_at, (0.0, 0.0), stops, travel, first_on_site_since=since)
    odds = queue_odds(
        start_at, legs, stops, spreads, travel_spread, now=now, first_on_site_since=since
    )
    samples = _brute_force(stops, spreads, travel_spread, legs, start_at, now, since)
    for i, (o, sample) in enumerate(zip(odds, samples, strict=True)):
        if on_site and i == 0:
            continue  # the arrival on site is a fact
        assert o.p_late == pytest.approx(
            float(np.mean(sample > stops[i].deadline)), abs=P_TOLERANCE
        )
        width = float(np.percentile(sample, 90) - np.percentile(sample, 10))
        for got, q in ((o.p10, 10), (o.p80, 80), (o.p90, 90)):
            assert abs(got - float(np.percentile(sample, q))) <= WIDTH_TOLERANCE[q] * width + 1.0


def test_one_long_uncertain_job_raises_p_late_for_every_call_behind_it():
    travel = plane(MIN)
    durations = [30, 180, 30, 30, 30, 30]  # the second is a boiler replacement
    draft = [Stop(i, (10.0 * i, 0.0), m * MIN) for i, m in enumerate(durations)]
    planned = plan_route(8 * 3600.0, (0.0, 0.0), draft, travel)
    # Every call is due 40 minutes after its planned arrival: the same slack for all.
    stops = [
        Stop(s.id, s.location, s.duration, None, g.arrival + 40 * MIN)
        for s, g in zip(draft, planned, strict=True)
    ]
    legs = plan_route(8 * 3600.0, (0.0, 0.0), stops, travel)
    steady = [Spread(0.0, 0.15)] * 6
    before = queue_odds(8 * 3600.0, legs, stops, steady, Spread(0.0, 0.1), now=8 * 3600.0)
    uncertain = [steady[0], Spread(0.1, 0.6), *steady[2:]]
    after = queue_odds(8 * 3600.0, legs, stops, uncertain, Spread(0.0, 0.1), now=8 * 3600.0)
    assert after[0].p_late == before[0].p_late  # ahead of it: untouched
    assert after[1].p_late == before[1].p_late  # its own arrival does not depend on its length
    for b, a in zip(before[2:], after[2:], strict=True):
        assert a.p_late > b.p_late + 0.2
        assert a.p80 > b.p80


def test_no_spread_means_certainty():
    travel = plane(MIN)
    stops = [
        Stop(0, (10.0, 0.0), 30 * MIN, None, 100 * MIN),
        Stop(1, (20.0, 0), 30 * MIN, None, 0.0),
    ]
    legs = plan_route(0.0, (0.0, 0.0), stops, travel)
    odds = queue_odds(0.0, legs, stops, [Spread()] * 2, Spread(), now=0.0)
    assert [o.p_late for o in odds] == [0.0, 1.0]
    assert odds[0].p80 == legs[0].arrival


# --- booking's question (found by mutation testing: `make mutate MODULES=odds`) --------------

_Z = [NormalDist().inv_cdf((k + 0.5) / SAMPLES) for k in range(SAMPLES)]


@pytest.mark.parametrize("threshold", [-1.0, 0.0, 1.0])
def test_booking_p_late_is_the_share_of_drive_draws_past_the_deadline(threshold):
    # One drive of 10 minutes, ratio exp(0.1 + 0.5 z): late exactly when z > threshold.
    travel, hop, leave = Spread(0.1, 0.5), 10 * MIN, 1000.0
    deadline = leave + hop * math.exp(0.1 + 0.5 * threshold)
    expected = sum(z > threshold for z in _Z) / SAMPLES
    assert p_late_after(None, leave, hop, deadline, travel, column=3) == expected


def test_booking_p_late_after_a_stop_leaves_from_that_stops_finish_samples():
    travel = Spread(0.0, 0.0)  # a certain drive: only the stop before varies
    finish = np.array([1000.0] * (SAMPLES // 4) + [2000.0] * (SAMPLES - SAMPLES // 4))
    before = Odds(1, None, 1000.0, 2000.0, 2000.0, finish)
    # Ten minutes' drive, due at 1000 + 600 + 1: only the early quarter makes it.
    assert p_late_after(before, 0.0, 10 * MIN, 1601.0, travel, column=3) == 0.75
    assert p_late_after(before, 0.0, 10 * MIN, 2601.0, travel, column=3) == 0.0


def test_booking_p_late_with_no_drive_is_whether_the_start_is_past_the_deadline():
    travel = Spread(0.0, 0.5)
    assert p_late_after(None, 1000.0, 0.0, 1000.0, travel, column=3) == 0.0  # exactly on time
    assert p_late_after(None, 1000.0, 0.0, 999.0, travel, column=3) == 1.0
    # A drive of one second still counts (it is not rounded away).
    assert p_late_after(None, 1000.0, 1.0, 1000.5, Spread(0.0, 0.0), column=3) == 1.0


def test_a_draw_column_never_used_before_is_the_same_fixed_shuffle_of_the_normal_quantiles():
    from dispatch.planning.odds import _BASE, SEED, _draws

    fresh = len(_draws(0)) + 2  # grow the table by two columns from wherever it is now
    columns = _draws(fresh + 1)
    assert len(columns) == fresh + 1
    for k in (fresh - 1, fresh):
        # Each column is a shuffle of the equal-probability quantiles (exact marginals), by its
        # own seed: the same whatever grew the table, so a recompute never jitters.
        assert sorted(columns[k].tolist()) == sorted(_BASE.tolist())
        expected = _BASE[np.random.default_rng((SEED, k)).permutation(SAMPLES)]
        assert columns[k].tolist() == expected.tolist()
    assert p_late_after(None, 0.0, 1.0, 10.0, Spread(), column=fresh + 5) == 0.0  # grows too


def test_a_certain_job_on_site_finishes_at_its_estimate():
    travel = plane(MIN)
    stops = [Stop(0, (0.0, 0.0), 60 * MIN, None, None), Stop(1, (10.0, 0.0), 30 * MIN)]
    since, now = 0.0, 20 * MIN  # started at 0, 20 minutes in; no spread at all
    legs = plan_route(0.0, (0.0, 0.0), stops, travel, first_on_site_since=since)
    odds = queue_odds(
        0.0, legs, stops, [Spread()] * 2, Spread(), now=now, first_on_site_since=since
    )
    assert odds[0].finish.tolist() == [60 * MIN] * SAMPLES
    assert odds[1].p10 == odds[1].p90 == 70 * MIN


def test_arriving_exactly_at_the_deadline_is_on_time():
    travel = plane(MIN)
    stops = [Stop(0, (10.0, 0.0), 30 * MIN, None, 10 * MIN)]  # ten minutes away, due in ten
    legs = plan_route(0.0, (0.0, 0.0), stops, travel)
    assert legs[0].arrival == 10 * MIN
    assert queue_odds(0.0, legs, stops, [Spread()], Spread(), now=0.0)[0].p_late == 0.0


def test_the_job_on_site_has_arrived_its_lateness_is_a_fact():
    travel = plane(MIN)
    for since, late in ((0.0, 1.0), (-20 * MIN, 0.0)):  # arrived at 0:00 or 23:40; due 23:50
        stops = [Stop(0, (0.0, 0.0), 60 * MIN, None, -10 * MIN), Stop(1, (0.0, 0.0), MIN)]
        legs = plan_route(0.0, (0.0, 0.0), stops, travel, first_on_site_since=since)
        odds = queue_odds(
            0.0, legs, stops, [Spread(0.0, 0.5)] * 2, Spread(), now=0.0, first_on_site_since=since
        )
        assert odds[0].p_late == late


def test_no_queues_and_empty_queues_have_no_odds():
    from dispatch.planning.odds import Queue, fleet_odds

    assert fleet_odds([], Spread(), now=0.0) == []
    assert fleet_odds([Queue(0.0, [], [], [])], Spread(), now=0.0) == [[]]


def test_a_job_on_site_is_drawn_on_still_running_not_clipped_at_now():
    # A 60-minute job with a wide spread, 30 minutes in: P(it runs past 60 minutes) is
    # P(ratio > 1 | ratio > 0.5), not P(ratio > 1) with the short draws clipped to now.
    travel = plane(MIN)
    spread, floor = Spread(0.2, 1.0), 0.5
    stops = [Stop(0, (0.0, 0.0), 60 * MIN, None, None), Stop(1, (0.0, 0.0), MIN, None, 60 * MIN)]
    legs = plan_route(30 * MIN, (0.0, 0.0), stops, travel, first_on_site_since=0.0)
    odds = queue_odds(
        30 * MIN, legs, stops, [spread] * 2, Spread(), now=30 * MIN, first_on_site_since=0.0
    )
    normal = NormalDist(spread.mu, spread.sigma)  # of log(ratio)
    expected = (1.0 - normal.cdf(0.0)) / (1.0 - normal.cdf(math.log(floor)))  # about 0.69
    assert odds[1].p_late == pytest.approx(expected, abs=0.03)
    # Exactly: the 256 draws are the truncated distribution's equal-probability quantiles.
    below = normal.cdf(math.log(floor))
    quantiles = [below + (1.0 - below) * (k + 0.5) / SAMPLES for k in range(SAMPLES)]
    past_estimate = sum(normal.inv_cdf(u) > 0.0 for u in quantiles)
    assert odds[1].p_late == past_estimate / SAMPLES


def test_each_odds_names_its_call_and_a_call_without_deadline_has_no_chance_of_being_late():
    travel = plane(MIN)
    stops = [Stop(7, (0.0, 0.0), 60 * MIN), Stop(8, (5.0, 0.0), MIN), Stop(9, (9.0, 0.0), MIN)]
    since = -10 * MIN
    for on_site in (None, since):  # the first job planned, or under way since 23:50
        legs = plan_route(0.0, (0.0, 0.0), stops, travel, first_on_site_since=on_site)
        odds = queue_odds(
            0.0,
            legs,
            stops,
            [Spread(0.0, 0.3)] * 3,
            Spread(0.0, 0.2),
            now=0.0,
            first_on_site_since=on_site,
        )
        assert [o.id for o in odds] == [7, 8, 9]
        assert [o.p_late for o in odds] == [None, None, None]
    first = odds[0]  # on site: its arrival is a fact, every percentile of it
    assert first.p10 == first.p80 == first.p90 == since


def test_a_job_far_past_anything_its_spread_expected_ends_about_now():
    # A 30-minute job (sigma 0.1) still running 5 hours in: no draw of its spread reaches that,
    # so it ends now and the next call is planned from now.
    travel = plane(MIN)
    stops = [Stop(0, (0.0, 0.0), 30 * MIN), Stop(1, (10.0, 0.0), 30 * MIN)]
    now = 300 * MIN
    legs = plan_route(now, (0.0, 0.0), stops, travel, first_on_site_since=0.0)
    odds = queue_odds(
        now, legs, stops, [Spread(0.0, 0.1)] * 2, Spread(), now=now, first_on_site_since=0.0
    )
    assert odds[0].finish.tolist() == [now] * SAMPLES
    assert odds[1].p10 == odds[1].p90 == now + 10 * MIN
