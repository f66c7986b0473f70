"""The simulated day watched by both risk rules: the chance of being late against the old slack
margin, and the learning loop closed (issue 18).

Pure, like ``simulation``. A ``WatchedDay`` is the day played by a policy (``baseline`` by
default: it never moves a call, so the rules being judged cannot change the outcome they are
judged on). At every event (a booking, a job finishing) each waiting call with a deadline is
looked at twice: the slack rule (``eta.classify_risk`` with ``Rules.risk_margin``) and the
probability rule (``risk.risk_of`` on ``odds.queue_odds`` from the durations learned so far).
Each finished job is fed back into the learning (``durations.fit`` per kind of job, shrunk
toward the fleet's), so the spreads a day starts from are the ones the days before it taught.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from dispatch.planning.durations import Learned, Spread, fit
from dispatch.planning.eta import LATE, OK, Travel, classify_risk
from dispatch.planning.odds import queue_odds
from dispatch.planning.risk import risk_of
from dispatch.planning.rules import Rules
from dispatch.simulation import MIN, Day, Outcome, Simulation


@dataclass
class History:
    """What the days so far taught: job ratios by kind, drive ratios."""

    jobs: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    drives: list[float] = field(default_factory=list)

    def learned(self, defaults: Learned, prior_calls: float) -> Learned:
        every = [r for ratios in self.jobs.values() for r in ratios]
        fleet = fit(every, defaults.default, prior_calls)
        jobs = {(kind, None): fit(r, fleet, prior_calls) for kind, r in self.jobs.items()}
        jobs[(None, None)] = fleet
        return Learned(defaults.default, fit(self.drives, defaults.travel, prior_calls), jobs)


@dataclass(frozen=True)
class Look:
    call_id: int
    at: float
    p_late: float
    slack_rule: str
    probability_rule: str


class WatchedDay(Simulation):
    def __init__(
        self,
        day: Day,
        travel: Travel,
        history: History,
        *,
        defaults: Learned,
        prior_calls: float = 10,
        policy: str = "baseline",
        rules: Rules | None = None,
    ):
        super().__init__(day, policy, travel, rules)
        self.history, self.defaults, self.prior_calls = history, defaults, prior_calls
        self.learned = history.learned(defaults, prior_calls)
        self.looks: list[Look] = []

    def _finish(self, state, now: float) -> None:
        call = self.calls[state.current]
        self.history.jobs[call.category].append(call.real / call.estimate)
        self.history.drives.append(1.0)  # a simulated drive takes what the travel model says
        self.learned = self.history.learned(self.defaults, self.prior_calls)
        super()._finish(state, now)

    def _after_change(self, now: float) -> None:
        super()._after_change(now)
        margin, threshold = self.rules.risk_margin, self.rules.p_at_risk
        for state in self.techs.values():
            route = self.route(state, now)
            legs = route.plan(self.travel)
            spreads = [self.learned.job(self.calls[s.id].category, None) for s in route.stops]
            odds = queue_odds(
                route.start_at,
                legs,
                route.stops,
                spreads,
                self.learned.travel,
                now=now,
                first_on_site_since=route.first_on_site_since,
            )
            for leg, o in zip(legs[route.floor :], odds[route.floor :], strict=True):
                if o.p_late is None:
                    continue
                label = risk_of(leg.late, o.p_late, threshold)
                self.looks.append(Look(leg.id, now, o.p_late, classify_risk(leg, margin), label))


# --- the figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleFigures:
    brier: float
    brier_open: float  # over the looks whose planned arrival was still on time (not "late")
    missed: int  # calls that arrived late
    warned: int  # of those, flagged (at risk or late) before the deadline
    warning_minutes: float  # median, from the first flag to the deadline, over the warned
    false_alarms: int  # calls flagged at some point that arrived on time
    flagged: int


def rule_figures(day: Day, out: Outcome, looks: list[Look], rule: str) -> RuleFigures:
    """``rule``: "slack_rule" (its flag read as a forecast of 0 or 1) or "probability_rule"
    (p_late itself is the forecast; flags are its labels)."""
    deadline = {c.id: c.deadline for c in day.calls}
    late = {c.id: out.arrival[c.id] > c.deadline for c in day.calls}
    first_flag: dict[int, float] = {}
    squares, open_squares = [], []
    for look in looks:
        flag = getattr(look, rule) != OK
        forecast = look.p_late if rule == "probability_rule" else float(flag)
        squares.append((forecast - late[look.call_id]) ** 2)
        if look.slack_rule != LATE:
            open_squares.append(squares[-1])
        if flag and look.call_id not in first_flag:
            first_flag[look.call_id] = look.at
    missed = [c for c, was in late.items() if was]
    warned = [c for c in missed if c in first_flag and first_flag[c] < deadline[c]]
    minutes = [(deadline[c] - first_flag[c]) / MIN for c in warned]
    return RuleFigures(
        brier=statistics.fmean(squares) if squares else 0.0,
        brier_open=statistics.fmean(open_squares) if open_squares else 0.0,
        missed=len(missed),
        warned=len(warned),
        warning_minutes=statistics.median(minutes) if minutes else 0.0,
        false_alarms=sum(1 for c in first_flag if not late[c]),
        flagged=len(first_flag),
    )


def reliability(
    pairs: list[tuple[float, bool]], bins: int = 10
) -> list[tuple[str, int, float, float]]:
    """(decile, looks, mean predicted P(late), observed late share) for each non-empty decile."""
    grouped: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for p, was_late in pairs:
        grouped[min(bins - 1, int(p * bins))].append((p, was_late))
    rows = []
    for k in sorted(grouped):
        group = grouped[k]
        rows.append(
            (
                f"{k / bins:.1f}-{(k + 1) / bins:.1f}",
                len(group),
                statistics.fmean(p for p, _ in group),
                sum(1 for _, y in group if y) / len(group),
            )
        )
    return rows


def looks_with_outcome(day: Day, out: Outcome, looks: list[Look]) -> list[tuple[float, bool]]:
    late = {c.id: out.arrival[c.id] > c.deadline for c in day.calls}
    return [(look.p_late, late[look.call_id]) for look in looks]


def default_learned(sigma: float = 0.35, travel_sigma: float = 0.25) -> Learned:
    return Learned(Spread(0.0, sigma), Spread(0.0, travel_sigma))
