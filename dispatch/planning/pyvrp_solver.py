"""The default solver: PyVRP (MIT), a state-of-the-art iterated local search for routing with
time windows (about 0.5 % above the best known Solomon solutions in 10 s on these machines).

How the product's rules map onto PyVRP's model:

- every technician is a vehicle type of one vehicle: a start depot where their day continues, and
  an end depot that is "anywhere" for time (travel there takes no time, so the working day ends at
  the last call's finish, as in the ETA engine) but costs the drive home as distance;
- the shift: the vehicle starts exactly at ``start_at``; its nominal duration runs to the shift
  end, with overtime allowed up to ``max_overtime`` at ``Costs.overtime`` per second;
- a call is optional with a large prize, so a day that cannot all be done on time still plans
  (the planner places what was left out); its window: start no earlier than ``ready``, arrive no
  later than ``due`` (with waiting, the start is late exactly when the arrival is);
- skills: PyVRP has none, so one load dimension per skill, where a call needing it loads one unit
  and a technician without it has capacity zero: exact;
- stability: a call has up to four interchangeable copies in one mutually exclusive group (at
  most one is visited): with anyone; with its current technician (prize + ``Costs.move``); and,
  when promised, the same two ending at the promise (prize + ``Costs.promise``). A copy only its
  technician may take loads one unit in each dimension of that technician's code, a k-of-2k
  subset of a few extra dimensions: equal-size distinct subsets never contain one another, so
  nobody else has capacity for it (10 dimensions tell 252 technicians apart).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import FirstFeasible, MaxRuntime, MultipleCriteria

from dispatch.planning.solver import Job, SolverAnswer, SolverProblem, Vehicle

# A call served is worth this many seconds of driving, times its priority weight: far more than
# any route costs, so the search leaves a call out only when it cannot be on time.
PRIZE = 10_000_000
NEVER = np.iinfo(np.int64).max // 4


def solve(
    problem: SolverProblem, seconds: float, *, seed: int = 1, warm: bool = True
) -> SolverAnswer:
    """Plan ``problem`` for ``seconds`` of search (``warm``: start from the current queues).

    Two phases, because PyVRP searches much better when every call must be served (on RC101,
    1,618 against 1,660-1,680 with the same 10 s): first every call required, until a plan with
    nobody late is found (or 40 % of the time is spent); with one, the rest of the time improves
    it; without, the calls become optional for the rest, and what cannot be on time is left out.
    """
    vehicles = list(problem.vehicles)
    if not vehicles or not problem.jobs:
        return SolverAnswer(
            {v.id: [] for v in vehicles}, [j.id for j in problem.jobs], 0.0, True, "pyvrp"
        )
    budget = max(0.1, seconds)
    strict = _Build(problem, required=True)
    data = strict.data()
    first = MultipleCriteria([FirstFeasible(), MaxRuntime(budget * 0.4)])
    found, took = _search(data, first, seed, strict.warm_start(data) if warm else None)
    rest = max(0.05, budget - took)
    if found.is_feasible():
        best, more = _search(data, MaxRuntime(rest), seed, found)
        build = strict
    else:
        build = _Build(problem, required=False)
        data = build.data()
        best, more = _search(data, MaxRuntime(rest), seed, build.warm_start(data) if warm else None)
    routes: dict[object, list[object]] = {v.id: [] for v in vehicles}
    served: set[object] = set()
    for route in best.routes():
        vehicle = vehicles[route.vehicle_type()]
        for activity in route.schedule():
            if not activity.is_client():
                continue
            job = build.job_of_client[activity.idx]
            # An infeasible best (the search ran out of time) may break the one hard rule:
            # a call goes only to someone with its skills, or stays with whoever has it.
            if job.needs <= vehicle.skills or job.keep_with == vehicle.id:
                routes[vehicle.id].append(job.id)
                served.add(job.id)
    left = [j.id for j in problem.jobs if j.id not in served]
    return SolverAnswer(routes, left, took + more, best.is_feasible(), "pyvrp")


def _search(data, stop, seed: int, initial) -> tuple[pyvrp.Solution, float]:
    """The best solution and the seconds the search took (the solver's own clock)."""
    with warnings.catch_warnings():
        # An over-full day has no plan with everyone on time; PyVRP warns, the planner expects it.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = pyvrp.solve(
            data, stop=stop, seed=seed, collect_stats=False, initial_solution=initial
        )
    return result.best, result.runtime


