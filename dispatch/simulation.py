"""A simulated day: the same calls dispatched by two policies, in memory, with the real engine.

Pure like ``eta.py`` (no Django, no database, no clock): a day is generated from a seed, then
replayed twice, once per policy, through an event loop (calls being booked, technicians finishing
jobs). Both policies plan with ``dispatch.eta.plan_route`` on *estimated* durations, exactly as the
product does; the technicians then work the *real* durations, which differ from the estimates.

- **baseline**: each new call goes to the able technician who is free soonest (the planned finish
  of their whole queue), appended to the end. Nothing is ever moved afterwards.
- **ours**: each new call goes to the best candidate (`dispatch.insertion`, the same rules as the
  candidates service: on time first, then least ripple, then least travel, no overtime when it
  can be helped); an emergency goes to whoever arrives soonest right after the job they are on;
  and every time a waiting call's risk rises, rescue runs (earlier in its own queue, another
  technician, or a swap with a call that has slack) and applies the best option that brings it
  back to safety without hurting any other call.

Times are seconds since midnight; places are (lat, lng) in a 20 km square; travel is whatever
function the caller passes (the product's great-circle model by default).
"""

from __future__ import annotations

import heapq
import random
import statistics
from dataclasses import dataclass, field

from dispatch.eta import Leg, Stop, Travel, classify_risk
from dispatch.insertion import RISK_RANK, Insertion, Promises, Route, insertions, route_ripple

HOUR = 3600.0
MIN = 60.0
BOX = ((41.80, 41.98), (-87.75, -87.52))  # about 20 x 19 km
SKILLS = ("plumbing", "electrical", "hvac")
SHIFT_STARTS = (7 * HOUR, 8 * HOUR, 10 * HOUR)
SHIFT_LENGTH = 9 * HOUR
# Real duration = estimate x a factor drawn uniformly from this range: jobs overrun more often
# than they finish early (mean x1.1), as they do.
DURATION_SPREAD = (0.7, 1.5)
PROMISE_TOLERANCE = 15 * MIN


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

    def stop(self) -> Stop:
        return Stop(self.id, self.location, self.estimate, self.window_start, self.deadline)


