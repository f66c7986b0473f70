"""Read-only queries for the manager's dashboard and the concessions report.

Everything here aggregates in the database and runs a fixed number of queries, whatever the
amount of data: the dashboard is five queries, the concessions report one.

Periods are whole local days (settings.TIME_ZONE). A call belongs to the days of its
`scheduled_day`; an escalation's concession belongs to the local day it was resolved.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from common import clock
from dispatch.models import Escalation, ServiceCall
from technicians.models import Technician

WEEK_DAYS = 7
BOOKED_STATUSES = (*ServiceCall.QUEUED_STATUSES, ServiceCall.Status.COMPLETED)


def local_start(day: date) -> datetime:
    """Midnight at the start of `day` in the company's time zone, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) of the local days first..last inclusive."""
    return local_start(first), local_start(last + timedelta(days=1))


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class PeriodFigures:
    label: str
    first: date
    last: date
    completed_with_deadline: int = 0
    on_time: int = 0
    arrived: int = 0
    mean_wait: timedelta | None = None
    worst_wait: timedelta | None = None
    reschedules: int = 0
    cancelled: int = 0
    concessions: int = 0
    concession_labor_hours: Decimal = Decimal(0)
    concession_mean_discount: Decimal | None = None

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.on_time, self.completed_with_deadline)


@dataclass
class DayOnTime:
    day: date
    completed_with_deadline: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return _ratio(self.on_time, self.completed_with_deadline)


@dataclass
class TechUtilisation:
    technician_id: int
    name: str
    booked_minutes: int
    shift_minutes: int

    @property
    def rate(self) -> float | None:
        return _ratio(self.booked_minutes, self.shift_minutes)


@dataclass
class Dashboard:
    today: date
    now: datetime
    periods: list[PeriodFigures]
    at_risk_now: int
    late_now: int
    open_escalations: int
    oldest_escalation_age: timedelta | None
    median_escalation_age: timedelta | None
    on_time_by_day: list[DayOnTime] = field(default_factory=list)
    utilisation: list[TechUtilisation] = field(default_factory=list)


def _arrival():
    # The technician's arrival is `started_at`; a completed call that never recorded it (an old
    # or hand-closed record) falls back to its completion, which is no earlier than arrival.
    return Coalesce("started_at", "completed_at")


def _wait():
    return ExpressionWrapper(F("started_at") - F("created_at"), output_field=DurationField())


def _call_aggregates(prefix: str, first: date, last: date) -> dict:
    in_period = Q(scheduled_day__gte=first, scheduled_day__lte=last)
    scored = in_period & Q(status=ServiceCall.Status.COMPLETED, deadline__isnull=False)
    arrived = in_period & Q(started_at__isnull=False)
    return {
        f"{prefix}_scored": Count("id", filter=scored),
        f"{prefix}_on_time": Count("id", filter=scored & Q(arrival__lte=F("deadline"))),
        f"{prefix}_arrived": Count("id", filter=arrived),
        f"{prefix}_mean_wait": Avg(_wait(), filter=arrived),
        f"{prefix}_worst_wait": Max(_wait(), filter=arrived),
        f"{prefix}_reschedules": Sum("reschedule_count", filter=in_period),
        f"{prefix}_cancelled": Count(
            "id", filter=in_period & Q(status=ServiceCall.Status.CANCELLED)
        ),
    }


def _concession_aggregates(prefix: str, first: date, last: date) -> dict:
    start, end = day_bounds(first, last)
    given = Q(resolved_at__gte=start, resolved_at__lt=end)
    return {
        f"{prefix}_count": Count("id", filter=given),
        f"{prefix}_labor": Sum("concession_labor_hours", filter=given),
        f"{prefix}_discount": Avg("concession_discount_percent", filter=given),
    }


def concessions_queryset():
    """Resolved escalations that gave goodwill (free labor or a discount)."""
    return Escalation.objects.filter(status=Escalation.Status.RESOLVED).filter(
        Q(concession_labor_hours__isnull=False) | Q(concession_discount_percent__isnull=False)
    )


