"""The numbers the planning rules are tuned by, in seconds; the Django side fills them from
settings, the simulated day and the benchmarks pass their own."""

from __future__ import annotations

from dataclasses import dataclass

MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class Rules:
    # Slack under this is "at risk" where no distribution is known: unassigned calls, and the
    # what-if pricing of moves (ripple, rescue, booking's own ripple, day plans).
    risk_margin: float = 30 * MINUTE
    promise_tolerance: float = 15 * MINUTE  # a promised ETA may drift this far and still be kept
    ripple_shift: float = 15 * MINUTE  # another call moving later by more than this is shown
    p_at_risk: float = 0.3  # a queued call more likely than this to be late is "at risk"
    booking_confidence: float = 0.8  # a window is offered only this sure to be kept
