"""The automatic escalation rules, run each minute (Celery beat, or `recompute_etas --every`).

Each rule names the calls it would escalate and says why in words a manager reads on the queue
("Deadline at risk: ETA 14:20 against 14:00"). A rule never re-raises a call whose last
escalation a manager resolved, unless something new happened since: the risk got worse than it
was when the manager decided (at risk -> late), a new risk spell began, or the deadline moved.
A person escalating by hand (the customer complained again) is never held back by this.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from common import clock
from dispatch.models import Escalation, ServiceCall
from dispatch.planning.risk import RISK_RANK
from dispatch.selectors.waiting import waiting_since
from dispatch.services.escalations.raising import escalation_raise


def _rank(field: str) -> Case:
    return Case(
        *(When(**{field: risk}, then=Value(rank)) for risk, rank in RISK_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


def _open_calls() -> QuerySet[ServiceCall]:
    """Open calls a rule may escalate: none already open, none a manager has settled."""
    last = Escalation.objects.filter(
        call=OuterRef("pk"), status=Escalation.Status.RESOLVED
    ).order_by("-resolved_at", "-id")
    calls = (
        ServiceCall.objects.filter(status__in=ServiceCall.OPEN_STATUSES)
        .exclude(escalations__status=Escalation.Status.OPEN)
        .annotate(
            settled_at=Subquery(last.values("resolved_at")[:1]),
            settled_risk=Subquery(last.values("risk_at_resolution")[:1]),
            settled_deadline=Subquery(last.values("deadline_at_resolution")[:1]),
        )
        .annotate(risk_rank=_rank("risk"), settled_rank=_rank("settled_risk"))
    )
    # Escalations resolved before the baseline was kept (settled_at set, risk blank) compare as
    # "ok": any risk since then counts as new, the behaviour from before.
    deadline_moved = (
        Q(deadline__isnull=True, settled_deadline__isnull=False)
        | Q(deadline__isnull=False, settled_deadline__isnull=True)
        | (
            Q(deadline__isnull=False, settled_deadline__isnull=False)
            & ~Q(deadline=F("settled_deadline"))
        )
    )
    something_new = (
        Q(risk_rank__gt=F("settled_rank")) | Q(risk_since__gt=F("settled_at")) | deadline_moved
    )
    return calls.filter(Q(settled_at__isnull=True) | something_new)


def _clock(value: datetime | None) -> str:
    return "—" if value is None else f"{timezone.localtime(value):%H:%M}"


def _duration(since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _unattended_at_risk(now: datetime) -> list[tuple[int, str]]:
    """At risk or late, and nobody has touched the call since the risk began, for N minutes."""
    cutoff = now - timedelta(minutes=settings.ESCALATE_AT_RISK_AFTER_MINUTES)
    calls = _open_calls().filter(
        risk__in=["at_risk", "late"], risk_since__lte=cutoff, updated_at__lte=cutoff
    )
    found = []
    for pk, risk, eta, deadline in calls.values_list("id", "risk", "eta", "deadline"):
        words = "Late" if risk == "late" else "Deadline at risk"
        if eta is None:
            found.append((pk, f"{words}: unassigned, deadline {_clock(deadline)}"))
        else:
            found.append((pk, f"{words}: ETA {_clock(eta)} against {_clock(deadline)}"))
    return found


def _unassigned_emergencies(now: datetime) -> list[tuple[int, str]]:
    cutoff = now - timedelta(minutes=settings.ESCALATE_EMERGENCY_UNASSIGNED_MINUTES)
    calls = _open_calls().filter(priority="emergency", status="new", created_at__lte=cutoff)
    return [
        (pk, f"Emergency unassigned for {_duration(created, now)}")
        for pk, created in calls.values_list("id", "created_at")
    ]


def _aged(now: datetime) -> list[tuple[int, str]]:
    """Waiting (not yet started) past the aging bound of its priority: nobody is forgotten.

    A call waits from when it could be worked: booked, its day begun and its window open. A
    call booked last week for today is an appointment, not a forgotten customer.
    """
    waiting = Q()
    for priority, hours in settings.AGING_HOURS.items():
        since = now - timedelta(hours=hours)
        waiting |= Q(
            Q(window_start__isnull=True) | Q(window_start__lte=since),
            priority=priority,
            created_at__lte=since,
            scheduled_day__lte=timezone.localdate(since),
        )
    calls = _open_calls().filter(status__in=["new", "assigned"]).filter(waiting)
    found = []
    rows = calls.values_list("id", "status", "created_at", "window_start", "scheduled_day")
    for pk, status, created, window_start, day in rows:
        waited = _duration(waiting_since(created, window_start, day), now)
        where = "unassigned" if status == "new" else "assigned, not started"
        found.append((pk, f"Waiting {waited} {where}"))
    return found


RULES: tuple[tuple[Callable[[datetime], list[tuple[int, str]]], str], ...] = (
    (_unassigned_emergencies, Escalation.Reason.SAFETY),
    (_unattended_at_risk, Escalation.Reason.DEADLINE_RISK),
    (_aged, Escalation.Reason.AGING),
)


def escalations_check(*, now: datetime | None = None) -> int:
    """Apply every auto-escalation rule once; returns escalations opened. Idempotent."""
    now = now or clock.now()
    opened = 0
    for rule, reason in RULES:
        for call_id, note in rule(now):
            opened += (
                escalation_raise(call_id=call_id, reason=reason, note=note, now=now) is not None
            )
    return opened
