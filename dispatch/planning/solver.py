"""The one small interface between the day planner and a vehicle-routing solver.

The planner (``day_plan``) turns technicians and calls into this plain problem; a solver (the
default is ``pyvrp_solver.solve``) answers with an order of calls per technician and the calls it
left out. Everything a solver must weigh is here, in seconds of driving as the one unit of cost:

- a technician starts at a place and a time (after any work under way, which the planner keeps
  first and never gives the solver), works until the end of the shift, and may run over it at
  ``Costs.overtime`` per second, up to ``max_overtime``; the drive home at the end of the day is
  paid (``Costs.drive_home``) but is not work time, as in the ETA engine;
- a call has a place, a duration, a window (``ready``: the earliest start; ``due``: the latest
  arrival) and the skills it needs; serving it on time is worth ``value`` (priority); a call the
  solver cannot fit on time is left out and the planner places it where it is least late, so an
  over-full day still gets a plan that says who will be late;
- **stability**: keeping a call with the technician who has it now earns ``Costs.move`` and
  keeping its promised time earns ``Costs.promise``, so a re-plan changes only what it must.

Times are seconds on one clock (epoch seconds in the product, Solomon minutes x 60 in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class Costs:
    """What a plan pays for, in seconds of driving (settings fill them in the product)."""

    move: float = 30 * MINUTE  # taking a call away from the technician who has it
    promise: float = 60 * MINUTE  # arriving later than a kept promise allows
    overtime: float = 2.0  # per second of work past the shift end
    max_overtime: float = 120 * MINUTE  # past this nobody is planned (the call is left late)
    drive_home: bool = True  # the drive home after the last call counts as travel


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A technician's day as the solver sees it (places are indices into the matrix)."""

    id: object
    start: int  # where the day continues from: home, last position, or the work under way
    home: int  # where the day ends
    start_at: float
    shift_end: float
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Job:
    """A call to place. ``due`` is the latest arrival; ``promise_due`` the latest start that
    keeps the ETA the customer was given (None when nothing was promised)."""

    id: object
    place: int
    duration: float
    ready: float | None = None
    due: float | None = None
    needs: frozenset[str] = frozenset()
    value: float = 1.0  # relative worth of serving it on time (priority)
    keep_with: object | None = None  # the technician who has it now
    promise_due: float | None = None


@dataclass(frozen=True)
class SolverProblem:
    vehicles: Sequence[Vehicle]
    jobs: Sequence[Job]
    durations: object  # square array: seconds of travel between every pair of places
    costs: Costs = field(default_factory=Costs)


@dataclass
class SolverAnswer:
    routes: dict[object, list[object]]  # technician id -> job ids in order
    left_out: list[object]  # jobs it could not serve on time
    seconds: float = 0.0  # what the search took
    feasible: bool = True
    solver: str = ""


# A solver: the problem and a time limit (seconds) in, an answer out. ``seed`` makes it repeatable.
Solver = Callable[..., SolverAnswer]
