"""The demo's on-call rota: each team has someone on call every night (17:00-08:00) and all
weekend, for the demo week (Monday to Sunday, and the Sunday before, so the first morning is
covered), the team's technicians taking turns."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from dispatch.demo.plan import company_tz
from technicians.models import OnCallShift, Technician

NIGHT_STARTS = time(17, 0)
MORNING = time(8, 0)


def rota_spans(day: date) -> list[tuple[datetime, datetime]]:
    """The week's on-call spans in order: weekday nights, whole weekend days."""
    tz = company_tz()
    monday = day - timedelta(days=day.weekday())
    spans = []
    for offset in range(-1, 7):
        d = monday + timedelta(days=offset)
        starts = NIGHT_STARTS if d.weekday() < 5 else MORNING
        spans.append(
            (
                datetime.combine(d, starts, tz),
                datetime.combine(d + timedelta(days=1), MORNING, tz),
            )
        )
    return spans


def save_rota(day: date, techs: list[Technician], now: datetime) -> list[OnCallShift]:
    by_team: dict[int, list[Technician]] = defaultdict(list)
    for tech in techs:
        by_team[tech.team_id].append(tech)
    rows = [
        OnCallShift(
            technician=team_techs[i % len(team_techs)],
            team_id=team_id,
            starts_at=start,
            ends_at=end,
            note="demo rota",
            created_at=now,
        )
        for team_id, team_techs in by_team.items()
        for i, (start, end) in enumerate(rota_spans(day))
    ]
    return OnCallShift.objects.bulk_create(rows)
