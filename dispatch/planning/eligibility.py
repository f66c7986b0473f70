"""Who can take a call: every required skill, and working at the time it would be done.

One rule for Suggest, rescue, send-now, booking, claims, hand-offs and the move preview, with
reasons in a dispatcher's words ("missing skill: plumbing", "shift ends 17:00"). A dispatcher
may override it with confirmation; technicians and CSRs may not (the callers decide that).
For an emergency, an on-call technician counts as working outside their shift, and overtime is
a cost shown beside the option, never a reason to leave the nearest able technician out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Worker:
    """The eligibility facts of one technician on one day (times in seconds)."""

    id: object
    skills: frozenset[str]
    shift_start: float
    shift_end: float
    shift_words: tuple[str, str] = ("", "")  # the shift as the company reads it: 08:00, 17:00
    marked_off: bool = False  # marked off during the shift (sick, gone home): not working today
    on_call: tuple[tuple[float, float], ...] = ()  # on-call spans, for emergencies off shift
    on_call_words: tuple[str, ...] = ()  # each span as the company reads it: 17:00-08:00
    team: object = None
    name: str = ""

    def on_call_at(self, at: float) -> bool:
        return self.on_call_span(at) is not None

    def on_call_span(self, at: float) -> int | None:
        """The index of the on-call span holding ``at``, else None."""
        return next((i for i, (s, e) in enumerate(self.on_call) if s <= at < e), None)


def missing_skills(worker: Worker, needs: Iterable[str]) -> list[str]:
    return sorted(set(needs) - worker.skills)


def unable(
    worker: Worker,
    needs: Iterable[str],
    *,
    now: float,
    emergency: bool = False,
    at: float | None = None,
) -> list[str]:
    """Why this technician cannot take the call, in words (empty when they can).

    ``at`` is when the work would be done (a planned arrival); without it, whether they still
    work at all after ``now``. Before the shift, being off is just the night: they start on time.
    """
    missing = missing_skills(worker, needs)
    reasons = [f"missing skill: {', '.join(missing)}"] if missing else []
    when = now if at is None else at
    if emergency and worker.on_call_at(when):
        return reasons  # on call: sent out whatever the shift says
    if worker.marked_off and worker.shift_start <= now < worker.shift_end:
        reasons.append("marked off today")
    elif now >= worker.shift_end:
        reasons.append(f"shift ended {worker.shift_words[1]}".rstrip())
    elif when >= worker.shift_end and not emergency:
        # For an emergency, arriving after the shift end is overtime: a cost shown, not a bar.
        reasons.append(f"shift ends {worker.shift_words[1]}".rstrip())
    return reasons


def call_out(worker: Worker, *, now: float, at: float, emergency: bool) -> str:
    """The cost of sending an on-call technician to an emergency outside their shift, in words
    ("call-out: on call 17:00-08:00, overtime"); empty when it is no call-out (not an emergency,
    not on call, or the work falls inside the shift)."""
    if not emergency or worker.shift_start <= at < worker.shift_end:
        return ""
    span = worker.on_call_span(now)
    span = span if span is not None else worker.on_call_span(at)
    if span is None:
        return ""
    words = worker.on_call_words[span] if span < len(worker.on_call_words) else ""
    return f"call-out: on call {words}, overtime" if words else "call-out: on call, overtime"


def works_after(worker: Worker, now: float) -> bool:
    """Still working after ``now`` today (capacity and booking count only these)."""
    return not unable(worker, (), now=now)
