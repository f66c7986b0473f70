"""Escalations as a user may read them: the queue, and the one door to a single escalation."""

from __future__ import annotations

from django.db.models import Case, QuerySet, When

from common import roles
from common.errors import NotFound
from common.names import person_name
from dispatch.models import Escalation


def escalations_visible_to(user) -> QuerySet[Escalation]:
    """The escalation queue: office staff see it; open ones first, safety first, then oldest.

    Anyone else is refused the queue itself (NotAllowed, 403): no technician sees escalations,
    not even those of their own calls.
    """
    roles.require_can_see_escalations(user)
    return Escalation.objects.select_related("call", "call__customer", "raised_by").order_by(
        "status", Case(When(reason="safety", then=0), default=1), "created_at"
    )


def escalation_get_for_user(*, user, escalation_id: int, for_update: bool = False) -> Escalation:
    """The only way a page, an API view or a service gets one escalation, with its call's
    context (customer, technician) and who raised and resolved it.

    Office staff (CSR, dispatcher, manager) may get any escalation; anyone else is refused as
    `escalations_visible_to` refuses them (403); an id that names no escalation is NotFound.
    `for_update` locks the escalation's row alone (`of=("self",)`): the call, its technician
    and its customer are locked, if at all, by the move service in its own order.
    """
    escalations = escalations_visible_to(user).select_related(
        "call__technician", "raised_by__technician", "resolved_by", "resolved_by__technician"
    )
    if for_update:
        escalations = escalations.select_for_update(of=("self",))
    try:
        return escalations.get(pk=escalation_id)
    except (Escalation.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Escalation {escalation_id} was not found.") from None


def escalation_why(escalation: Escalation) -> str:
    """Why an escalation is there, in words: the rule's own account ("Deadline at risk: ETA 14:20
    against 14:00", "Waiting 3 h unassigned"), or who raised it and what they said."""
    note = escalation.note.strip()
    if escalation.raised_by_id is not None:
        who = f"Raised by {person_name(escalation.raised_by)}"
        return f"{who}: {note}" if note else who
    return note or escalation.get_reason_display()
