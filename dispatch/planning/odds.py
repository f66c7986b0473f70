"""The chance of being late: each call's arrival as a distribution, propagated along its queue.

Pure, like ``eta``. The planned legs say where the time goes (each drive, each window wait,
each job); here every job's length is its estimate x a log-normal ratio (``durations.Spread``,
learned per category and technician) and every drive its planned travel x the travel ratio, all
independent. The queue is replayed ``SAMPLES`` times at once (numpy arrays across the samples):
drive, wait for the window, work, drive on. The job under way on site is drawn conditioned on
still running (its ratio from the log-normal above (now - started) / estimate). From the arrival
samples of a stop: P(arrival > deadline), and the 10th, 80th and 90th percentile arrival.

Why Monte Carlo and not an analytic sum (Fenton-Wilkinson for the sums, Clark for the window
waits): we tried it first, and the window waits broke it. A wait truncates the arrival, the
result is neither normal nor log-normal, and on queues with booked windows and long uncertain
jobs it missed the simulated probability by up to 0.25. The replay has no such blind spot: it is
the model itself, so the only error is sampling, and that is bounded and fixed.

Bounded and deterministic: 256 samples, drawn once from a fixed seed as a Latin hypercube (each
stop's draws are the 256 equal-probability quantiles of the normal, in a fixed shuffled order),
so a recompute never jitters and the marginals are exact. Against a brute-force simulation of
the same model with 200,000 independent draws (tests/planning/test_odds.py, 40 queues) the
probability was within 0.05 (0.043 at worst) and the percentiles within 12 % of the P10-P90
width (the 90th, the thinnest tail, is the loosest; P80 within 8 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from dispatch.planning.durations import Spread
from dispatch.planning.eta import Leg, Stop

SAMPLES = 256
SEED = 20261203
P10, P80, P90 = int(0.10 * SAMPLES), int(0.80 * SAMPLES), int(0.90 * SAMPLES)
_NORMAL = NormalDist()
# The equal-probability normal quantiles every column is a shuffle of.
_BASE = np.array([_NORMAL.inv_cdf((k + 0.5) / SAMPLES) for k in range(SAMPLES)])
_columns: list[np.ndarray] = []


def _draws(n: int) -> list[np.ndarray]:
    """The first n columns of the fixed table (two per stop: its job, the drive to it)."""
    if len(_columns) < n:
        rng = np.random.default_rng(SEED + len(_columns))
        _columns.extend(_BASE[rng.permutation(SAMPLES)] for _ in range(n - len(_columns)))
    return _columns


@dataclass(frozen=True, slots=True)
class Odds:
    """One call's arrival as a distribution. ``p_late`` is None without a deadline; times are in
    the legs' unit. ``finish`` (the samples of the stop's finish) carries the clock on to a stop
    placed after it."""

    id: object
    p_late: float | None
    p10: float
    p80: float
    p90: float
    finish: np.ndarray

    def p_on_time(self) -> float | None:
        return None if self.p_late is None else 1.0 - self.p_late


def _ratio(spread: Spread, z: np.ndarray) -> np.ndarray:
    return np.exp(spread.mu + spread.sigma * z)


def _still_running(spread: Spread, floor: float, z: np.ndarray) -> np.ndarray:
    """Ratios drawn from the log-normal given ratio > floor (the job is not done yet), by the
    inverse of the truncated distribution, so each draw keeps its place in the hypercube."""
    if floor <= 0.0 or spread.sigma <= 0.0:
        return np.maximum(_ratio(spread, z), floor)
    below = _NORMAL.cdf((np.log(floor) - spread.mu) / spread.sigma)
    if below > 1.0 - 1e-9:  # far past anything the spread expected: it ends about now
        return np.full(SAMPLES, floor)
    u = below + (1.0 - below) * (np.arange(SAMPLES) + 0.5)[np.argsort(np.argsort(z))] / SAMPLES
    return np.exp(spread.mu + spread.sigma * np.array([_NORMAL.inv_cdf(x) for x in u]))


def queue_odds(
    start_at: float,
    legs: Sequence[Leg],
    stops: Sequence[Stop],
    spreads: Sequence[Spread],
    travel: Spread,
    *,
    now: float,
    first_on_site_since: float | None = None,
) -> list[Odds]:
    """The odds of every stop of one planned queue (``legs`` from ``plan_route`` on ``stops``,
    ``spreads`` the duration ratio of each stop)."""
    out: list[Odds] = []
    if not legs:
        return out
    z = _draws(2 * len(legs))
    append = out.append
    clock = np.full(SAMPLES, start_at)
    previous_finish, first = start_at, 0
    if first_on_site_since is not None:
        stop, leg = stops[0], legs[0]
        ratio = _still_running(spreads[0], (now - first_on_site_since) / stop.duration, z[0])
        clock = np.maximum(first_on_site_since + stop.duration * ratio, now)
        p_late = None if stop.deadline is None else float(leg.late)
        append(Odds(leg.id, p_late, leg.arrival, leg.arrival, leg.arrival, clock))
        previous_finish, first = leg.finish, 1
    for i in range(first, len(legs)):
        leg, stop, spread = legs[i], stops[i], spreads[i]
        hop = leg.arrival - previous_finish
        arrival = clock + hop * _ratio(travel, z[2 * i + 1]) if hop > 0 else clock
        due = stop.deadline
        p_late = None if due is None else float(np.count_nonzero(arrival > due)) / SAMPLES
        ordered = np.sort(arrival)
        ready = stop.window_start
        start = arrival if ready is None else np.maximum(arrival, ready)
        clock = start + stop.duration * _ratio(spread, z[2 * i])
        append(Odds(leg.id, p_late, *ordered[[P10, P80, P90]].tolist(), clock))
        previous_finish = leg.finish
    return out


def p_late_after(
    before: Odds | None, clock: float, hop: float, deadline: float, travel: Spread, column: int
) -> float:
    """P(late) of a stop put after ``before`` (None: first, leaving at ``clock``) with ``hop`` of
    planned travel: what booking asks of a window before offering it."""
    z = _draws(column + 1)[column]
    leave = np.full(SAMPLES, clock) if before is None else before.finish
    arrival = leave + hop * _ratio(travel, z) if hop > 0 else leave
    return float(np.count_nonzero(arrival > deadline)) / SAMPLES
