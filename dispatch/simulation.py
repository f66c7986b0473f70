"""A simulated day: the same calls dispatched by two policies, in memory, with the real engine.

Pure like the planning core (no Django, no database, no clock): a day is generated from a seed,
then replayed once per policy (``simulation_planner`` adds the day planner's two) through an
event loop (calls being booked, technicians finishing jobs). Both plan with the planning core on
*estimated* durations, as the product does; the technicians then work the *real* durations.

- **baseline**: each new call goes to the able technician who is free soonest (the planned finish
  of their whole queue), appended to the end. Nothing is ever moved afterwards.
- **ours**: the product's own planning core decides (``dispatch.planning``: the very functions
  Suggest, send-now and rescue call, no copy). Each new call goes to the first candidate
  (``choice.candidates``); an emergency to the first of ``choice.send_now`` (soonest arrival
  right after the job under way); when nobody is on time, the least total lateness (this
  simulation's own fallback: the product leaves that call to the dispatcher). Every time a
  waiting call's risk rises, ``rescue.rescue_options`` runs and the best option that lowers its
  risk without hurting any other call is applied, as a dispatcher pressing "Apply" would.

Times are seconds since midnight; places are (lat, lng) in a 20 km square; travel is whatever
function the caller passes (the product's great-circle model by default).
"""

from __future__ import annotations

import heapq
import random
import statistics
from dataclasses import dataclass, field

from dispatch.planning import choice, rescue
from dispatch.planning.choice import World
from dispatch.planning.eligibility import Worker, unable
from dispatch.planning.eta import Leg, Stop, Travel
from dispatch.planning.insertion import Insertion, insertions
from dispatch.planning.promises import Promises
from dispatch.planning.risk import risk_rank
from dispatch.planning.routes import Route
from dispatch.planning.rules import Rules
from dispatch.simulation_durations import category_of, real_duration

HOUR = 3600.0
MIN = 60.0
BOX = ((41.80, 41.98), (-87.75, -87.52))  # about 20 x 19 km
SKILLS = ("plumbing", "electrical", "hvac")
SHIFT_STARTS = (7 * HOUR, 8 * HOUR, 10 * HOUR)
SHIFT_LENGTH = 9 * HOUR
# Real duration = estimate x a log-normal ratio per kind of job (simulation_durations).


@dataclass(frozen=True)
class SimCall:
    id: int
    booked_at: float
    location: tuple[float, float]
    estimate: float
    real: float
    window_start: float | None
    deadline: float
    skill: str | None
    emergency: bool
    category: str = "repair"

    def stop(self) -> Stop:
        return Stop(self.id, self.location, self.estimate, self.window_start, self.deadline)

    @property
    def needs(self) -> frozenset[str]:
        return frozenset([self.skill] if self.skill else [])


@dataclass(frozen=True)
class SimTech:
    id: int
    home: tuple[float, float]
    skills: frozenset[str]
    shift_start: float
    shift_end: float

    def worker(self) -> Worker:
        return Worker(self.id, self.skills, self.shift_start, self.shift_end, name=f"{self.id:04d}")


@dataclass(frozen=True)
class Day:
    techs: list[SimTech]
    calls: list[SimCall]


def _place(rng: random.Random) -> tuple[float, float]:
    return (rng.uniform(*BOX[0]), rng.uniform(*BOX[1]))


