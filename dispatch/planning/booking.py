"""Which arrival windows fit a queue: booking on top of the insertion pricing.

A window fits a place in a queue when the new call, due at the window's end, arrives with the
risk margin to spare and finishes inside the shift, and its ripple is harmless: no other call
turns at risk or late, no promise breaks, nobody is pushed into overtime. Among the places that
fit, the least travel added wins.
"""

from __future__ import annotations

from dispatch.planning.eta import Leg, Stop, Travel, classify_risk
from dispatch.planning.insertion import Insertion, insertions
from dispatch.planning.promises import Promises
from dispatch.planning.routes import Route
from dispatch.planning.rules import Rules


def fits(insertion: Insertion, rules: Rules) -> bool:
    ripple = insertion.ripple
    if classify_risk(insertion.leg, rules.risk_margin) != "ok" or insertion.overtime:
        return False
    return not (ripple.turned_worse or ripple.promises_broken or ripple.overtime)


def window_fit(
    route: Route,
    new: Stop,
    travel: Travel,
    *,
    rules: Rules,
    promises: Promises,
    base: list[Leg] | None = None,
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
    good = [t for t in tries if fits(t, rules)]
    return min(good, key=lambda t: (round(t.travel_added / 60.0, 1), t.leg.start), default=None)
