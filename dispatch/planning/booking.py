"""Which arrival windows fit a queue: booking on top of the insertion pricing.

A window fits a place in a queue when the new call, due at the window's end, is likely enough to
arrive inside it and finishes inside the shift, and its ripple is harmless: no other call turns
at risk or late, no promise breaks, nobody is pushed into overtime. Among the places that fit,
the least travel added wins.

"Likely enough": given the queue's odds (``odds.queue_odds`` on the base plan, as the product
always passes), P(arriving by the window's end) is at least ``Rules.booking_confidence``; the
new call's arrival is drawn on from the finish of the stop before it, so a window behind a long
uncertain job needs more room than one behind a filter change. Without odds (a caller with no
durations to draw from) the new call must have the risk margin of slack to spare instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.planning.durations import Spread
from dispatch.planning.eta import Leg, Stop, Travel, classify_risk
from dispatch.planning.insertion import Insertion, insertions
from dispatch.planning.odds import Odds, p_late_after
from dispatch.planning.promises import Promises
from dispatch.planning.routes import Route
from dispatch.planning.rules import Rules


@dataclass(frozen=True)
class QueueOdds:
    """The base queue's odds (one per stop, in order) and the drive spread."""

    odds: Sequence[Odds]
    travel: Spread


def harmless(insertion: Insertion) -> bool:
    ripple = insertion.ripple
    if insertion.overtime:
        return False
    return not (ripple.turned_worse or ripple.promises_broken or ripple.overtime)


def fits(insertion: Insertion, rules: Rules) -> bool:
    """The fit without odds: the new call has the risk margin to spare, and is harmless."""
    return classify_risk(insertion.leg, rules.risk_margin) == "ok" and harmless(insertion)


def p_inside(insertion: Insertion, route: Route, base: list[Leg], queue: QueueOdds) -> float:
    """P(the new call arrives by its deadline, the window's end) at the insertion's place."""
    p = insertion.position
    before = queue.odds[p - 1] if p > 0 else None
    leave = base[p - 1].finish if p > 0 else route.start_at
    hop = insertion.leg.arrival - leave
    due = insertion.leg.arrival + insertion.leg.slack
    # A draw column no stop of the queue uses: the new call's drive is its own.
    column = 2 * len(base) + 1
    return 1.0 - p_late_after(before, route.start_at, hop, due, queue.travel, column)


def window_fit(
    route: Route,
    new: Stop,
    travel: Travel,
    *,
    rules: Rules,
    promises: Promises,
    base: list[Leg] | None = None,
    odds: QueueOdds | None = None,
) -> Insertion | None:
    """The least-travel place where ``new`` (its window and deadline set) fits, if any."""
    base = route.plan(travel) if base is None else base
    # Once the stop before finishes after the window closes, no later place can fit.
    last = len(route.stops)
    for p in range(max(route.floor, 1), len(route.stops) + 1):
        if new.deadline is not None and base[p - 1].finish > new.deadline:
            last = p - 1
            break
    positions = range(route.floor, last + 1)
    tries = insertions(
        route, new, travel, rules=rules, promises=promises, positions=positions, base=base
    )
    if odds is None:
        good = [t for t in tries if fits(t, rules)]
    else:
        good = [
            t
            for t in tries
            if not t.leg.late
            and harmless(t)
            and p_inside(t, route, base, odds) >= rules.booking_confidence
        ]
    return min(good, key=lambda t: (round(t.travel_added / 60.0, 1), t.leg.start), default=None)
