"""Resolving an escalation: the manager's decision (rescue, triage or accept), in one transaction.

Rescue and triage may apply a move (the board's move protocol). Accept admits the deadline will
be missed: the manager picks the new window, the call moves there (off today's queue), and the
customer's message says the new time, so the message, the tracking page and the board agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from common import clock, roles
from common.errors import InvalidInput, MoveConflict
from common.names import person_name
from customers.messaging import customer_update_queue
from dispatch.models import Escalation
from dispatch.selectors.escalations import escalation_get_for_user
from dispatch.services.events import event_record
from dispatch.services.moves import call_move_within, with_retries
from dispatch.services.reschedule import Reschedule, call_reschedule_within, reschedule_check

__all__ = ["Concession", "MoveOrder", "Reschedule", "escalation_resolve"]


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

    def words(self) -> str:
        if self.labor_hours is not None:
            return f"{self.labor_hours} h free labor"
        if self.discount_percent is not None:
            return f"{self.discount_percent} % off the next invoice"
        return ""


def _check_decision(strategy, customer_message, move, reschedule, now) -> None:
    if strategy not in Escalation.Strategy.values:
        raise InvalidInput(
            f"Strategy must be one of: {', '.join(Escalation.Strategy.values)}.", field="strategy"
        )
    if strategy != Escalation.Strategy.ACCEPT:
        if reschedule is not None:
            raise InvalidInput(
                "Only accept gives the call a new day or window; rescue and triage keep its "
                "deadline (leave out the new time, or choose accept).",
                field="reschedule",
            )
        return
    if not customer_message.strip():
        raise InvalidInput(
            "Accepting a missed deadline needs the message we send the customer.",
            field="customer_message",
        )
    if move is not None:
        raise InvalidInput("Accept keeps the plan as it is; leave out the move.", "move")
    if reschedule is None:
        raise InvalidInput(
            "Accepting a missed deadline needs the new time: pick the day and the window we "
            "now promise the customer.",
            field="reschedule",
        )
    reschedule_check(reschedule, now)


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
    reschedule: Reschedule | None = None,
    now: datetime | None = None,
) -> Escalation:
    """A manager resolves an escalation: rescue, triage or accept, all in one transaction."""
    roles.require_can_resolve_escalations(user)
    now = now or clock.now()
    _check_decision(strategy, customer_message, move, reschedule, now)
    decision = _Decision(strategy, resolution, customer_message, move, concession, reschedule)

    def attempt() -> Escalation:
        with transaction.atomic():
            return _resolve(user, escalation_id, decision, now)

    return with_retries(attempt)


@dataclass(frozen=True)
class _Decision:
    strategy: str
    resolution: str
    customer_message: str
    move: MoveOrder | None
    concession: Concession
    reschedule: Reschedule | None


def _resolve(user, escalation_id: int, decision: _Decision, now: datetime) -> Escalation:
    escalation = _lock_open_escalation(user, escalation_id)
    call = escalation.call
    _check_concession(call.customer.contract, decision.concession)
    why = decision.move.reason if decision.move and decision.move.reason else ""
    why = why or f"Escalation #{escalation.pk}: {decision.strategy}"
    if decision.move is not None:
        call_move_within(
            user=user,
            call_id=call.pk,
            technician_id=decision.move.technician_id,
            position=decision.move.position,
            expected_version=decision.move.expected_version,
            reason=why,
            now=now,
        )
    if decision.reschedule is not None:
        call_reschedule_within(
            user=user, call=call, reschedule=decision.reschedule, reason=why, now=now
        )
    call.refresh_from_db()
    concession = decision.concession
    escalation.status, escalation.strategy = Escalation.Status.RESOLVED, decision.strategy
    escalation.resolution, escalation.resolved_by, escalation.resolved_at = (
        decision.resolution,
        user,
        now,
    )
    escalation.concession_labor_hours = concession.labor_hours
    escalation.concession_discount_percent = concession.discount_percent
    # The baseline the automatic rules compare against: the call as the decision left it.
    escalation.risk_at_resolution = call.risk or "ok"
    escalation.deadline_at_resolution = call.deadline
    escalation.save()
    _record_resolution(user, escalation, call, decision)
    return escalation


def _lock_open_escalation(user, escalation_id: int) -> Escalation:
    """The escalation through its door, its row locked (not its call's); 409 once resolved."""
    escalation = escalation_get_for_user(user=user, escalation_id=escalation_id, for_update=True)
    if escalation.status != Escalation.Status.OPEN:
        raise MoveConflict(f"Escalation #{escalation.pk} is already resolved.")
    return escalation


def _record_resolution(user, escalation, call, decision: _Decision) -> None:
    event_record(
        call=call,
        actor=user,
        kind="resolved",
        escalation=escalation.pk,
        strategy=escalation.strategy,
        resolution=escalation.resolution,
        by=person_name(user),
    )
    concession = decision.concession
    if concession:
        event_record(
            call=call,
            actor=user,
            kind="concession",
            escalation=escalation.pk,
            contract=call.customer.contract,
            approved_by=user.get_username(),
            approved_by_name=person_name(user),
            labor_hours=_number(concession.labor_hours),
            discount_percent=_number(concession.discount_percent),
        )
    message = decision.customer_message.strip()
    if message:
        # The new time is always stated, in our words, so what the customer reads is what the
        # tracking page and the board say (the manager's words alone once said "tomorrow").
        new_time = (
            f"Your visit is now {decision.reschedule.words()}." if decision.reschedule else ""
        )
        event_record(
            call=call,
            actor=user,
            kind="customer_notified",
            escalation=escalation.pk,
            message=decision.customer_message,
            new_time=new_time,
            eta=call.eta,
        )
        # Delivered by email/SMS from a worker once this commits (each channel logs its send).
        customer_update_queue(
            call=call,
            text=f"{message} {new_time}".strip(),
            change=f"escalation-{escalation.pk}",
        )


def _number(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
