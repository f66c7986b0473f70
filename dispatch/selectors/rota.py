"""Reads of the on-call rota: spans for the planning adapter, who is on call now for a team, and
the upcoming rota a manager edits on `/rota/` (behind the door ``rota_visible_to``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from common import roles
from common.errors import NotAllowed, NotFound
from technicians.models import OnCallShift, Team, Technician

# How far ahead the rota page lists, and how far back (a span under way started earlier).
ROTA_DAYS_AHEAD = 14
# A span that starts at or after this hour is "tonight" on the phone ("today" before it).
EVENING_STARTS = 17


def live_shifts() -> QuerySet[OnCallShift]:
    """Spans still on the rota (a removed one is kept only as the record)."""
    return OnCallShift.objects.filter(removed_at__isnull=True)


def day_span(day: date, now: datetime) -> tuple[datetime, datetime]:
    """The local day, stretched to hold ``now`` (a call of today asked about after midnight)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(day, datetime.min.time(), tz)
    end = start + timedelta(days=1)
    return min(start, now), max(end, now + timedelta(seconds=1))


def on_call_spans(
    tech_ids: Iterable[int], day: date, now: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each technician's on-call spans overlapping the day (and now), in start order. One query
    for every technician asked about."""
    start, end = day_span(day, now)
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    rows = (
        live_shifts()
        .filter(technician_id__in=list(tech_ids), starts_at__lt=end, ends_at__gt=start)
        .order_by("starts_at", "id")
        .values_list("technician_id", "starts_at", "ends_at")
    )
    for tech_id, starts_at, ends_at in rows:
        spans[tech_id].append((starts_at, ends_at))
    return spans


def on_call_line(spans: Iterable[tuple[datetime, datetime]], now: datetime) -> str:
    """What the on-call technician's phone says of their own rota (spans as `on_call_spans`
    reads them): "On call until 08:00" inside a span (the day named when it ends after
    tomorrow), "On call tonight 17:00–08:00" before one that starts later today ("today" before
    17:00), else nothing."""
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate(now, tz)
    for starts_at, ends_at in sorted(spans):
        start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
        if start <= now < end:
            day = f"{end:%a} " if end.date() > today + timedelta(days=1) else ""
            return f"On call until {day}{end:%H:%M}"
        if now < start and start.date() == today:
            when = "tonight" if start.hour >= EVENING_STARTS else "today"
            return f"On call {when} {start:%H:%M}–{end:%H:%M}"
    return ""


def on_call_now(team_ids: Iterable[int], now: datetime) -> dict[int, list[OnCallShift]]:
    """Who is on call for each team at ``now`` (several when spans overlap). One query."""
    found: dict[int, list[OnCallShift]] = defaultdict(list)
    shifts = (
        live_shifts()
        .filter(team_id__in=list(team_ids), starts_at__lte=now, ends_at__gt=now)
        .select_related("technician")
        .order_by("ends_at", "technician__name", "id")
    )
    for shift in shifts:
        found[shift.team_id].append(shift)
    return found


# --- the manager's rota page ---------------------------------------------------------------------


@dataclass
class TeamRota:
    team: Team
    shifts: list[OnCallShift]


def rota_visible_to(user) -> None:
    """The door of `/rota/`: managers only."""
    if not roles.can_edit_rota(user):
        raise NotAllowed("Only a manager can see and change the on-call rota.")


def rota_get(*, user, now: datetime) -> list[TeamRota]:
    """Every team's on-call spans from now to ROTA_DAYS_AHEAD ahead (under way ones too)."""
    rota_visible_to(user)
    by_team: dict[int, list[OnCallShift]] = defaultdict(list)
    shifts = (
        live_shifts()
        .filter(ends_at__gt=now, starts_at__lt=now + timedelta(days=ROTA_DAYS_AHEAD))
        .select_related("technician", "created_by")
        .order_by("starts_at", "technician__name", "id")
    )
    for shift in shifts:
        by_team[shift.team_id].append(shift)
    return [TeamRota(team, by_team[team.pk]) for team in Team.objects.order_by("name")]


def rota_technicians(*, user) -> list[Technician]:
    """Who may be put on call: every technician, by team then name."""
    rota_visible_to(user)
    return list(Technician.objects.select_related("team").order_by("team__name", "name", "id"))


def rota_shift_get_for_user(*, user, shift_id: int, for_update: bool = False) -> OnCallShift:
    """One live span of the rota, for a manager; anyone else is refused first."""
    rota_visible_to(user)
    shifts = live_shifts().select_related("technician")
    if for_update:
        shifts = shifts.select_for_update(of=("self",))
    try:
        return shifts.get(pk=shift_id)
    except (OnCallShift.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"On-call span {shift_id} was not found.") from None


def _until(value: datetime) -> str:
    return f"{timezone.localtime(value):%H:%M}"


def on_call_words(team_ids: Iterable[int], now: datetime) -> dict[int, str]:
    """Each team's on-call line for a backlog alert, "On call: Tom (until 08:00)"; when nobody
    is on call now, who is next within a day. One query for every team asked about."""
    team_ids = list(team_ids)
    now_on: dict[int, list[OnCallShift]] = defaultdict(list)
    upcoming: dict[int, OnCallShift] = {}
    shifts = (
        live_shifts()
        .filter(team_id__in=team_ids, ends_at__gt=now, starts_at__lt=now + timedelta(days=1))
        .select_related("technician")
        .order_by("starts_at", "technician__name", "id")
    )
    for shift in shifts:
        if shift.starts_at <= now:
            now_on[shift.team_id].append(shift)
        else:
            upcoming.setdefault(shift.team_id, shift)
    words = {}
    for team_id in team_ids:
        if now_on[team_id]:
            names = ", ".join(
                f"{s.technician.name} (until {_until(s.ends_at)})" for s in now_on[team_id]
            )
            words[team_id] = f"On call: {names}"
        elif team_id in upcoming:
            s = upcoming[team_id]
            words[team_id] = (
                f"On call: nobody now; next {s.technician.name} from {_until(s.starts_at)} "
                f"(until {_until(s.ends_at)})"
            )
        else:
            words[team_id] = "On call: nobody in the next 24 hours"
    return words
