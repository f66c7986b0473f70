"""Capacity: a team's working minutes on a day against the work already booked, per skill.

Read-only. Shared by the capacity meter on the booking page, the emergency reserve that normal
bookings may not consume, and the backlog alert, so the three never disagree.

Minutes are work minutes: a technician's remaining shift (today from now, tomorrow the whole
shift) against the remaining duration of open calls. Travel is not counted here; the offered
windows plan real routes with the engine, so the meter is the quick picture and the offers are
the truth.

Unassigned calls belong to no team. Each counts against the team whose technicians' homes are,
on average, nearest its site: what a dispatcher does in their head with a map.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Avg, Q
from django.utils import timezone

from dispatch.models import ServiceCall
from dispatch.planning.eligibility import works_after
from dispatch.selectors.planning import shift_bounds, worker_of
from technicians.models import Skill, Team, Technician

ALL_WORK = ""  # the row for every technician and every call, whatever the skills


@dataclass(frozen=True)
class SkillCapacity:
    skill: str  # a skill code, or ALL_WORK
    label: str
    available_minutes: int
    booked_minutes: int
    reserve_minutes: int

    @property
    def normal_free_minutes(self) -> int:
        """What a normal booking may still take: the reserve stays for emergencies."""
        return max(0, self.available_minutes - self.reserve_minutes - self.booked_minutes)

    @property
    def emergency_free_minutes(self) -> int:
        return max(0, self.available_minutes - self.booked_minutes)

    @property
    def booked_percent(self) -> int:
        if not self.available_minutes:
            return 100 if self.booked_minutes else 0
        return round(100 * self.booked_minutes / self.available_minutes)

    @property
    def reserve_percent(self) -> int:
        if not self.available_minutes:
            return 0
        return round(100 * self.reserve_minutes / self.available_minutes)

    @property
    def over_minutes(self) -> int:
        """Booked beyond what is available (0 when it fits)."""
        return max(0, self.booked_minutes - self.available_minutes)

    @property
    def meter_max(self) -> int:
        # A meter clamps its value to max: 1470 booked of 90 drew a full, green bar. Over
        # capacity the scale is the booked work, so the bar reaches past the `high` mark (red).
        return max(self.available_minutes, self.booked_minutes, 1)

    @property
    def meter_high(self) -> int:
        """Where the reserve begins: a bar past it is a warning, past the capacity an alarm."""
        return max(0, self.available_minutes - self.reserve_minutes)


@dataclass
class DayCapacity:
    day: date
    rows: list[SkillCapacity] = field(default_factory=list)

    def row(self, skill: str) -> SkillCapacity | None:
        return next((r for r in self.rows if r.skill == skill), None)


def reserve_percent() -> int:
    return settings.EMERGENCY_RESERVE_PERCENT


def team_centroids() -> dict[int, tuple[float, float]]:
    """Each team's mean home base (one query)."""
    rows = Technician.objects.values("team_id").annotate(lat=Avg("home_lat"), lng=Avg("home_lng"))
    return {r["team_id"]: (r["lat"], r["lng"]) for r in rows}


def team_nearest(location: tuple[float, float], centroids: dict[int, tuple[float, float]]):
    """The team whose homes are nearest on average (flat distance is enough to choose)."""
    if not centroids:
        return None
    lat, lng = location
    return min(centroids, key=lambda t: (centroids[t][0] - lat) ** 2 + (centroids[t][1] - lng) ** 2)


def works_rest_of_today(tech: Technician, now: datetime) -> bool:
    """Whether a technician still works today (the eligibility rule: the shift is not over and
    they are not marked off during it; before the shift "off" is just the night)."""
    return works_after(worker_of(tech, (), timezone.localdate(now), now), now.timestamp())


