"""Two more policies for the simulated day, both through the product's day planner.

- **planner**: the day is re-planned with the solver at events, through the very adapter the
  product uses (``day_plan.plan_day`` with ``pyvrp_solver.solve``), and the proposal is applied to
  the queues as it stands (work under way stays first, as ``plan_day`` keeps it). Events: every
  booking (calls booked at the same moment, like the evening-before ones, are planned together);
  and, at most once every ``replan_every`` simulated seconds, a job finishing (its real duration
  is now known) or a waiting call turning late. Bookings always re-plan, because that is where a
  new call gets its place; the other two are throttled to bound the count of solver runs.
- **bound**: clairvoyant. Every call of the day is known at the start, with its real duration as
  the service time, its window and deadline as they are, and "not before it was booked" as the
  earliest start (``Job.ready``, through the call's window start). Planned once with a larger
  time limit, then simulated; nothing is re-planned. It bounds what a policy could do; it is not
  one. A technician may drive ahead to a call not booked yet and wait at the door until it is,
  as the solver's model (ready = earliest start of the work) has it.

Both plan on the same world view, promises and reschedule count as ``Simulation``: only how a
call gets its place differs. The solver stops on wall-clock time, so a loaded machine may give a
slightly different day from one run to the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dispatch.planning import pyvrp_solver
from dispatch.planning.day_plan import DayInput, Proposal, plan_day
from dispatch.planning.eta import Travel
from dispatch.planning.risk import RISK_RANK, risk_rank
from dispatch.planning.rules import Rules
from dispatch.planning.solver import SolverAnswer
from dispatch.simulation import MIN, Day, Outcome, Report, SimCall, Simulation, day_report

PLANNED = ("planner", "bound")
LATE = RISK_RANK["late"]


class PlannedSimulation(Simulation):
    """The ``planner`` or ``bound`` policy over one day (see the module docstring)."""

    def __init__(
        self,
        day: Day,
        policy: str,
        travel: Travel,
        rules: Rules | None = None,
        *,
        seconds: float = 0.3,
        replan_every: float = 15 * MIN,
        solver: Callable[..., SolverAnswer] = pyvrp_solver.solve,
    ):
        if policy not in PLANNED:
            raise ValueError(f"not a planned policy: {policy}")
        super().__init__(day, policy, travel, rules)
        self.seconds, self.replan_every, self.solver = seconds, replan_every, solver
        self.waiting: list[SimCall] = []  # booked, not placed yet (same-moment bookings)
        self.last_replan: float | None = None
        self.replans = 0
        self.proposal: Proposal | None = None  # the last one applied
        if policy == "bound":
            # What the clairvoyant plans and the day then runs on: real durations as estimates,
            # and the booking time as the earliest start (``Job.ready`` comes from the window).
            self.calls = {c.id: _known(c) for c in day.calls}

    def run(self) -> Outcome:
        if self.policy == "bound":
            first = min((c.booked_at for c in self.day.calls), default=0.0)
            self._replan(first, list(self.calls.values()))
        return super().run()

    # events

    def _book(self, call: SimCall, now: float) -> None:
        if self.policy == "bound":
            return  # placed at the start, with every other call
        self.waiting.append(call)
        if self.events and self.events[0][0] == now and self.events[0][2] == "book":
            return  # more calls booked at this very moment: plan them all at once
        new, self.waiting = self.waiting, []
        self._replan(now, new)

    def _finish(self, state, now: float) -> None:
        super()._finish(state, now)
        # Before the technician sets out again: their next call is the re-planned one.
        if self._may_replan(now):
            self._replan(now, [])

    def _after_change(self, now: float) -> None:
        if self._may_replan(now) and self._turned_late(now):
            self._replan(now, [])
            self._dispatch_idle(now)  # someone idle may have been given a call
        super()._after_change(now)  # promises and reschedules, as for every policy

    def _turned_late(self, now: float) -> bool:
        """A waiting call now planned late that was not (``self.risk``: as last accounted)."""
        return any(
            risk_rank(leg, self.rules.risk_margin) == LATE and self.risk.get(leg.id, 0) < LATE
            for leg in self._plan_all(now).values()
        )

    def _may_replan(self, now: float) -> bool:
        if self.policy == "bound":
            return False
        return self.last_replan is None or now - self.last_replan >= self.replan_every

    # the re-plan: the product's day planner, its proposal applied as a dispatcher would

    def _replan(self, now: float, new: list[SimCall]) -> Proposal:
        world = self.world(now)
        day = DayInput(
            world,
            homes={t: s.tech.home for t, s in self.techs.items()},
            unassigned=[c.stop() for c in new],
            needs={c.id: c.needs for c in self.calls.values()},
            priority={c.id: "emergency" if c.emergency else "normal" for c in self.calls.values()},
        )
        proposal = plan_day(day, self.solver, self.seconds)
        for tech_id, ids in proposal.routes.items():
            state = self.techs[tech_id]
            floor = world.routes[tech_id].floor
            state.queue = list(ids[floor:])  # the first ``floor`` are the work under way, kept
            for call_id in state.queue:
                self.owner[call_id] = tech_id
        for call in new:
            if call.id not in self.owner:  # nobody able to take it: this simulation's fallback
                self._least_late(self.calls[call.id], now)
        self.last_replan, self.proposal = now, proposal
        self.replans += 1
        return proposal


def _known(call: SimCall) -> SimCall:
    ready = max(call.window_start or call.booked_at, call.booked_at)
    return replace(call, estimate=call.real, window_start=ready)


def day_simulate_planned(
    day: Day, policy: str, travel: Travel, rules: Rules | None = None, **options
) -> Report:
    """``simulation.day_simulate`` for ``planner`` and ``bound`` (options: ``seconds``,
    ``replan_every``, ``solver``)."""
    return day_report(day, policy, PlannedSimulation(day, policy, travel, rules, **options).run())
