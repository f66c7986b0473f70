"""The ripple: what a change costs the calls that were already planned.

One definition for every place that shows it (the move preview and the drag's confirm panel,
Suggest, rescue, hand-off choices, booking, the plan proposal): lateness added, calls turned at
risk or late, promises broken, calls pushed into overtime, and every call whose ETA moves later
by more than the ripple-shift rule. The call being placed is never part of its own ripple.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dispatch.planning.eta import Leg
from dispatch.planning.promises import Promises
from dispatch.planning.risk import risk_rank
from dispatch.planning.rules import Rules


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and thousands of
# these are made for one question; nothing mutates them.
@dataclass(slots=True)
class Ripple:
    added_lateness: float = 0.0  # summed over the other calls, in time units
    turned_worse: tuple = ()  # ids whose risk rises (ok -> at risk, at risk -> late ...)
    promises_broken: tuple = ()  # ids whose promised time was kept and no longer is
    overtime: tuple = ()  # ids that newly finish past the shift end
    shifted: tuple = ()  # ids whose ETA moves later by more than the ripple-shift rule
    max_shift: float = 0.0  # the most any other call's ETA moves later (0 when none does)

    @property
    def hurts(self) -> bool:
        return bool(self.added_lateness or self.turned_worse or self.promises_broken)

    @property
    def shifted_calls(self) -> int:
        return len(self.shifted)

    @property
    def max_shift_minutes(self) -> float:
        return round(self.max_shift / 60.0, 1)

    def __add__(self, other: Ripple) -> Ripple:
        return Ripple(
            self.added_lateness + other.added_lateness,
            self.turned_worse + other.turned_worse,
            self.promises_broken + other.promises_broken,
            self.overtime + other.overtime,
            self.shifted + other.shifted,
            max(self.max_shift, other.max_shift),
        )

    def words(self, ids: bool = True) -> str:
        """The ripple as a dispatcher reads it: "3 customers later by up to 93 min"; with
        ``ids=False`` the calls are not named (a technician's view of a teammate's day)."""
        parts = []
        if self.added_lateness >= 30:
            parts.append(f"+{self.added_lateness / 60:.0f} min late to others")
        if self.shifted:
            n = len(self.shifted)
            parts.append(
                f"{n} customer{'s' if n > 1 else ''} later by up to {self.max_shift / 60:.0f} min"
            )
        if self.turned_worse:
            n = len(self.turned_worse)
            verb = "calls turn" if n > 1 else "call turns"
            parts.append(f"{n} {verb} at risk or late" + _named(self.turned_worse, ids))
        if self.promises_broken:
            n = len(self.promises_broken)
            parts.append(
                f"{n} promise{'s' if n > 1 else ''} broken" + _named(self.promises_broken, ids)
            )
        if self.overtime:
            parts.append(
                f"pushes {_ids(self.overtime)} into overtime" if ids else "runs into overtime"
            )
        return "; ".join(parts) or "none"


EMPTY = Ripple()


def _ids(ids: tuple) -> str:
    return ", ".join(f"#{i}" for i in ids)


def _named(ids: tuple, shown: bool) -> str:
    return f" ({_ids(ids)})" if shown else ""


def lateness(leg: Leg) -> float:
    return -leg.slack if leg.late else 0.0


def ripple_between(
    before: Mapping[object, Leg | None],
    after: Mapping[object, Leg | None],
    *,
    rules: Rules,
    promises: Promises,
    shift_end: Mapping[object, float] | float,
    skip: object = None,
) -> Ripple:
    """The ripple between two plans of the same calls, matched by id (``skip``: the call being
    placed). A call planned on only one side (it arrived or left with the change) counts only
    for its promise. ``shift_end``: one shift end, or each call's technician's, after."""
    added, worse, broken, overtime, shifted, most = 0.0, [], [], [], [], 0.0
    for call_id, new in after.items():
        if call_id == skip:
            continue
        old = before.get(call_id)
        if promises.broken(call_id, at_door(old), at_door(new)):
            broken.append(call_id)
        if old is None or new is None:
            continue
        added += lateness(new) - lateness(old)
        if risk_rank(new, rules.risk_margin) > risk_rank(old, rules.risk_margin):
            worse.append(call_id)
        end = shift_end if isinstance(shift_end, float | int) else shift_end[call_id]
        if new.finish > end >= old.finish:
            overtime.append(call_id)
        moved_later = new.arrival - old.arrival
        if moved_later > most:
            most = moved_later
        if moved_later > rules.ripple_shift:
            shifted.append(call_id)
    return Ripple(added, tuple(worse), tuple(broken), tuple(overtime), tuple(shifted), most)


def at_door(leg: Leg | None) -> float | None:
    """When the technician is at the door to start: what a promised ETA promises (a booking
    promises the planned start; a technician early for a window waits for it)."""
    return None if leg is None else leg.start