def dashboard_get(*, now: datetime) -> Dashboard:
    """Today's and the last 7 days' figures (the 7 local days ending today). Five queries."""
    today = timezone.localdate(now)
    week_first = today - timedelta(days=WEEK_DAYS - 1)
    spans = [("today", "Today", today), ("week", "Last 7 days", week_first)]
    open_risky = Q(status__in=ServiceCall.OPEN_STATUSES)

    # 1. Calls: both periods plus the open calls at risk or late now, in one pass.
    calls = (
        ServiceCall.objects.filter(
            Q(scheduled_day__gte=week_first, scheduled_day__lte=today)
            | (open_risky & Q(risk__in=[ServiceCall.Risk.AT_RISK, ServiceCall.Risk.LATE]))
        )
        .annotate(arrival=_arrival())
        .aggregate(
            at_risk_now=Count("id", filter=open_risky & Q(risk=ServiceCall.Risk.AT_RISK)),
            late_now=Count("id", filter=open_risky & Q(risk=ServiceCall.Risk.LATE)),
            **{
                k: v
                for prefix, _, first in spans
                for k, v in _call_aggregates(prefix, first, today).items()
            },
        )
    )

    # 2. Concessions given, by the day the escalation was resolved.
    start, end = day_bounds(week_first, today)
    concessions = (
        concessions_queryset()
        .filter(resolved_at__gte=start, resolved_at__lt=end)
        .aggregate(
            **{
                k: v
                for prefix, _, first in spans
                for k, v in _concession_aggregates(prefix, first, today).items()
            }
        )
    )

    periods = []
    for prefix, label, first in spans:
        periods.append(
            PeriodFigures(
                label=label,
                first=first,
                last=today,
                completed_with_deadline=calls[f"{prefix}_scored"],
                on_time=calls[f"{prefix}_on_time"],
                arrived=calls[f"{prefix}_arrived"],
                mean_wait=calls[f"{prefix}_mean_wait"],
                worst_wait=calls[f"{prefix}_worst_wait"],
                reschedules=calls[f"{prefix}_reschedules"] or 0,
                cancelled=calls[f"{prefix}_cancelled"],
                concessions=concessions[f"{prefix}_count"],
                concession_labor_hours=concessions[f"{prefix}_labor"] or Decimal(0),
                concession_mean_discount=concessions[f"{prefix}_discount"],
            )
        )

    # 3. On-time rate per day of the week.
    per_day = {
        row["scheduled_day"]: row
        for row in ServiceCall.objects.filter(
            scheduled_day__gte=week_first,
            scheduled_day__lte=today,
            status=ServiceCall.Status.COMPLETED,
            deadline__isnull=False,
        )
        .annotate(arrival=_arrival())
        .values("scheduled_day")
        .annotate(scored=Count("id"), on_time=Count("id", filter=Q(arrival__lte=F("deadline"))))
        .order_by("scheduled_day")
    }
    on_time_by_day = []
    for offset in range(WEEK_DAYS):
        day = week_first + timedelta(days=offset)
        row = per_day.get(day, {"scored": 0, "on_time": 0})
        on_time_by_day.append(DayOnTime(day, row["scored"], row["on_time"]))

    # 4. Open escalations and their ages. At most one is open per call, so the list is short;
    # the median is taken here because it has no portable SQL aggregate (PostgreSQL and SQLite).
    opened = list(
        Escalation.objects.filter(status=Escalation.Status.OPEN)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    ages = [max(now - created, timedelta(0)) for created in opened]

    # 5. Utilisation today: booked minutes of queued and completed calls over the shift.
    techs = Technician.objects.annotate(
        booked=Sum(
            "calls__duration_minutes",
            filter=Q(calls__scheduled_day=today, calls__status__in=BOOKED_STATUSES),
        )
    ).order_by("name", "id")
    utilisation = [
        TechUtilisation(
            technician_id=tech.pk,
            name=tech.name,
            booked_minutes=tech.booked or 0,
            shift_minutes=_shift_minutes(tech),
        )
        for tech in techs
    ]

    return Dashboard(
        today=today,
        now=now,
        periods=periods,
        at_risk_now=calls["at_risk_now"],
        late_now=calls["late_now"],
        open_escalations=len(ages),
        oldest_escalation_age=ages[0] if ages else None,
        median_escalation_age=statistics.median(ages) if ages else None,
        on_time_by_day=on_time_by_day,
        utilisation=utilisation,
    )


def _shift_minutes(tech: Technician) -> int:
    start = tech.shift_start.hour * 60 + tech.shift_start.minute
    end = tech.shift_end.hour * 60 + tech.shift_end.minute
    return max(end - start, 0)


def concessions_report(*, first: date, last: date) -> list[Escalation]:
    """Goodwill given in the local days first..last (by resolution time), oldest first. One
    query."""
    start, end = day_bounds(first, last)
    return list(
        concessions_queryset()
        .filter(resolved_at__gte=start, resolved_at__lt=end)
        .select_related("call__customer", "resolved_by")
        .order_by("resolved_at", "id")
    )


# --- booking: turned-away calls and backlog alerts (outside dashboard_get's five queries) ------


def turned_away_counts(*, today: date) -> dict[str, int]:
    """Callers turned away today and in the last 7 local days (by when they called). One query."""
    from dispatch.models import TurnedAwayCall

    week_first = today - timedelta(days=WEEK_DAYS - 1)
    start, end = day_bounds(week_first, today)
    today_start = local_start(today)
    return TurnedAwayCall.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        today=Count("id", filter=Q(created_at__gte=today_start)),
        week=Count("id"),
    )


def backlog_alerts_recent(*, limit: int = 10, now: datetime | None = None) -> list:
    """Open backlog alerts first, then the latest cleared ones, with their teams; each open one
    with who is on call for its team now (``on_call_words``). One query, two with open alerts."""
    from dispatch.models import BacklogAlert
    from dispatch.selectors.rota import on_call_words

    alerts = list(
        BacklogAlert.objects.select_related("team").order_by(
            F("cleared_at").desc(nulls_first=True), "-raised_at", "-id"
        )[:limit]
    )
    open_alerts = [a for a in alerts if a.cleared_at is None]
    if open_alerts:
        words = on_call_words({a.team_id for a in open_alerts}, now or clock.now())
        for alert in open_alerts:
            alert.on_call_words = words[alert.team_id]
    return alerts