def day_generate(*, techs: int, calls: int, seed: int) -> Day:
    """One day's technicians and calls; a seed always gives the same day."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible day, not crypto
    team = [
        SimTech(
            i,
            _place(rng),
            frozenset(rng.sample(SKILLS, 2)),
            start := rng.choice(SHIFT_STARTS),
            start + SHIFT_LENGTH,
        )
        for i in range(techs)
    ]
    return Day(team, [_call(rng, i) for i in range(calls)])


def _call(rng: random.Random, i: int) -> SimCall:
    # 40% are booked the evening before (known at 06:30); the rest arrive from 07:00 to 16:00.
    prebooked = rng.random() < 0.4
    booked = 6.5 * HOUR if prebooked else rng.uniform(7 * HOUR, 16 * HOUR)
    estimate = rng.choice((30, 45, 45, 60, 60, 90)) * MIN
    kind = rng.random()
    window = None
    if kind < 0.08:  # emergency: someone within 90 minutes
        deadline = booked + 90 * MIN
    elif kind < 0.28:  # tight: within two to three hours
        deadline = booked + rng.uniform(120, 180) * MIN
    elif kind < 0.68:  # a booked two-hour window
        earliest = max(booked + HOUR, 8 * HOUR)
        window = earliest + rng.randrange(0, int(max(MIN, 17 * HOUR - earliest)), 1800)
        deadline = window + 2 * HOUR
    else:  # sometime today
        deadline = min(booked + rng.uniform(240, 480) * MIN, 20 * HOUR)
    return SimCall(
        id=i,
        booked_at=booked,
        location=_place(rng),
        estimate=estimate,
        real=real_duration(estimate, rng.random()),
        window_start=window,
        deadline=deadline,
        skill=rng.choice(SKILLS) if rng.random() < 0.7 else None,
        emergency=kind < 0.08,
        category=category_of(estimate),
    )


# --- the world as it runs ---------------------------------------------------------------------


@dataclass
class TechState:
    tech: SimTech
    location: tuple[float, float]
    queue: list[int] = field(default_factory=list)  # waiting call ids, in order
    current: int | None = None  # the call under way (en route or on site)
    departed_at: float = 0.0
    departed_from: tuple[float, float] = (0.0, 0.0)
    started_at: float | None = None  # on site since (None while en route)
    free_at: float = 0.0  # when the last real job finished


@dataclass
class Outcome:
    arrival: dict[int, float] = field(default_factory=dict)
    finish_of_tech: dict[int, float] = field(default_factory=dict)
    reschedules: int = 0
    rescues: int = 0


class Simulation:
    """One policy over one day (see the module docstring)."""

    def __init__(self, day: Day, policy: str, travel: Travel, rules: Rules | None = None):
        self.day, self.policy, self.travel = day, policy, travel
        self.rules = rules or Rules()
        self.calls = {c.id: c for c in day.calls}
        self.techs = {t.id: TechState(t, t.home) for t in day.techs}
        self.workers = {t.id: t.worker() for t in day.techs}
        self.owner: dict[int, int] = {}
        self.promise: dict[int, float] = {}
        self.risk: dict[int, int] = {}
        self.out = Outcome()
        self.events: list[tuple[float, int, str, int]] = []
        self.seq = 0

    # events

    def _push(self, when: float, kind: str, ident: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, kind, ident))

    def run(self) -> Outcome:
        for call in self.day.calls:
            self._push(call.booked_at, "book", call.id)
        for state in self.techs.values():
            self._push(state.tech.shift_start, "idle", state.tech.id)
        while self.events:
            now, _, kind, ident = heapq.heappop(self.events)
            if kind == "book":
                self._book(self.calls[ident], now)
            elif kind == "done":
                self._finish(self.techs[ident], now)
            self._dispatch_idle(now)
            self._after_change(now)
        return self.out

    def _finish(self, state: TechState, now: float) -> None:
        state.location = self.calls[state.current].location
        state.current, state.started_at, state.free_at = None, None, now
        self.out.finish_of_tech[state.tech.id] = now

    def _dispatch_idle(self, now: float) -> None:
        for state in self.techs.values():
            if state.current is None and state.queue and now >= state.tech.shift_start:
                self._depart(state, now)

    def _depart(self, state: TechState, now: float) -> None:
        call = self.calls[state.queue.pop(0)]
        arrival = now + self.travel(state.location, call.location)
        start = max(arrival, call.window_start or arrival)
        state.current, state.departed_at, state.departed_from = call.id, now, state.location
        state.started_at = start
        self.out.arrival[call.id] = arrival
        self._push(start + call.real, "done", state.tech.id)

    # planning views: what the dispatcher sees at `now` (estimates, not the real durations)

    def route(self, state: TechState, now: float) -> Route:
        stops = [self.calls[c].stop() for c in state.queue]
        tech = state.tech
        if state.current is None:
            return Route(max(now, tech.shift_start), state.location, stops, tech.shift_end)
        current = self.calls[state.current].stop()
        on_site = state.started_at if state.started_at <= now else None
        start_at = now if on_site is not None else state.departed_at
        return Route(start_at, state.departed_from, [current, *stops], tech.shift_end, 1, on_site)

    def world(self, now: float) -> World:
        """The day as the product's planning core sees it at `now`."""
        return World(
            routes={t: self.route(s, now) for t, s in self.techs.items()},
            workers=self.workers,
            promises=self._promises(),
            rules=self.rules,
            travel=self.travel,
            now=now,
            call_skills={c.id: c.needs for c in self.day.calls},
        )

    def _after_change(self, now: float) -> None:
        legs = self._plan_all(now)
        margin = self.rules.risk_margin
        if self.policy == "ours":
            raised = [leg for leg in legs.values() if self._risk_rose(leg)]
            for leg in sorted(raised, key=lambda leg: leg.slack or 0.0):
                if self._rescue(leg.id, now):
                    self.out.rescues += 1
            legs = self._plan_all(now)
        for leg in legs.values():
            self.risk[leg.id] = risk_rank(leg, margin)
            promised = self.promise.get(leg.id)
            if promised is None:
                self.promise[leg.id] = leg.start  # the time at the door, as a booking promises
            elif abs(leg.start - promised) > self.rules.promise_tolerance:
                self.out.reschedules += 1  # the customer is told a new time
                self.promise[leg.id] = leg.start

    def _plan_all(self, now: float) -> dict[int, Leg]:
        legs: dict[int, Leg] = {}
        for state in self.techs.values():
            route = self.route(state, now)
            for leg in route.plan(self.travel)[route.floor :]:
                legs[leg.id] = leg
        return legs

    def _risk_rose(self, leg: Leg) -> bool:
        return risk_rank(leg, self.rules.risk_margin) > self.risk.get(leg.id, 0)

    def _promises(self) -> Promises:
        # The ETA each customer was last told: a change that breaks one counts as harm.
        return Promises(self.promise, self.rules.promise_tolerance)

    # booking

    def _book(self, call: SimCall, now: float) -> None:
        if self.policy == "baseline":
            able = self._able(call, now)
            state = min(able, key=lambda s: (self._free_soonest(s, now), s.tech.id))
            self._place_call(call.id, state, len(state.queue))
            return
        world = self.world(now)
        if call.emergency:
            found, _ = choice.send_now(world, call.stop(), call.needs)
        else:
            found, _ = choice.candidates(world, call.stop(), call.needs)
        if found:
            best = found[0]
            state = self.techs[best.technician_id]
            self._place_call(call.id, state, best.position - world.routes[state.tech.id].floor)
            return
        self._least_late(call, now)

    def _able(self, call: SimCall, now: float) -> list[TechState]:
        # The eligibility rule; when nobody is working any more, whoever has the skill.
        able = [
            s
            for s in self.techs.values()
            if not unable(self.workers[s.tech.id], call.needs, now=now, emergency=call.emergency)
        ]
        return able or [s for s in self.techs.values() if call.needs <= s.tech.skills]

    def _least_late(self, call: SimCall, now: float) -> None:
        """Nobody is on time: the place with the least lateness in all, this call's included."""
        tries = []
        for state in self._able(call, now):
            route = self.route(state, now)
            for ins in insertions(
                route, call.stop(), self.travel, rules=self.rules, promises=self._promises()
            ):
                tries.append((_total_lateness(ins), state.tech.id, ins.position - route.floor))
        _, tech_id, position = min(tries)
        self._place_call(call.id, self.techs[tech_id], position)

    def _free_soonest(self, state: TechState, now: float) -> float:
        route = self.route(state, now)
        legs = route.plan(self.travel)
        return legs[-1].finish if legs else route.start_at

    def _place_call(self, call_id: int, state: TechState, position: int) -> None:
        state.queue.insert(position, call_id)
        self.owner[call_id] = state.tech.id

    # rescue (ours only): the product's rescue search, the best harmless option applied

    def _rescue(self, call_id: int, now: float) -> bool:
        owner = self.techs[self.owner[call_id]]
        if call_id not in owner.queue:
            return False  # already under way
        world = self.world(now)
        call = self.calls[call_id]
        current = risk_rank(rescue.leg_of(world, call_id), self.rules.risk_margin)
        options = rescue.rescue_options(world, call.stop(), call.needs, emergency=call.emergency)
        for option in options:
            if option.hurts or risk_rank(option.leg, self.rules.risk_margin) >= current:
                continue
            for move in option.moves:
                self._apply(move, world)
            return True
        return False

    def _apply(self, move: rescue.Move, world: World) -> None:
        self.techs[self.owner[move.call_id]].queue.remove(move.call_id)
        target = self.techs[move.technician_id]
        self._place_call(move.call_id, target, move.position - world.routes[target.tech.id].floor)


