"""The one adapter from rows to the planning core (read-only).

Technicians and queued calls become the planner's plain inputs here, and only here: routes with
their start rule, stops, promises, eligibility facts, the rules from settings. Moves, candidates,
rescue, send-now, booking, capacity, claims, hand-offs, the technician's page and the fleet
recompute all plan from what this module builds, so they cannot disagree about a queue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from dispatch.models import ServiceCall
from dispatch.planning import eta, travel
from dispatch.planning.choice import World
from dispatch.planning.eligibility import Worker
from dispatch.planning.eta import Location, Stop
from dispatch.planning.promises import Promises
from dispatch.planning.routes import Route, Start, route_build
from dispatch.planning.rules import Rules
from dispatch.selectors.rota import on_call_spans
from technicians.models import Technician


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
    category_id: int | None = None


# --- settings as planning inputs ----------------------------------------------------------------


def travel_provider() -> eta.Travel:
    if settings.TRAVEL_PROVIDER == "plane":
        return travel.plane(settings.TRAVEL_PLANE_SECONDS_PER_UNIT)
    return travel.great_circle(settings.TRAVEL_CIRCUITY, settings.TRAVEL_SPEED_KMH)


def risk_margin_seconds() -> float:
    return settings.RISK_MARGIN_MINUTES * 60.0


def planning_rules() -> Rules:
    return Rules(
        risk_margin=risk_margin_seconds(),
        promise_tolerance=settings.PROMISE_TOLERANCE_MINUTES * 60.0,
        ripple_shift=settings.RIPPLE_SHIFT_MINUTES * 60.0,
        p_at_risk=settings.RISK_P_AT_RISK,
        booking_confidence=settings.BOOKING_CONFIDENCE,
    )


def promises_of(promised: Iterable[tuple[int, datetime | None]]) -> Promises:
    at = {pk: when.timestamp() for pk, when in promised if when is not None}
    return Promises(at, planning_rules().promise_tolerance)


def shift_bounds(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """A shift's start and end on a day, as aware datetimes in the company's time zone."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(day, start, tz), datetime.combine(day, end, tz)


# --- rows and instances as plain facts ----------------------------------------------------------


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def utc_datetime(seconds: float) -> datetime:
    # Whole seconds: sub-second jitter must not make a row look changed.
    return datetime.fromtimestamp(round(seconds), tz=ZoneInfo("UTC"))


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


def place_of_row(row: dict) -> TechnicianPlace:
    last = (row["last_lat"], row["last_lng"]) if row["last_lat"] is not None else None
    return TechnicianPlace(
        id=row["id"],
        home=(row["home_lat"], row["home_lng"]),
        last=last,
        last_seen_at=row["last_seen_at"],
        shift_start=row["shift_start"],
        shift_end=row["shift_end"],
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
        category_id=call.category_id,
    )


# The columns a queued call is read with when no model instance is needed.
QUEUED_COLUMNS = (
    "id",
    "technician_id",
    "site__lat",
    "site__lng",
    "duration_minutes",
    "window_start",
    "deadline",
    "status",
    "started_at",
)


def queued_of_row(row: dict) -> QueuedCall:
    return QueuedCall(
        id=row["id"],
        location=(row["site__lat"], row["site__lng"]),
        duration_minutes=row["duration_minutes"],
        window_start=row["window_start"],
        deadline=row["deadline"],
        status=row["status"],
        started_at=row["started_at"],
        category_id=row.get("category_id"),
    )


def stop_of(call: QueuedCall) -> Stop:
    return Stop(
        call.id,
        call.location,
        call.duration_minutes * 60.0,
        _ts(call.window_start),
        _ts(call.deadline),
    )


def stop_of_call(call: ServiceCall) -> Stop:
    return stop_of(queued_from(call))


# --- routes, legs and stored fields -------------------------------------------------------------


def start_of(place: TechnicianPlace, day: date) -> Start:
    shift = shift_bounds(day, place.shift_start, place.shift_end)
    return Start(
        home=place.home,
        last=place.last,
        last_seen_at=_ts(place.last_seen_at),
        shift_start=shift[0].timestamp(),
        shift_end=shift[1].timestamp(),
    )


def route_of(
    place: TechnicianPlace, calls: Sequence[QueuedCall], day: date, now: datetime
) -> Route:
    """One technician's queue as a route: the one start rule, work under way pinned first."""
    on_site = calls[0].started_at if calls and calls[0].status == "on_site" else None
    stops = [stop_of(c) for c in calls]
    return _route(place, stops, [c.status for c in calls], _ts(on_site), day, now)


def _route(place, stops, statuses, on_site_since, day: date, now: datetime) -> Route:
    return route_build(
        start_of(place, day),
        stops,
        statuses,
        now=now.timestamp(),
        fresh_for=settings.LOCATION_FRESH_MINUTES * 60.0,
        on_site_since=on_site_since,
    )


