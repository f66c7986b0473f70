"""Escalations: raising one (by a person or a system rule) and the rules that raise them.

Escalation raises priority and puts a manager in charge; it is never a referral. At most one
escalation per call is open at a time (a partial unique index guarantees it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from common import clock, roles
from common.errors import InvalidInput, MoveConflict
from customers.messaging import customer_update_queue
from dispatch.models import Escalation, ServiceCall
from dispatch.selectors import call_get_for_user
from dispatch.selectors.escalations import escalation_get_for_user
from dispatch.services.events import event_record
from dispatch.services.moves import call_move_within, with_retries

# One step up per escalation; a safety escalation goes straight to emergency.
PRIORITY_UP = {"low": "normal", "normal": "high", "high": "high", "emergency": "emergency"}


def _raised_priority(current: str, reason: str) -> str:
    return "emergency" if reason == Escalation.Reason.SAFETY else PRIORITY_UP[current]


def escalation_raise(
    *, call_id: int, reason: str, note: str = "", user=None, now: datetime | None = None
) -> Escalation | None:
    """Open an escalation and raise the call's priority; None if one is already open."""
    now = now or clock.now()
    try:
        with transaction.atomic():
            call = ServiceCall.objects.select_for_update().get(pk=call_id)
            raised_by = user if user is not None and user.is_authenticated else None
            escalation = Escalation.objects.create(
                call=call, reason=reason, note=note, raised_by=raised_by
            )
            before = call.priority
            call.priority = _raised_priority(call.priority, reason)
            call.save(update_fields=["priority", "updated_at"])
            event_record(
                call=call,
                actor=raised_by,
                kind="escalated",
                escalation=escalation.pk,
                reason=reason,
                note=note,
                by="system" if raised_by is None else raised_by.get_username(),
                priority={"before": before, "after": call.priority},
                at=now,
            )
            return escalation
    except IntegrityError:
        return None  # an escalation for this call is already open: never a duplicate


def _open_calls():
    return ServiceCall.objects.filter(status__in=ServiceCall.OPEN_STATUSES).exclude(
        escalations__status=Escalation.Status.OPEN
    )


def _unattended_at_risk(now: datetime) -> list[int]:
    """At risk or late, and nobody has touched the call since the risk began, for N minutes."""
    cutoff = now - timedelta(minutes=settings.ESCALATE_AT_RISK_AFTER_MINUTES)
    return list(
        _open_calls()
        .filter(risk__in=["at_risk", "late"], risk_since__lte=cutoff, updated_at__lte=cutoff)
        .values_list("id", flat=True)
    )


def _unassigned_emergencies(now: datetime) -> list[int]:
    cutoff = now - timedelta(minutes=settings.ESCALATE_EMERGENCY_UNASSIGNED_MINUTES)
    return list(
        _open_calls()
        .filter(priority="emergency", status="new", created_at__lte=cutoff)
        .values_list("id", flat=True)
    )


def _aged(now: datetime) -> list[int]:
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
    return list(
        _open_calls()
        .filter(status__in=["new", "assigned"])
        .filter(waiting)
        .values_list("id", flat=True)
    )


RULES = (
    (_unassigned_emergencies, Escalation.Reason.SAFETY, "Emergency still unassigned."),
    (_unattended_at_risk, Escalation.Reason.DEADLINE_RISK, "At risk with no action taken."),
    (_aged, Escalation.Reason.AGING, "Waiting longer than its priority allows."),
)


def escalations_check(*, now: datetime | None = None) -> int:
    """Apply every auto-escalation rule once; returns escalations opened. Idempotent."""
    now = now or clock.now()
    opened = 0
    for rule, reason, note in RULES:
        for call_id in rule(now):
            opened += (
                escalation_raise(call_id=call_id, reason=reason, note=note, now=now) is not None
            )
    return opened


def call_escalate(
    *, user, call_id: int, reason: str, note: str = "", now: datetime | None = None
) -> Escalation:
    """A person escalates a call: office staff any call, a technician only their own."""
    call = call_get_for_user(user=user, call_id=call_id)
    roles.require_can_escalate(user, call)
    if not call.is_open:
        raise InvalidInput(f"Call #{call.pk} is {call.status}; there is nothing to escalate.")
    if reason not in Escalation.Reason.values:
        raise InvalidInput(
            f"Reason must be one of: {', '.join(Escalation.Reason.values)}.", field="reason"
        )
    escalation = escalation_raise(call_id=call.pk, reason=reason, note=note, user=user, now=now)
    if escalation is None:
        open_one = Escalation.objects.get(call=call, status=Escalation.Status.OPEN)
        raise MoveConflict(
            f"Call #{call.pk} already has an open escalation (#{open_one.pk}, "
            f"{open_one.get_reason_display().lower()}); a manager is on it."
        )
    return escalation


# --- resolving: the manager's decision ----------------------------------------------------------


