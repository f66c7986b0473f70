"""Opening an escalation: by a person (`call_escalate`) or a system rule (`escalation_raise`)."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from common import clock, roles
from common.errors import InvalidInput, MoveConflict
from common.names import person_name
from dispatch.models import Escalation, ServiceCall
from dispatch.selectors import call_get_for_user
from dispatch.services.events import event_record

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
                by=person_name(raised_by),
                priority={"before": before, "after": call.priority},
                at=now,
            )
            return escalation
    except IntegrityError:
        return None  # an escalation for this call is already open: never a duplicate


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
