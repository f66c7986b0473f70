"""Claims: a technician takes an unassigned call they are skilled for into their own queue.

A claim is a move through the move service, which refuses it when the technician lacks a skill
or when it would make any of their own calls late (`_check_claim_keeps_own_calls`), with the
reason in words. The place in the queue is the one the candidates service finds best.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from common import clock, roles
from common.errors import InvalidInput, NotAllowed
from dispatch.models import ServiceCall
from dispatch.selectors import call_get_for_user
from dispatch.selectors.candidates import call_candidates
from dispatch.services.events import event_record
from dispatch.services.moves import MoveResult, call_move_within, with_retries


def call_claim(
    *, user, call_id: int, expected_version: int, now: datetime | None = None
) -> MoveResult:
    """Put an unassigned call into my queue where it fits best; one `claimed` event."""
    now = now or clock.now()
    me = roles.technician_of(user)
    if me is None:
        raise NotAllowed("Only technicians claim calls; office staff assign them on the board.")
    call = call_get_for_user(user=user, call_id=call_id)
    if call.technician_id is not None or call.status != "new":
        raise InvalidInput(f"Call #{call.pk} is no longer waiting; someone has it already.")
    position = _claim_position(user, call, me, now)

    def attempt() -> MoveResult:
        with transaction.atomic():
            result = call_move_within(
                user=user,
                call_id=call.pk,
                technician_id=me.pk,
                position=position,
                expected_version=expected_version,
                reason="claimed by the technician",
                now=now,
            )
            event_record(
                call=result.call,
                actor=user,
                kind="claimed",
                technician=me.pk,
                position=result.call.position,
                eta=result.call.eta,
            )
            return result

    return with_retries(attempt)


def _claim_position(user, call: ServiceCall, me, now: datetime) -> int:
    candidates, excluded = call_candidates(
        user=user, call_id=call.pk, now=now, only_team=me.team_id
    )
    for candidate in candidates:
        if candidate.technician.pk == me.pk:
            return candidate.position
    for entry in excluded:
        if entry.technician.pk == me.pk and entry.reason.startswith("missing skill"):
            raise NotAllowed(f"You can't claim call #{call.pk}: {entry.reason}.")
    # Not a clean fit (late for this call, or past shift end): last, if that spares the others.
    return ServiceCall.objects.filter(
        technician=me, scheduled_day=call.scheduled_day, status__in=ServiceCall.QUEUED_STATUSES
    ).count()
