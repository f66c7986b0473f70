"""The stored ETA fields of a call: its planned leg, its odds, and the risk rule applied.

The moves, the fleet recompute, the demo and the unassigned list all store through here, so a
call's eta, p_late, eta_p80 and risk mean the same whichever path wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

from django.conf import settings

from dispatch.planning import eta
from dispatch.planning.durations import Learned, Spread
from dispatch.planning.eta import Leg
from dispatch.planning.odds import Odds, Queue, fleet_odds, queue_odds
from dispatch.planning.risk import risk_of
from dispatch.planning.routes import Route
from dispatch.selectors.planning import (
    QueuedCall,
    TechnicianPlace,
    risk_margin_seconds,
    route_of,
    utc_datetime,
)


@dataclass(frozen=True, slots=True)
class EtaFields:
    """The stored result for one call; equality decides whether a row needs writing."""

    eta: datetime | None
    planned_start: datetime | None
    planned_finish: datetime | None
    slack_minutes: float | None
    risk: str
    overtime: bool
    p_late: float | None = None
    eta_p10: datetime | None = None
    eta_p80: datetime | None = None
    eta_p90: datetime | None = None


# The stored columns, named once: the dataclass's fields, in its order (the recompute, the moves,
# the API rows and the serializer all read this tuple).
ETA_FIELDS = tuple(f.name for f in fields(EtaFields))


def fields_of(leg: Leg, shift_end: float, odds: Odds, p_at_risk: float) -> EtaFields:
    """A planned leg and its odds as the stored fields; the risk rule is ``risk.risk_of``."""
    p_late = None if odds.p_late is None else round(odds.p_late, 3)
    return EtaFields(
        eta=utc_datetime(leg.arrival),
        planned_start=utc_datetime(leg.start),
        planned_finish=utc_datetime(leg.finish),
        slack_minutes=None if leg.slack is None else round(leg.slack / 60.0, 1),
        risk=risk_of(leg.late, odds.p_late, p_at_risk),
        overtime=eta.leg_overtime(leg, shift_end),
        p_late=p_late,
        eta_p10=utc_datetime(odds.p10),
        eta_p80=utc_datetime(odds.p80),
        eta_p90=utc_datetime(odds.p90),
    )


def route_fields(
    route: Route,
    legs: Sequence[Leg],
    categories: Sequence[int | None],
    technician_id: int | None,
    learned: Learned,
    now: datetime,
) -> dict[int, EtaFields]:
    """Stored fields for a planned queue: its legs with their odds, from the durations learned
    (``categories``: each stop's category, in queue order)."""
    spreads = [learned.job(c, technician_id) for c in categories]
    odds = queue_odds(
        route.start_at,
        legs,
        route.stops,
        spreads,
        learned.travel,
        now=now.timestamp(),
        first_on_site_since=route.first_on_site_since,
    )
    p_at_risk = settings.RISK_P_AT_RISK
    return {
        leg.id: fields_of(leg, route.shift_end, o, p_at_risk)
        for leg, o in zip(legs, odds, strict=True)
    }


def plan_queue(
    tech: TechnicianPlace,
    calls: Sequence[QueuedCall],
    day: date,
    now: datetime,
    travel_fn: eta.Travel,
    learned: Learned | None = None,
) -> dict[int, EtaFields]:
    """ETA fields for every call of one technician's queue, in queue order."""
    return plan_queues([(tech, calls)], day, now, travel_fn, learned or default_durations())


def plan_queues(
    queues: Sequence[tuple[TechnicianPlace, Sequence[QueuedCall]]],
    day: date,
    now: datetime,
    travel_fn: eta.Travel,
    learned: Learned,
) -> dict[int, EtaFields]:
    """``plan_queue`` for many technicians at once: the odds of every queue propagated in one
    array (``odds.fleet_odds``), the same figures as queue by queue, at a fraction of the cost."""
    planned = []
    for tech, calls in queues:
        route = route_of(tech, calls, day, now)
        spreads = [learned.job(c.category_id, tech.id) for c in calls]
        planned.append((route, route.plan(travel_fn), spreads))
    batch = [Queue(r.start_at, legs, r.stops, sp, r.first_on_site_since) for r, legs, sp in planned]
    p_at_risk = settings.RISK_P_AT_RISK
    out: dict[int, EtaFields] = {}
    for (route, legs, _), odds in zip(
        planned, fleet_odds(batch, learned.travel, now=now.timestamp()), strict=True
    ):
        for leg, o in zip(legs, odds, strict=True):
            out[leg.id] = fields_of(leg, route.shift_end, o, p_at_risk)
    return out


def default_durations() -> Learned:
    """The spreads with no history: the estimate as the median, the settings' spreads."""
    return Learned(
        default=Spread(0.0, settings.DURATION_DEFAULT_SIGMA),
        travel=Spread(0.0, settings.TRAVEL_DEFAULT_SIGMA),
    )


def unassigned_fields(deadline: datetime | None, now: datetime) -> EtaFields:
    """An unassigned call has no ETA, but its deadline still approaches: risk from now."""
    if deadline is None:
        return EtaFields(None, None, None, None, eta.OK, False)
    slack = (deadline - now).total_seconds()
    leg = eta.Leg(None, now.timestamp(), now.timestamp(), now.timestamp(), slack, slack < 0)
    return EtaFields(
        None, None, None, round(slack / 60.0, 1), eta.classify_risk(leg, risk_margin_seconds()),
        False,
    )  # fmt: skip