# A big day is thousands of queued calls: read as tuples, straight into stops (no dict, no
# QueuedCall per row: a fifth of answering "who should go" at 200 technicians).
_ROW = (*QUEUED_COLUMNS, "promised_eta", "version")
_ID, _TECH, _LAT, _LNG, _MINUTES, _READY, _DUE, _STATUS, _STARTED, _PROMISED, _VERSION = range(11)


def _route_of_rows(place: TechnicianPlace, rows: list[tuple], day: date, now: datetime) -> Route:
    stops = [
        Stop(r[_ID], (r[_LAT], r[_LNG]), r[_MINUTES] * 60.0, _ts(r[_READY]), _ts(r[_DUE]))
        for r in rows
    ]
    on_site = rows[0][_STARTED] if rows and rows[0][_STATUS] == "on_site" else None
    return _route(place, stops, [r[_STATUS] for r in rows], _ts(on_site), day, now)


# --- eligibility facts --------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _shift_words(start: time, end: time) -> tuple[str, str]:
    return start.strftime("%H:%M"), end.strftime("%H:%M")


def _on_call_words(start: datetime, end: datetime) -> str:
    return f"{timezone.localtime(start):%H:%M}-{timezone.localtime(end):%H:%M}"


def worker_of(
    tech: Technician,
    skills: Iterable[str],
    day: date,
    now: datetime,
    on_call: Sequence[tuple[datetime, datetime]] = (),
) -> Worker:
    """``on_call``: the technician's on-call spans around the day (rota.on_call_spans)."""
    start, end = shift_bounds(day, tech.shift_start, tech.shift_end)
    # "Off" is a live status: it marks someone off only on the day it is said, during the shift.
    marked_off = tech.status == "off" and day == timezone.localdate(now)
    return Worker(
        id=tech.pk,
        skills=frozenset(skills),
        shift_start=start.timestamp(),
        shift_end=end.timestamp(),
        shift_words=_shift_words(tech.shift_start, tech.shift_end),
        marked_off=marked_off,
        on_call=tuple((a.timestamp(), b.timestamp()) for a, b in on_call),
        on_call_words=tuple(_on_call_words(a, b) for a, b in on_call),
        team=tech.team_id,
        name=tech.name,
    )


def technician_skills(tech_ids: Iterable[int]) -> dict[int, set[str]]:
    skills: dict[int, set[str]] = defaultdict(set)
    for tech_id, code in Technician.skills.through.objects.filter(
        technician_id__in=list(tech_ids)
    ).values_list("technician_id", "skill__code"):
        skills[tech_id].add(code)
    return skills


def call_skills(call_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for call_id, code in ServiceCall.skills.through.objects.filter(
        servicecall_id__in=list(call_ids)
    ).values_list("servicecall_id", "skill__code"):
        found[call_id].add(code)
    return defaultdict(frozenset, {k: frozenset(v) for k, v in found.items()})


# --- a world of technicians on one day ----------------------------------------------------------


@dataclass
class PlanningWorld:
    """Some technicians' day as the planner sees it (``world``), with what the product needs
    to act on an answer: the technicians themselves and the versions of their queued calls."""

    day: date
    now: datetime
    world: World
    techs: dict[int, Technician]
    versions: dict[int, int]  # queued call id -> version, for the moves an answer proposes


def world_load(
    *, techs: Sequence[Technician], day: date, now: datetime, with_call_skills: bool = False
) -> PlanningWorld:
    """Queues, skills, on-call spans, promises and routes of these technicians on a day (three
    or four queries)."""
    ids = [t.pk for t in techs]
    skills = technician_skills(ids)
    on_call = on_call_spans(ids, day, now)
    rows: dict[int, list[tuple]] = defaultdict(list)
    for row in (
        ServiceCall.objects.filter(
            technician_id__in=ids, scheduled_day=day, status__in=ServiceCall.QUEUED_STATUSES
        )
        .order_by("technician_id", "position", "id")
        .values_list(*_ROW)
    ):
        rows[row[_TECH]].append(row)
    every = [r for queue in rows.values() for r in queue]
    world = World(
        routes={t.pk: _route_of_rows(place_of(t), rows[t.pk], day, now) for t in techs},
        workers={t.pk: worker_of(t, skills[t.pk], day, now, on_call[t.pk]) for t in techs},
        promises=promises_of((r[_ID], r[_PROMISED]) for r in every),
        rules=planning_rules(),
        travel=travel_provider(),
        now=now.timestamp(),
        call_skills=call_skills(r[_ID] for r in every) if with_call_skills else None,
    )
    return PlanningWorld(
        day, now, world, {t.pk: t for t in techs}, {r[_ID]: r[_VERSION] for r in every}
    )
