"""The ETA engine: one technician's queue in, one Leg per stop out.

Pure on purpose: no Django, no clock, no I/O. "Now" arrives as ``start_at`` and travel
as a function, so the same code serves a single move, a fleet-wide recompute and a
"what if" preview, and it can be copied into a script and run on its own.

Times are plain floats in one unit (seconds since the epoch in the product, Solomon time
units in the benchmark tests); the arithmetic does not care which. From docs/design.md,
"ETA semantics"::

    arrival[i] = finish[i-1] + travel(location[i-1], location[i])
    start[i]   = max(arrival[i], window_start[i])        # wait if early
    finish[i]  = start[i] + duration[i]
    slack[i]   = deadline[i] - arrival[i]                 # None without a deadline
    late[i]    = arrival[i] > deadline[i]                 # False without a deadline

Where the technician is right now is told by the caller, not by special stop kinds:

- en route to the first stop: pass the technician's current location as ``origin``
  and now as ``start_at``; travel counts from there, so no special case is needed;
- on site at the first stop: also pass ``first_on_site_since`` (when work started).
  That stop's arrival and start are the started-at time; it finishes at started-at +
  duration, but never before ``start_at``, because an overrunning job is still going
  on now. The next stop travels from the first stop's location.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Location = tuple[float, float]
Travel = Callable[[Location, Location], float]

OK = "ok"
AT_RISK = "at_risk"
LATE = "late"


@dataclass(frozen=True, slots=True)
class Stop:
    """One call in a queue: where, how long the work takes, and its time window."""

    id: object
    location: Location
    duration: float
    window_start: float | None = None
    deadline: float | None = None


@dataclass(frozen=True, slots=True)
class Leg:
    """The computed timing of one stop; ``slack`` is None without a deadline."""

    id: object
    arrival: float
    start: float
    finish: float
    slack: float | None
    late: bool


def plan_route(
    start_at: float,
    origin: Location,
    stops: Sequence[Stop],
    travel: Travel,
    *,
    first_on_site_since: float | None = None,
) -> list[Leg]:
    """Time every stop of one queue, in order (rules in the module docstring)."""
    legs: list[Leg] = []
    if not stops:
        return legs
    if first_on_site_since is None:
        here, clock = origin, start_at
    else:
        legs.append(_on_site_leg(stops[0], first_on_site_since, start_at))
        here, clock = stops[0].location, legs[0].finish
        stops = stops[1:]
    # Bound once and kept inline (no helper per stop): this loop runs for every queue
    # of a fleet recompute, and a function call per stop would double its cost.
    append = legs.append
    for stop in stops:
        location = stop.location
        arrival = clock + travel(here, location)
        ready = stop.window_start
        start = arrival if ready is None or arrival >= ready else ready
        clock = start + stop.duration
        due = stop.deadline
        if due is None:
            append(Leg(stop.id, arrival, start, clock, None, False))
        else:
            append(Leg(stop.id, arrival, start, clock, due - arrival, arrival > due))
        here = location
    return legs


def _on_site_leg(stop: Stop, started_at: float, now: float) -> Leg:
    # The technician is already there: the window no longer matters, and lateness is
    # judged on when they actually arrived. A job running past its planned duration
    # still ends no earlier than now, or the rest of the queue would be planned in the
    # past.
    finish = max(started_at + stop.duration, now)
    due = stop.deadline
    if due is None:
        return Leg(stop.id, started_at, started_at, finish, None, False)
    slack = due - started_at
    return Leg(stop.id, started_at, started_at, finish, slack, started_at > due)


def classify_risk(leg: Leg, margin: float) -> str:
    """``LATE`` past the deadline, ``AT_RISK`` under ``margin`` of slack, else ``OK``.

    Exactly ``margin`` of slack is still OK: the margin is the cushion we want, and
    having all of it is not a risk.
    """
    if leg.late:
        return LATE
    if leg.slack is not None and leg.slack < margin:
        return AT_RISK
    return OK


def leg_overtime(leg: Leg, shift_end: float) -> bool:
    """Whether this stop's work runs past the end of the shift."""
    return leg.finish > shift_end


def overtime(legs: Sequence[Leg], shift_end: float) -> float:
    """How far the queue's last finish runs past ``shift_end`` (0.0 if it does not)."""
    if not legs:
        return 0.0
    return max(0.0, legs[-1].finish - shift_end)
