"""Two waiting calls of two technicians trade places (a rescue's swap), as two moves."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from common.errors import InvalidInput
from dispatch.models import ServiceCall
from dispatch.selectors import call_get_for_user
from dispatch.services.moves import MoveResult, call_move_within, with_retries


def calls_swap(
    *,
    user,
    call_id: int,
    other_id: int,
    expected_version: int,
    other_expected_version: int,
    reason: str = "",
    now: datetime | None = None,
) -> tuple[MoveResult, MoveResult]:
    """Two waiting calls of two technicians trade places, as two moves of the move service in
    one transaction: both happen or neither does, and each writes its own event."""

    def attempt() -> tuple[MoveResult, MoveResult]:
        with transaction.atomic():
            call = call_get_for_user(user=user, call_id=call_id)
            other = call_get_for_user(user=user, call_id=other_id)
            _check_swappable(call, other)
            x, i, y, j = call.technician_id, call.position, other.technician_id, other.position
            common = {"user": user, "reason": reason, "now": now}
            first = call_move_within(
                call_id=call.pk,
                technician_id=y,
                position=j,
                expected_version=expected_version,
                **common,
            )
            second = call_move_within(
                call_id=other.pk,
                technician_id=x,
                position=i,
                expected_version=other_expected_version,
                **common,
            )
            return first, second

    return with_retries(attempt)


def _check_swappable(call: ServiceCall, other: ServiceCall) -> None:
    for c in (call, other):
        if c.status != "assigned" or c.technician_id is None:
            raise InvalidInput(
                f"Call #{c.pk} is not waiting in a queue ({c.get_status_display().lower()}); "
                "only waiting calls can be swapped."
            )
    if call.technician_id == other.technician_id:
        raise InvalidInput("Both calls are in the same queue; move one of them instead.")
    if call.scheduled_day != other.scheduled_day:
        raise InvalidInput("The two calls are on different days.")
