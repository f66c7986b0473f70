"""The board as a week: one row per technician, one column per day, each cell the technician's
open calls of that day (compact: number, summary, risk, minutes), and each day's unassigned calls.

Seven days from the board's day (the day shown first, so "this week" from today reads today and
the six days after it, and tomorrow's column is always second). Read in a fixed number of queries
whatever the size of the team: the technicians, the week's calls, the teams.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q

from common import roles
from common.errors import NotAllowed
from dispatch.models import ServiceCall
from dispatch.selectors import calls_visible_to, technicians_visible_to
from technicians.models import Team, Technician

WEEK_DAYS = 7

WEEK_CARD_FIELDS = (
    "id",
    "summary",
    "status",
    "priority",
    "risk",
    "slack_minutes",
    "p_late",
    "duration_minutes",
    "version",
    "technician_id",
    "position",
    "scheduled_day",
    "window_start",
    "deadline",
    "eta",
    "reschedule_count",
    "customer__name",
)


@dataclass(slots=True)
class WeekCard:
    """One call as its week cell shows it (fields in WEEK_CARD_FIELDS order)."""

    id: int
    summary: str
    status: str
    priority: str
    risk: str
    slack_minutes: float | None
    p_late: float | None
    duration_minutes: int
    version: int
    technician_id: int | None
    position: int | None
    scheduled_day: date
    window_start: datetime | None
    deadline: datetime | None
    eta: datetime | None
    reschedule_count: int
    customer_name: str

    @property
    def pk(self) -> int:
        return self.id

    @property
    def under_way(self) -> bool:
        return self.status in ("en_route", "on_site")


@dataclass(slots=True)
class WeekCell:
    day: date
    technician: Technician | None  # None: the day's unassigned calls
    calls: list[WeekCard] = field(default_factory=list)

    @property
    def booked_minutes(self) -> int:
        return sum(c.duration_minutes for c in self.calls)

    @property
    def shift_minutes(self) -> int | None:
        if self.technician is None:
            return None
        start, end = self.technician.shift_start, self.technician.shift_end
        return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)

    @property
    def over_shift(self) -> bool:
        shift = self.shift_minutes
        return shift is not None and self.booked_minutes > shift

    @property
    def risky(self) -> int:
        return sum(1 for c in self.calls if c.risk in ("at_risk", "late"))


@dataclass(slots=True)
class WeekRow:
    technician: Technician
    cells: list[WeekCell]

    @property
    def booked_minutes(self) -> int:
        return sum(c.booked_minutes for c in self.cells)


@dataclass
class Week:
    first: date
    days: list[date]
    today: date
    team: Team | None
    teams: list[Team]
    rows: list[WeekRow]
    unassigned: list[WeekCell]

    @property
    def last(self) -> date:
        return self.days[-1]

    @property
    def call_count(self) -> int:
        return sum(len(c.calls) for c in self.unassigned) + sum(
            len(cell.calls) for row in self.rows for cell in row.cells
        )


def week_days(first: date) -> list[date]:
    return [first + timedelta(days=i) for i in range(WEEK_DAYS)]


def week_get(*, user, first: date, team: Team | None, today: date) -> Week:
    """The week from `first` for one team (None: every team): the technicians, the week's calls
    and the teams, three queries (and the user's roles, read once per request) at any size."""
    if not roles.is_office(user):
        raise NotAllowed("The week view is the office's board.")
    days = week_days(first)
    techs = technicians_visible_to(user).select_related(None).prefetch_related(None)
    if team is not None:
        techs = techs.filter(team=team)
    techs = list(techs.order_by("team__name", "name", "pk"))
    index = {d: i for i, d in enumerate(days)}
    rows = {t.pk: WeekRow(t, [WeekCell(d, t) for d in days]) for t in techs}
    unassigned = [WeekCell(d, None) for d in days]
    where = Q(technician__in=list(rows))
    # A team's unassigned calls are those its technicians last had, and those nobody had.
    waiting = Q(technician__isnull=True)
    if team is not None:
        waiting &= Q(team=team) | Q(team__isnull=True)
    calls = (
        calls_visible_to(user)
        .select_related(None)
        .prefetch_related(None)
        .filter(
            scheduled_day__gte=days[0],
            scheduled_day__lte=days[-1],
            status__in=ServiceCall.OPEN_STATUSES,
        )
        .filter(where | waiting)
        .order_by("scheduled_day", "position", "deadline", "id")
        .values_list(*WEEK_CARD_FIELDS)
    )
    for values in calls:
        card = WeekCard(*values)
        if card.technician_id is None:
            unassigned[index[card.scheduled_day]].calls.append(card)
        else:
            rows[card.technician_id].cells[index[card.scheduled_day]].calls.append(card)
    return Week(
        first=first,
        days=days,
        today=today,
        team=team,
        teams=list(Team.objects.order_by("name")),
        rows=list(rows.values()),
        unassigned=unassigned,
    )