def technician_minutes(tech: Technician, day: date, now: datetime) -> int:
    """Working minutes left in a technician's shift on `day` (none today when not working)."""
    today = timezone.localdate(now)
    if day < today or (day == today and not works_rest_of_today(tech, now)):
        return 0
    start, end = shift_bounds(day, tech.shift_start, tech.shift_end)
    start = max(start, now)
    return max(0, int((end - start).total_seconds() // 60))


def call_minutes_left(call: ServiceCall, now: datetime) -> int:
    """The work still to do on an open call: all of it, or the rest once on site."""
    if call.status == "on_site" and call.started_at is not None:
        done = (now - call.started_at).total_seconds() / 60
        return max(0, round(call.duration_minutes - done))
    return call.duration_minutes


def open_calls_of_team(
    *, team: Team, days: Sequence[date], centroids: dict[int, tuple[float, float]]
) -> list[ServiceCall]:
    """Open calls of the days in the team's queues, and the unassigned ones nearest the team.

    Two queries (calls with their sites, and their skills), whatever the number of calls.
    """
    calls = (
        ServiceCall.objects.filter(scheduled_day__in=days, status__in=ServiceCall.OPEN_STATUSES)
        .filter(Q(technician__team=team) | Q(technician__isnull=True))
        .select_related("site")
        .prefetch_related("skills")
        .order_by("technician_id", "position", "id")
    )
    return [
        c
        for c in calls
        if c.technician_id is not None
        or team_nearest((c.site.lat, c.site.lng), centroids) == team.pk
    ]


def capacity_for_day(
    *,
    day: date,
    technicians: Iterable[Technician],
    calls: Iterable[ServiceCall],
    now: datetime,
    skill_names: dict[str, str],
) -> DayCapacity:
    """The meter's rows for one day from loaded technicians (skills prefetched) and calls."""
    available: dict[str, int] = defaultdict(int)
    booked: dict[str, int] = defaultdict(int)
    for tech in technicians:
        minutes = technician_minutes(tech, day, now)
        available[ALL_WORK] += minutes
        for skill in tech.skills.all():
            available[skill.code] += minutes
    for call in calls:
        if call.scheduled_day != day:
            continue
        minutes = call_minutes_left(call, now)
        booked[ALL_WORK] += minutes
        for skill in call.skills.all():
            booked[skill.code] += minutes
    percent = reserve_percent()
    codes = [ALL_WORK, *sorted(skill_names)]
    return DayCapacity(
        day=day,
        rows=[
            SkillCapacity(
                skill=code,
                label=skill_names.get(code, "All work"),
                available_minutes=available[code],
                booked_minutes=booked[code],
                reserve_minutes=round(available[code] * percent / 100),
            )
            for code in codes
            if code == ALL_WORK or available[code] or booked[code]
        ],
    )


def reserve_refusal(
    capacity: DayCapacity, *, skills: Iterable[str], duration_minutes: int, priority: str
) -> str | None:
    """Why a call may not be booked on this day without eating the emergency reserve (or None).

    Emergencies may use the reserve; every other priority counts as a normal booking.
    """
    for code in [ALL_WORK, *sorted(skills)]:
        row = capacity.row(code)
        if row is None:
            return f"Nobody with the skill '{code}' works on this team that day."
        free = row.emergency_free_minutes if priority == "emergency" else row.normal_free_minutes
        if duration_minutes > free and row.available_minutes == 0 and code == ALL_WORK:
            # Not a reserve that is used up: there is no shift time at all (after hours).
            return "No shift time left on this team that day: every shift is over or off."
        if duration_minutes > free:
            if priority == "emergency":
                return f"{row.label}: only {free} min left, even using the emergency reserve."
            return (
                f"{row.label}: only {free} min left outside the emergency reserve "
                f"({row.reserve_minutes} min kept for emergencies)."
            )
    return None


@dataclass
class TeamLoad:
    """A team's technicians (skills loaded) and open calls of some days: the input of both the
    capacity meter and the window search, loaded in five queries."""

    technicians: list[Technician]
    calls: list[ServiceCall]
    skill_names: dict[str, str]


def team_load(*, team: Team, days: Sequence[date]) -> TeamLoad:
    return TeamLoad(
        technicians=list(
            Technician.objects.filter(team=team).prefetch_related("skills").order_by("id")
        ),
        calls=open_calls_of_team(team=team, days=days, centroids=team_centroids()),
        skill_names=dict(Skill.objects.values_list("code", "name")),
    )


def capacity_days(*, load: TeamLoad, days: Sequence[date], now: datetime) -> list[DayCapacity]:
    return [
        capacity_for_day(
            day=day,
            technicians=load.technicians,
            calls=load.calls,
            now=now,
            skill_names=load.skill_names,
        )
        for day in days
    ]


def capacity_get(*, team: Team, now: datetime) -> list[DayCapacity]:
    """The meter for today and tomorrow (the booking page's two days)."""
    today = timezone.localdate(now)
    days = [today, today + timedelta(days=1)]
    return capacity_days(load=team_load(team=team, days=days), days=days, now=now)
