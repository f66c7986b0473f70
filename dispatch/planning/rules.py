"""The numbers the planning rules are tuned by, in seconds; the Django side fills them from
settings, the simulated day and the benchmarks pass their own."""

from __future__ import annotations

from dataclasses import dataclass

MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class Rules:
    risk_margin: float = 30 * MINUTE  # slack under this is "at risk"
    promise_tolerance: float = 15 * MINUTE  # a promised ETA may drift this far and still be kept
    ripple_shift: float = 15 * MINUTE  # another call moving later by more than this is shown
