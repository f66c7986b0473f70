"""Moving a call to another day (the week view's drag), or to a new window on a day (the call
page's "Reschedule": a day and, optionally, a new window start and end).

A move to another day is a reschedule: the reschedule service takes the call off its queue (the
move protocol: the queue closes up, the technician is told), gives it the same clock times on the
new day (or the new window given), counts the reschedule and writes the audit event. Then, for
a technician, the call is queued on that day through the move service, so its rules hold
(eligibility, the ripple priced and, for a harmful drop, asked about first). The customer is
told when a promised time changes. All of it is one transaction: a refusal, a conflict or a drop
that must ask first changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from common import clock, roles
from common.errors import InvalidInput, MoveConflict, NotAllowed, NotFound
from customers.messaging import customer_update_queue
from dispatch.models import ServiceCall
from dispatch.selectors import calls_visible_to
from dispatch.services.events import event_record
from dispatch.services.moves import MovePlan, call_move_within, with_retries
from dispatch.services.reschedule import FURTHEST_AHEAD, call_reschedule_day_within

UNDER_WAY = ("en_route", "on_site")
# Past the end of any queue: the move service puts the call last (it clamps the place).
LAST = 10_000


@dataclass
class DayMoveResult:
    call: ServiceCall
    day: date
    applied: bool
    # The move onto the technician's queue (None: the call went to the day's unassigned list).
    plan: MovePlan | None = None
    # The new time as the customer was told it ("" when nothing was promised).
    told: str = ""
    # A new window was given (not only another day).
    retimed: bool = False


class _AskFirst(Exception):
    """Unwinds the transaction when the drop must ask first: the plan goes back to the board."""

    def __init__(self, plan: MovePlan) -> None:
        super().__init__("ask first")
        self.plan = plan


def day_check(day: date, now: datetime) -> None:
    """Today or later, and not absurdly far ahead: a past day is refused in words."""
    today = timezone.localdate(now)
    if day < today:
        raise InvalidInput(
            f"{day:%a %d %b %Y} is in the past; a call can be moved to today or a later day.",
            field="day",
        )
    if (day - today).days > FURTHEST_AHEAD.days:
        raise InvalidInput(
            f"{day:%a %d %b %Y} is more than {FURTHEST_AHEAD.days} days ahead; check the date.",
            field="day",
        )


def call_move_to_day(
    *,
    user,
    call_id: int,
    day: date,
    technician_id: int | None,
    expected_version: int,
    position: int | None = None,
    reason: str = "",
    require_confirmation: bool = False,
    now: datetime | None = None,
    start: time | None = None,
    end: time | None = None,
) -> DayMoveResult:
    """Move a call to `day`, to `technician_id`'s queue there (last, or at `position`) or to the
    day's unassigned list (None). With `start` and/or `end` (local clock times) the call gets a
    new window on that day, the same day too (a reschedule: re-planned in the queue, its old
    place when it stays with its technician and no place is given). With
    `require_confirmation`, a drop that harms other calls (or overrides eligibility) is planned
    and nothing is written."""
    now = now or clock.now()
    day_check(day, now)

    def attempt() -> DayMoveResult:
        try:
            with transaction.atomic():
                return _move_to_day(
                    user, call_id, day, technician_id, expected_version, position, reason,
                    require_confirmation, now, (start, end),
                )  # fmt: skip
        except _AskFirst as ask:
            return DayMoveResult(call=ask.plan.call, day=day, applied=False, plan=ask.plan)

    return with_retries(attempt)


def _move_to_day(
    user, call_id, day, technician_id, expected_version, position, reason, confirm_first, now,
    window,
) -> DayMoveResult:  # fmt: skip
    call = _lock_call(user, call_id)
    if not roles.is_office(user):
        raise NotAllowed("Only the office (a CSR, dispatcher or manager) moves calls between days.")
    if expected_version != call.version:
        raise MoveConflict(
            f"Someone else changed call #{call.pk} ({call.summary}) while you were looking. "
            "The board has been refreshed; check the call and try again."
        )
    _check_can_change_day(call)
    start, end = window
    retimed = start is not None or end is not None
    if day == call.scheduled_day and not retimed:
        # Not another day: an ordinary move on that day (the timeline's, with its rules).
        plan = _queue(user, call, technician_id, position, reason, confirm_first, now)
        if plan is None:
            raise InvalidInput(f"Call #{call.pk} is already on {day:%a %d %b} and unassigned.")
        return DayMoveResult(call=plan.call, day=day, applied=True, plan=plan)
    from_day, was_with, was_at = call.scheduled_day, call.technician_id, call.position
    why = reason.strip() or _why(from_day, day, retimed)
    call, told = call_reschedule_day_within(
        user=user, call=call, day=day, reason=why, now=now, start=start, end=end
    )
    if day == from_day and technician_id == was_with and position is None:
        position = was_at  # the same day and technician: re-planned in its place
    plan = _queue(user, call, technician_id, position, why, confirm_first, now)
    if told:
        _tell_customer(user, call, told)
    call.refresh_from_db()
    return DayMoveResult(call=call, day=day, applied=True, plan=plan, told=told, retimed=retimed)


def _why(from_day: date, day: date, retimed: bool) -> str:
    if not retimed:
        return f"Moved from {from_day:%a %d %b} to {day:%a %d %b}"
    if day == from_day:
        return f"Rescheduled to a new window on {day:%a %d %b}"
    return f"Rescheduled from {from_day:%a %d %b} to a new window on {day:%a %d %b}"


def _lock_call(user, call_id) -> ServiceCall:
    """The call's row under its lock, through the user's door (out of reach: "not found")."""
    calls = calls_visible_to(user).select_related(None).prefetch_related(None)
    try:
        return calls.select_for_update(of=("self",)).get(pk=int(call_id))
    except (ServiceCall.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Service call {call_id} was not found.") from None


def _check_can_change_day(call: ServiceCall) -> None:
    if call.status in UNDER_WAY:
        raise InvalidInput(
            f"Call #{call.pk} is {call.get_status_display().lower()}: the work is under way "
            "today, so it can't be moved to another day. Finish it, or ask the technician to "
            "give it back first."
        )
    if call.status in ("completed", "cancelled"):
        raise InvalidInput(
            f"Call #{call.pk} is {call.status} and can no longer be moved to another day."
        )


def _queue(user, call, technician_id, position, reason, confirm_first, now) -> MovePlan | None:
    """Onto the technician's queue on the call's (new) day through the move service."""
    if technician_id is None:
        if call.technician_id is None:
            return None
        technician_id, position = None, None  # same day, back to the unassigned list
    elif position is None:
        position = LAST
    result = call_move_within(
        user=user,
        call_id=call.pk,
        technician_id=technician_id,
        position=position,
        expected_version=call.version,
        reason=reason,
        require_confirmation=confirm_first,
        now=now,
    )
    if not result.applied:
        raise _AskFirst(result.plan)
    return result.plan


def _tell_customer(user, call: ServiceCall, told: str) -> None:
    text = f"Your visit has moved: it is now {told}."
    event_record(
        call=call, actor=user, kind="customer_notified", message=text, new_time=told, eta=None
    )
    # Delivered by email/SMS from a worker once this commits (each channel logs its send).
    customer_update_queue(call=call, text=text, change=f"day-{call.pk}-v{call.version}")
