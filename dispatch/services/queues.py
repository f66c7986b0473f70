"""Turning stored queues into engine input and engine output back into ETA fields.

Shared by the fleet recompute, the move service and the ripple preview, so the three can never
disagree about what a queue's ETAs are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from dispatch import eta, travel
from dispatch.eta import Location, Stop


@dataclass(frozen=True, slots=True)
class TechnicianPlace:
    """What the engine needs to know about a technician to start their day."""

    id: int
    home: Location
    last: Location | None
    last_seen_at: datetime | None
    shift_start: time
    shift_end: time


@dataclass(frozen=True, slots=True)
class QueuedCall:
    """What the engine needs to know about one queued call."""

    id: int
    location: Location
    duration_minutes: int
    window_start: datetime | None
    deadline: datetime | None
    status: str
    started_at: datetime | None


@dataclass(frozen=True, slots=True)
class EtaFields:
    """The stored result for one call; equality decides whether a row needs writing."""

    eta: datetime | None
    planned_start: datetime | None
    planned_finish: datetime | None
    slack_minutes: float | None
    risk: str
    overtime: bool


def travel_provider() -> eta.Travel:
    return travel.great_circle(settings.TRAVEL_CIRCUITY, settings.TRAVEL_SPEED_KMH)


def risk_margin_seconds() -> float:
    return settings.RISK_MARGIN_MINUTES * 60.0


def shift_bounds(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """A shift's start and end on a day, as aware datetimes in the company's time zone."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(day, start, tz), datetime.combine(day, end, tz)


def starting_point(
    tech: TechnicianPlace, now: datetime, shift: tuple[datetime, datetime]
) -> Location:
    # A last known location counts only while fresh and during the shift; otherwise the
    # technician is assumed to set out from home base.
    fresh_after = now - timedelta(minutes=settings.LOCATION_FRESH_MINUTES)
    on_shift = shift[0] <= now <= shift[1]
    if tech.last and tech.last_seen_at and tech.last_seen_at >= fresh_after and on_shift:
        return tech.last
    return tech.home


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _dt(seconds: float) -> datetime:
    # Whole seconds: sub-second jitter must not make a row look changed.
    return datetime.fromtimestamp(round(seconds), tz=ZoneInfo("UTC"))


def plan_queue(
    tech: TechnicianPlace,
    calls: Sequence[QueuedCall],
    day: date,
    now: datetime,
    travel_fn: eta.Travel,
) -> dict[int, EtaFields]:
    """ETA fields for every call of one technician's queue, in queue order."""
    shift = shift_bounds(day, tech.shift_start, tech.shift_end)
    start_at = max(now, shift[0])
    stops = [
        Stop(c.id, c.location, c.duration_minutes * 60.0, _ts(c.window_start), _ts(c.deadline))
        for c in calls
    ]
    on_site = calls[0].started_at if calls and calls[0].status == "on_site" else None
    legs = eta.plan_route(
        start_at.timestamp(),
        starting_point(tech, now, shift),
        stops,
        travel_fn,
        first_on_site_since=_ts(on_site),
    )
    margin, shift_end = risk_margin_seconds(), shift[1].timestamp()
    return {
        leg.id: EtaFields(
            eta=_dt(leg.arrival),
            planned_start=_dt(leg.start),
            planned_finish=_dt(leg.finish),
            slack_minutes=None if leg.slack is None else round(leg.slack / 60.0, 1),
            risk=eta.classify_risk(leg, margin),
            overtime=eta.leg_overtime(leg, shift_end),
        )
        for leg in legs
    }


def unassigned_fields(deadline: datetime | None, now: datetime) -> EtaFields:
    """An unassigned call has no ETA, but its deadline still approaches: risk from now."""
    if deadline is None:
        return EtaFields(None, None, None, None, eta.OK, False)
    slack = (deadline - now).total_seconds()
    leg = eta.Leg(None, now.timestamp(), now.timestamp(), now.timestamp(), slack, slack < 0)
    return EtaFields(
        None,
        None,
        None,
        round(slack / 60.0, 1),
        eta.classify_risk(leg, risk_margin_seconds()),
        False,
    )


# --- from model instances (moves and candidates plan with loaded calls) --------------------------

# Calls a technician has already set out for or started: they stay first in the queue.
WORKING_STATUSES = ("en_route", "on_site")


def place_of(tech) -> TechnicianPlace:
    """A Technician instance as the engine's starting facts."""
    last = (tech.last_lat, tech.last_lng) if tech.last_lat is not None else None
    return TechnicianPlace(
        tech.pk,
        (tech.home_lat, tech.home_lng),
        last,
        tech.last_seen_at,
        tech.shift_start,
        tech.shift_end,
    )


def queued_from(call, status: str | None = None) -> QueuedCall:
    """A ServiceCall instance (with its site loaded) as a queue stop; `status` overrides."""
    return QueuedCall(
        id=call.pk,
        location=(call.site.lat, call.site.lng),
        duration_minutes=call.duration_minutes,
        window_start=call.window_start,
        deadline=call.deadline,
        status=status or call.status,
        started_at=call.started_at,
    )


def first_free_position(queue) -> int:
    """The first place a call may take: after the work already under way."""
    floor = 0
    while floor < len(queue) and queue[floor].status in WORKING_STATUSES:
        floor += 1
    return floor
