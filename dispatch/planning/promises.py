"""The one promise rule: when a change breaks the ETA a customer was given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Promises:
    """Promised times by call id, and how far they may drift before the promise is broken.

    A promise is about when the technician is at the door to start (the leg's ``start``: the
    arrival, or the window's start when they are early and wait), which is what a booking
    promises; an earlier arrival that still waits for the window breaks nothing."""

    at: Mapping[object, float] = field(default_factory=dict)
    tolerance: float = 0.0

    def kept(self, stop_id: object, arrival: float | None) -> bool:
        promised = self.at.get(stop_id)
        return (
            promised is not None
            and arrival is not None
            and abs(arrival - promised) <= (self.tolerance)
        )

    def broken(self, stop_id: object, before: float | None, after: float | None) -> bool:
        """Kept before the change and not after it. No ETA after (the call went back to the
        unassigned list) breaks a kept promise: nobody is planned for that time any more. No
        ETA before means nothing was being kept, so nothing breaks."""
        if not self.kept(stop_id, before):
            return False
        return after is None or not self.kept(stop_id, after)
