"""The demo as plain data before it is saved, and the company-time arithmetic it is built with.

Planning the whole day in memory first keeps the random draws in one fixed order, independent of
the database, and lets the ETA engine be asked about a queue before any row exists. The time
helpers work in the company's time zone, the one its shifts and windows are written in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from dispatch.demo.problems import Problem

Location = tuple[float, float]


@dataclass
class TechSpec:
    username: str
    first: str
    last: str
    team: int
    skills: tuple[str, ...]
    home: Location
    shift: tuple[time, time]
    status: str = "off"
    location: Location | None = None
    seen_at: datetime | None = None


@dataclass
class SiteSpec:
    label: str
    address: str
    lat: float
    lng: float


@dataclass
class CustomerSpec:
    name: str
    contract: str
    phone: str
    email: str
    region: int
    sites: list[SiteSpec]


@dataclass
class CallSpec:
    customer: int
    site: int
    problem: Problem
    priority: str
    duration: int
    description: str
    booked_at: datetime
    status: str = "new"
    tech: int | None = None
    position: int | None = None
    window_start: datetime | None = None
    deadline: datetime | None = None
    promised_eta: datetime | None = None
    assigned_at: datetime | None = None
    en_route_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass
class DemoPlan:
    day: date
    now: datetime
    techs: list[TechSpec]
    customers: list[CustomerSpec]
    calls: list[CallSpec] = field(default_factory=list)
    tech_days: dict[int, list[CallSpec]] = field(default_factory=dict)


def company_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def reference_time(day: date, now: datetime) -> datetime:
    """The "now" the day is built around: now itself when the day is today, else 10:00."""
    tz = company_tz()
    if now.astimezone(tz).date() == day:
        return now.astimezone(tz)
    return datetime.combine(day, time(10, 0), tz)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), company_tz())


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def floor_to(value: datetime, step_minutes: int) -> datetime:
    # Chicago's UTC offsets are whole hours, so rounding the epoch rounds local time too.
    step = step_minutes * 60
    ts = int(value.timestamp())
    return datetime.fromtimestamp(ts - ts % step, tz=company_tz())


def ceil_to(value: datetime, step_minutes: int) -> datetime:
    floored = floor_to(value, step_minutes)
    return floored if floored == value else floored + minutes(step_minutes)


def round_to(value: datetime, step_minutes: int) -> datetime:
    return floor_to(value + minutes(step_minutes / 2), step_minutes)