@dataclass(frozen=True)
class SimTech:
    id: int
    home: tuple[float, float]
    skills: frozenset[str]
    shift_start: float
    shift_end: float


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
        real=estimate * rng.uniform(*DURATION_SPREAD),
        window_start=window,
        deadline=deadline,
        skill=rng.choice(SKILLS) if rng.random() < 0.7 else None,
        emergency=kind < 0.08,
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

    def __init__(self, day: Day, policy: str, travel: Travel, margin: float = 30 * MIN):
        self.day, self.policy, self.travel, self.margin = day, policy, travel, margin
        self.calls = {c.id: c for c in day.calls}
        self.techs = {t.id: TechState(t, t.home) for t in day.techs}
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

    def _after_change(self, now: float) -> None:
        legs = self._plan_all(now)
        if self.policy == "ours":
            raised = [leg for leg in legs.values() if self._risk_rose(leg)]
            for leg in sorted(raised, key=lambda leg: leg.slack or 0.0):
                if self._rescue(leg.id, now):
                    self.out.rescues += 1
            legs = self._plan_all(now)
        for leg in legs.values():
            self.risk[leg.id] = RISK_RANK[classify_risk(leg, self.margin)]
            promised = self.promise.get(leg.id)
            if promised is None:
                self.promise[leg.id] = leg.arrival
            elif abs(leg.arrival - promised) > PROMISE_TOLERANCE:
                self.out.reschedules += 1  # the customer is told a new time
                self.promise[leg.id] = leg.arrival

    def _plan_all(self, now: float) -> dict[int, Leg]:
        legs: dict[int, Leg] = {}
        for state in self.techs.values():
            route = self.route(state, now)
            for leg in route.plan(self.travel)[route.floor :]:
                legs[leg.id] = leg
        return legs

    def _risk_rose(self, leg: Leg) -> bool:
        return RISK_RANK[classify_risk(leg, self.margin)] > self.risk.get(leg.id, 0)

    # booking

    def _able(self, call: SimCall, now: float) -> list[TechState]:
        able = [s for s in self.techs.values() if call.skill in s.tech.skills or not call.skill]
        on_shift = [s for s in able if s.tech.shift_end > now]
        return on_shift or able

    def _book(self, call: SimCall, now: float) -> None:
        able = self._able(call, now)
        if self.policy == "baseline":
            state = min(able, key=lambda s: (self._free_soonest(s, now), s.tech.id))
            self._place_call(call.id, state, len(state.queue))
            return
        state, position = self._best_place(call, able, now)
        self._place_call(call.id, state, position)

    def _free_soonest(self, state: TechState, now: float) -> float:
        route = self.route(state, now)
        legs = route.plan(self.travel)
        return legs[-1].finish if legs else route.start_at

    def _place_call(self, call_id: int, state: TechState, position: int) -> None:
        state.queue.insert(position, call_id)
        self.owner[call_id] = state.tech.id

    def _tries(self, call: SimCall, state: TechState, now: float, positions=None):
        route = self.route(state, now)
        found = insertions(
            route,
            call.stop(),
            self.travel,
            margin=self.margin,
            promises=self._promises(),
            positions=positions,
        )
        return [(t, state, t.position - route.floor) for t in found]

    def _best_place(self, call: SimCall, able: list[TechState], now: float):
        if call.emergency:  # send the nearest now: right after the job they are on
            tries = [x for s in able for x in self._tries(call, s, now, [self._floor(s)])]
            best = min(tries, key=lambda x: (x[0].leg.arrival, _harm(x[0]), x[1].tech.id))
            return best[1], best[2]
        tries = [x for s in able for x in self._tries(call, s, now)]
        good = [x for x in tries if x[0].on_time and not (x[0].overtime or x[0].ripple.overtime)]
        if good:
            best = min(good, key=lambda x: (_harm(x[0]), x[0].travel_added, x[1].tech.id))
        else:  # nobody on time: the least lateness in all, this call's included
            best = min(tries, key=lambda x: (_total_lateness(x[0]), x[1].tech.id))
        return best[1], best[2]

    def _floor(self, state: TechState) -> int:
        return 0 if state.current is None else 1

    # rescue (ours only): the same three kinds of change as dispatch.services.rescue

    def _rescue(self, call_id: int, now: float) -> bool:
        owner = self.techs[self.owner[call_id]]
        if call_id not in owner.queue:
            return False  # already under way
        route = self.route(owner, now)
        before = route.plan(self.travel)
        mine = next(leg for leg in before if leg.id == call_id)
        options = self._earlier(owner, call_id, now) + self._reassign(owner, call_id, now)
        options += self._swaps(owner, call_id, now)
        wanted = [o for o in options if o[0] < RISK_RANK[classify_risk(mine, self.margin)]]
        if not wanted:
            return False
        min(wanted, key=lambda o: o[:3])[3]()
        return True

    def _earlier(self, owner: TechState, call_id: int, now: float) -> list:
        index = owner.queue.index(call_id)
        route = self.route(owner, now)
        base = route.plan(self.travel)
        rest = _with_stops(route, [s for s in route.stops if s.id != call_id])
        options = []
        for p in range(index):
            stops = list(rest.stops)
            stops.insert(p + route.floor, self.calls[call_id].stop())
            after = _with_stops(route, stops).plan(self.travel)
            others = [leg for leg in after if leg.id != call_id]
            ripple = self._ripple(base, others, route)
            if ripple.harm != (0, 0, 0) or ripple.overtime:
                continue
            risk = RISK_RANK[classify_risk(after[p + route.floor], self.margin)]
            options.append((risk, 0, 0, _reorder(owner, call_id, p)))
        return options

    def _ripple(self, before: list[Leg], after: list[Leg], route: Route):
        return route_ripple(
            before, after, margin=self.margin, shift_end=route.shift_end, promises=self._promises()
        )

    def _promises(self) -> Promises:
        # The ETA each customer was last told: a change that breaks one counts as harm.
        return Promises(self.promise, PROMISE_TOLERANCE)

    def _reassign(self, owner: TechState, call_id: int, now: float) -> list:
        call = self.calls[call_id]
        options = []
        for state in self._able(call, now):
            if state is owner:
                continue
            for ins, _, position in self._tries(call, state, now):
                if _harm(ins) != (0, 0, 0) or ins.overtime or ins.ripple.overtime:
                    continue
                risk = RISK_RANK[classify_risk(ins.leg, self.margin)]
                options.append((risk, 1, ins.travel_added, _move(self, call_id, state, position)))
        return options

    def _swaps(self, owner: TechState, call_id: int, now: float) -> list:
        call, index = self.calls[call_id], owner.queue.index(call_id)
        my_route = self.route(owner, now)
        my_before = my_route.plan(self.travel)
        options = []
        for state in self._able(call, now):
            if state is owner:
                continue
            route = self.route(state, now)
            before = route.plan(self.travel)
            for j, other_id in enumerate(state.queue):
                other = self.calls[other_id]
                leg = before[j + route.floor]
                if other.skill and other.skill not in owner.tech.skills:
                    continue
                if leg.slack is not None and leg.slack < self.margin:
                    continue  # only a call with slack to spare gives up its place
                theirs = _with(route, j + route.floor, call.stop()).plan(self.travel)
                ours = _with(my_route, index + my_route.floor, other.stop()).plan(self.travel)
                both = my_before + before
                harm = self._ripple(both, [x for x in theirs if x.id != call_id], route)
                harm += self._ripple(both, ours, my_route)
                if harm.harm != (0, 0, 0) or harm.overtime:
                    continue
                risk = RISK_RANK[classify_risk(theirs[j + route.floor], self.margin)]
                options.append((risk, 2, 0, _swap(self, owner, call_id, state, other_id)))
        return options


def _with_stops(route: Route, stops: list[Stop]) -> Route:
    return Route(
        route.start_at, route.origin, stops, route.shift_end, route.floor, route.first_on_site_since
    )


def _with(route: Route, index: int, stop: Stop) -> Route:
    stops = list(route.stops)
    stops[index] = stop
    return _with_stops(route, stops)


def _reorder(owner: TechState, call_id: int, position: int):
    def apply() -> None:
        owner.queue.remove(call_id)
        owner.queue.insert(position, call_id)

    return apply


def _move(sim: Simulation, call_id: int, state: TechState, position: int):
    def apply() -> None:
        sim.techs[sim.owner[call_id]].queue.remove(call_id)
        sim._place_call(call_id, state, position)

    return apply


def _swap(sim: Simulation, owner: TechState, call_id: int, state: TechState, other_id: int):
    def apply() -> None:
        i, j = owner.queue.index(call_id), state.queue.index(other_id)
        owner.queue[i], state.queue[j] = other_id, call_id
        sim.owner[call_id], sim.owner[other_id] = state.tech.id, owner.tech.id

    return apply


def _harm(ins: Insertion) -> tuple:
    return ins.ripple.harm


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


def day_simulate(day: Day, policy: str, travel: Travel) -> Report:
    out = Simulation(day, policy, travel).run()
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