def _total_lateness(ins: Insertion) -> float:
    own = -ins.leg.slack if ins.leg.late else 0.0
    return own + ins.ripple.added_lateness


# --- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    policy: str
    on_time_rate: float
    mean_lateness_min: float  # over the calls that were late
    worst_lateness_min: float
    mean_wait_min: float  # from when the customer was ready (booking, or their window) to arrival
    worst_wait_min: float
    worst_wait_from_booking_min: float  # the raw figure, windows not discounted
    reschedules: int
    overtime_min: float
    rescues: int


def day_simulate(day: Day, policy: str, travel: Travel, rules: Rules | None = None) -> Report:
    return day_report(day, policy, Simulation(day, policy, travel, rules).run())


def day_report(day: Day, policy: str, out: Outcome) -> Report:
    """The figures of one policy's day (any policy: ``simulation_planner`` reports through it)."""
    late = [max(0.0, out.arrival[c.id] - c.deadline) / MIN for c in day.calls]
    # A customer who booked a 16:00-18:00 window is not waiting at 07:00: wait counts from the
    # later of booking and window start (and is never negative: arriving early is no wait).
    waits = [
        max(0.0, out.arrival[c.id] - max(c.booked_at, c.window_start or 0.0)) / MIN
        for c in day.calls
    ]
    raw = [(out.arrival[c.id] - c.booked_at) / MIN for c in day.calls]
    overtime = sum(
        max(0.0, out.finish_of_tech.get(t.id, 0.0) - t.shift_end) / MIN for t in day.techs
    )
    late_only = [x for x in late if x > 0]
    return Report(
        policy=policy,
        on_time_rate=sum(1 for x in late if x == 0) / len(late),
        mean_lateness_min=statistics.fmean(late_only) if late_only else 0.0,
        worst_lateness_min=max(late, default=0.0),
        mean_wait_min=statistics.fmean(waits),
        worst_wait_min=max(waits),
        worst_wait_from_booking_min=max(raw),
        reschedules=out.reschedules,
        overtime_min=overtime,
        rescues=out.rescues,
    )