@dataclass(frozen=True)
class MoveOrder:
    """A move a manager applies while resolving: the same move protocol as the board."""

    technician_id: int | None
    position: int | None
    expected_version: int
    reason: str = ""


@dataclass(frozen=True)
class Concession:
    labor_hours: Decimal | None = None
    discount_percent: Decimal | None = None

    def __bool__(self) -> bool:
        return self.labor_hours is not None or self.discount_percent is not None


def _check_decision(strategy: str, customer_message: str, move: MoveOrder | None) -> None:
    if strategy not in Escalation.Strategy.values:
        raise InvalidInput(
            f"Strategy must be one of: {', '.join(Escalation.Strategy.values)}.", field="strategy"
        )
    if strategy == Escalation.Strategy.ACCEPT:
        if not customer_message.strip():
            raise InvalidInput(
                "Accepting a missed deadline needs the message we send the customer.",
                field="customer_message",
            )
        if move is not None:
            raise InvalidInput("Accept keeps the plan as it is; leave out the move.", "move")


def _check_concession(contract: str, concession: Concession) -> None:
    """Goodwill follows the contract: free labor for T&M, a discount for full service."""
    if concession.labor_hours is not None and concession.discount_percent is not None:
        raise InvalidInput("Give either free labor hours or a discount, not both.", "concession")
    if contract == "time_and_materials" and concession.discount_percent is not None:
        raise InvalidInput(
            "A time-and-materials customer gets free labor hours, not a discount.", "concession"
        )
    if contract == "full_service" and concession.labor_hours is not None:
        raise InvalidInput(
            "A full-service customer gets a discount on the next invoice, not labor hours.",
            "concession",
        )
    hours, percent = concession.labor_hours, concession.discount_percent
    if hours is not None and not (0 < hours <= 40):
        raise InvalidInput("Free labor must be more than 0 and at most 40 hours.", "concession")
    if percent is not None and not (0 < percent <= 100):
        raise InvalidInput("A discount must be more than 0 and at most 100 percent.", "concession")


def escalation_resolve(
    *,
    user,
    escalation_id: int,
    strategy: str,
    resolution: str = "",
    customer_message: str = "",
    move: MoveOrder | None = None,
    concession: Concession = Concession(),  # noqa: B008 - frozen, immutable default
    now: datetime | None = None,
) -> Escalation:
    """A manager resolves an escalation: rescue, triage or accept, all in one transaction."""
    roles.require_can_resolve_escalations(user)
    _check_decision(strategy, customer_message, move)
    now = now or clock.now()

    def attempt() -> Escalation:
        with transaction.atomic():
            return _resolve(
                user, escalation_id, strategy, resolution, customer_message, move, concession, now
            )

    return with_retries(attempt)


def _resolve(user, escalation_id, strategy, resolution, customer_message, move, concession, now):
    escalation = _lock_open_escalation(user, escalation_id)
    call = escalation.call
    _check_concession(call.customer.contract, concession)
    if move is not None:
        call_move_within(
            user=user,
            call_id=call.pk,
            technician_id=move.technician_id,
            position=move.position,
            expected_version=move.expected_version,
            reason=move.reason or f"Escalation #{escalation.pk}: {strategy}",
            now=now,
        )
        call.refresh_from_db()
    escalation.status, escalation.strategy = Escalation.Status.RESOLVED, strategy
    escalation.resolution, escalation.resolved_by, escalation.resolved_at = resolution, user, now
    escalation.concession_labor_hours = concession.labor_hours
    escalation.concession_discount_percent = concession.discount_percent
    escalation.save()
    _record_resolution(user, escalation, call, customer_message, concession)
    return escalation


def _lock_open_escalation(user, escalation_id: int) -> Escalation:
    """The escalation through its door, its row locked (not its call's); 409 once resolved."""
    escalation = escalation_get_for_user(user=user, escalation_id=escalation_id, for_update=True)
    if escalation.status != Escalation.Status.OPEN:
        raise MoveConflict(f"Escalation #{escalation.pk} is already resolved.")
    return escalation


def _record_resolution(user, escalation, call, customer_message: str, concession) -> None:
    event_record(
        call=call,
        actor=user,
        kind="resolved",
        escalation=escalation.pk,
        strategy=escalation.strategy,
        resolution=escalation.resolution,
    )
    if concession:
        event_record(
            call=call,
            actor=user,
            kind="concession",
            escalation=escalation.pk,
            contract=call.customer.contract,
            approved_by=user.get_username(),
            labor_hours=_number(concession.labor_hours),
            discount_percent=_number(concession.discount_percent),
        )
    if customer_message.strip():
        event_record(
            call=call,
            actor=user,
            kind="customer_notified",
            escalation=escalation.pk,
            message=customer_message,
            eta=call.eta,
        )
        # Delivered by email/SMS from a worker once this commits (each channel logs its send).
        customer_update_queue(
            call=call, text=customer_message, change=f"escalation-{escalation.pk}"
        )


def _number(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