class _Build:
    """PyVRP's problem data from the plain problem (integers: seconds from the earliest start)."""

    def __init__(self, problem: SolverProblem, *, required: bool):
        self.p = problem
        self.required = required
        self.t0 = min(v.start_at for v in problem.vehicles)
        self.skills = sorted({s for j in problem.jobs for s in j.needs})
        owners = sorted(
            {j.keep_with for j in problem.jobs if j.keep_with is not None} & self._vehicle_ids(),
            key=str,
        )
        self.codes = _codes(len(owners))
        self.code_of = {tech: self.codes[i] for i, tech in enumerate(owners)}
        self.dims = len(self.skills) + (len(self.codes[0]) * 2 if self.codes else 0)
        self.job_of_client: list[Job] = []

    def _vehicle_ids(self) -> set:
        return {v.id for v in self.p.vehicles}

    def _t(self, at: float) -> int:
        return max(0, round(at - self.t0))

    def data(self) -> pyvrp.ProblemData:
        p, n_places = self.p, len(self.p.durations)
        vehicles = list(p.vehicles)
        travel = np.rint(np.asarray(p.durations, dtype=float)).astype(np.int64)
        # Places, then one "end of day" location per technician.
        size = n_places + len(vehicles)
        duration = np.zeros((size, size), dtype=np.int64)
        duration[:n_places, :n_places] = travel
        distance = duration.copy()
        for k, v in enumerate(vehicles):
            if p.costs.drive_home:
                distance[:n_places, n_places + k] = travel[:, v.home]
        locations = [pyvrp.Location(0, 0) for _ in range(size)]
        depots, types = [], []
        for k, v in enumerate(vehicles):
            depots.append(pyvrp.Depot(v.start))
            depots.append(pyvrp.Depot(n_places + k))
            types.append(self._vehicle_type(v, 2 * k, 2 * k + 1))
        clients, groups = self._clients()
        return pyvrp.ProblemData(
            locations=locations,
            clients=clients,
            depots=depots,
            vehicle_types=types,
            distance_matrices=[distance],
            duration_matrices=[duration],
            groups=groups,
        )

    def _vehicle_type(self, v: Vehicle, start: int, end: int) -> pyvrp.VehicleType:
        costs, many = self.p.costs, len(self.p.jobs) + 1
        capacity = [many if s in v.skills else 0 for s in self.skills]
        code = self.code_of.get(v.id, ())
        capacity += [many if d in code else 0 for d in range(self.dims - len(self.skills))]
        begin = self._t(v.start_at)
        nominal = max(0, self._t(v.shift_end) - begin)
        return pyvrp.VehicleType(
            num_available=1,
            capacity=capacity,
            start_depot=start,
            end_depot=end,
            tw_early=begin,
            start_late=begin,
            shift_duration=nominal,
            max_overtime=round(costs.max_overtime),
            unit_overtime_cost=max(0, round(costs.overtime)),
        )

    def _clients(self):
        clients, groups = [], []
        for job in self.p.jobs:
            copies = self._copies(job)
            first = len(clients)
            for prize, late, own in copies:
                clients.append(
                    self._client(
                        job, prize, late, own, group=len(groups) if len(copies) > 1 else None
                    )
                )
                self.job_of_client.append(job)
            if len(copies) > 1:
                members = list(range(first, len(clients)))
                groups.append(pyvrp.ClientGroup(members, required=self.required))
        return clients, groups

    def _copies(self, job: Job) -> list[tuple[int, int, bool]]:
        """(prize, latest start, only its technician) for each interchangeable copy of a call."""
        costs = self.p.costs
        base = round(PRIZE * job.value)
        due = NEVER if job.due is None else self._t(job.due)
        copies = [(base, due, False)]
        own = job.keep_with in self.code_of
        if own:
            copies.append((base + round(costs.move), due, True))
        if job.promise_due is not None:
            kept = min(due, self._t(job.promise_due))
            copies.append((base + round(costs.promise), kept, False))
            if own:
                copies.append((base + round(costs.move + costs.promise), kept, True))
        return copies

    def _client(self, job: Job, prize: int, late: int, own: bool, group) -> pyvrp.Client:
        delivery = [0] * self.dims
        if own:
            for d in self.code_of[job.keep_with]:
                delivery[len(self.skills) + d] = 1
        else:
            for i, skill in enumerate(self.skills):
                delivery[i] = 1 if skill in job.needs else 0
        early = 0 if job.ready is None else self._t(job.ready)
        return pyvrp.Client(
            job.place,
            delivery=delivery,
            service_duration=round(job.duration),
            tw_early=min(early, late),
            tw_late=late,
            prize=prize,
            required=self.required and group is None,
            group=group,
        )

    def warm_start(self, data: pyvrp.ProblemData) -> pyvrp.Solution | None:
        """The current queues as the first solution: each call's "own" copy where it has one."""
        own_client: dict[object, int] = {}
        for index, job in enumerate(self.job_of_client):
            if job.keep_with is not None and job.keep_with in self.code_of:
                own_client.setdefault(job.id, index)
        routes = []
        for k, v in enumerate(self.p.vehicles):
            visits = [
                own_client[j.id] for j in self.p.jobs if j.keep_with == v.id and j.id in own_client
            ]
            if visits:
                routes.append(pyvrp.Route(data, visits, k))
        if not routes:
            return None
        return pyvrp.Solution(data, routes)


def _codes(count: int) -> list[tuple[int, ...]]:
    """``count`` distinct k-subsets of 2k dimensions (k as small as will do)."""
    if count == 0:
        return []
    k = 1
    while math.comb(2 * k, k) < count:
        k += 1
    return list(itertools.islice(itertools.combinations(range(2 * k), k), count))
