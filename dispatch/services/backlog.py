"""The backlog alert: add capacity before customers complain (docs/design.md, principle 6).

Each minute (Celery beat, or `recompute_etas --every`) every team is checked: the alert rises
when the team's unassigned backlog of today needs more minutes than its technicians still working
today have left, or when at least BACKLOG_LATE_THRESHOLD of its open calls are projected late. It
names the team's off-shift technicians who could be called in, and clears by itself when the
backlog does. The alert row is the record: raised and cleared times with the figures of each.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dispatch.models import BacklogAlert, ServiceCall
from dispatch.selectors.capacity import team_centroids, team_nearest, works_rest_of_today
from dispatch.selectors.planning import shift_bounds
from technicians.models import Team, Technician


@dataclass(frozen=True)
class TeamBacklog:
    backlog_minutes: int  # unassigned work of today that is this team's
    unassigned_calls: int
    free_minutes: int  # what technicians still working today have left after their queues
    projected_late: int

    @property
    def outgrown(self) -> bool:
        return self.backlog_minutes > self.free_minutes

    @property
    def too_late(self) -> bool:
        return self.projected_late >= settings.BACKLOG_LATE_THRESHOLD

    @property
    def alarming(self) -> bool:
        return self.unassigned_calls > 0 and self.outgrown or self.too_late

    def reason(self) -> str:
        parts = []
        if self.unassigned_calls and self.outgrown:
            parts.append(
                f"{self.unassigned_calls} unassigned call{'s' if self.unassigned_calls > 1 else ''}"
                f" need {self.backlog_minutes} min; the technicians still working today have "
                f"{self.free_minutes} min left"
            )
        if self.too_late:
            parts.append(f"{self.projected_late} open calls are projected late")
        return "; ".join(parts) + "."


def _on_shift(tech: Technician, now: datetime) -> bool:
    start, end = shift_bounds(timezone.localdate(now), tech.shift_start, tech.shift_end)
    return tech.status != "off" and start <= now < end


def _why_off(tech: Technician, now: datetime) -> str:
    start, end = shift_bounds(timezone.localdate(now), tech.shift_start, tech.shift_end)
    if now < start:
        return f"shift starts {timezone.localtime(start):%H:%M}; could start early"
    if now >= end:
        return f"shift ended {timezone.localtime(end):%H:%M}"
    return "marked off today"


def _free_minutes(tech: Technician, last_finish: datetime | None, now: datetime) -> int:
    start, end = shift_bounds(timezone.localdate(now), tech.shift_start, tech.shift_end)
    busy_until = max(now, start, last_finish or now)
    return max(0, int((end - busy_until).total_seconds() // 60))


def team_backlogs(now: datetime) -> tuple[dict[int, TeamBacklog], dict[int, list[Technician]]]:
    """Every team's figures for today, and its technicians. Three queries, whatever the size."""
    today = timezone.localdate(now)
    techs_by_team: dict[int, list[Technician]] = defaultdict(list)
    for tech in Technician.objects.order_by("name", "id"):
        techs_by_team[tech.team_id].append(tech)
    centroids = team_centroids()
    last_finish: dict[int, datetime] = {}
    backlog, unassigned, late = defaultdict(int), defaultdict(int), defaultdict(int)
    calls = ServiceCall.objects.filter(
        scheduled_day=today, status__in=ServiceCall.OPEN_STATUSES
    ).values_list(
        "technician_id",
        "technician__team_id",
        "duration_minutes",
        "planned_finish",
        "risk",
        "site__lat",
        "site__lng",
    )
    for tech_id, team_id, minutes, finish, risk, lat, lng in calls:
        if tech_id is None:
            team_id = team_nearest((lat, lng), centroids)
            backlog[team_id] += minutes
            unassigned[team_id] += 1
        elif finish is not None and (tech_id not in last_finish or finish > last_finish[tech_id]):
            last_finish[tech_id] = finish
        late[team_id] += risk == ServiceCall.Risk.LATE
    figures = {
        team_id: TeamBacklog(
            backlog_minutes=backlog[team_id],
            unassigned_calls=unassigned[team_id],
            # Everyone still working today counts, later shifts included: they are coming.
            free_minutes=sum(
                _free_minutes(t, last_finish.get(t.pk), now)
                for t in techs
                if works_rest_of_today(t, now)
            ),
            projected_late=late[team_id],
        )
        for team_id, techs in techs_by_team.items()
    }
    return figures, techs_by_team


def _call_in(techs: list[Technician], now: datetime) -> list[dict]:
    return [
        {"id": t.pk, "name": t.name, "why": _why_off(t, now)}
        for t in techs
        if not _on_shift(t, now)
    ]


@transaction.atomic
def backlog_check(*, now: datetime) -> tuple[int, int]:
    """Raise, refresh or clear each team's backlog alert; returns (raised, cleared)."""
    # Teams locked in id order: two checks at once (beat and a manual run) take turns.
    list(Team.objects.select_for_update().order_by("id").values_list("id"))
    figures, techs_by_team = team_backlogs(now)
    open_alerts = {a.team_id: a for a in BacklogAlert.objects.filter(cleared_at__isnull=True)}
    raised = cleared = 0
    for team_id, team_figures in figures.items():
        alert = open_alerts.get(team_id)
        data = asdict(team_figures)
        if team_figures.alarming:
            call_in = _call_in(techs_by_team[team_id], now)
            if alert is None:
                _raise(team_id, team_figures, data, call_in, now)
                raised += 1
            else:
                _refresh(alert, team_figures, data, call_in, now)
        elif alert is not None:
            alert.cleared_at, alert.cleared_figures = now, data
            alert.checked_at = now
            alert.save(update_fields=["cleared_at", "cleared_figures", "checked_at"])
            cleared += 1
    return raised, cleared


def _raise(team_id: int, team_figures: TeamBacklog, data: dict, call_in, now) -> None:
    BacklogAlert.objects.create(
        team_id=team_id,
        day=timezone.localdate(now),
        reason=team_figures.reason(),
        raised_at=now,
        raised_figures=data,
        latest_figures=data,
        call_in=call_in,
        checked_at=now,
    )


def _refresh(alert: BacklogAlert, team_figures: TeamBacklog, data: dict, call_in, now) -> None:
    # Written only when something a manager reads changed: a quiet minute writes nothing.
    if alert.latest_figures == data and alert.call_in == call_in:
        return
    alert.latest_figures, alert.call_in = data, call_in
    alert.reason, alert.checked_at = team_figures.reason(), now
    alert.save(update_fields=["latest_figures", "call_in", "reason", "checked_at"])


def backlog_alerts_open() -> list[BacklogAlert]:
    return list(
        BacklogAlert.objects.filter(cleared_at__isnull=True)
        .select_related("team")
        .order_by("team__name")
    )
