"""Rescheduling a call to a new day or window, honestly: off today's queue, onto the new day.

The call leaves its technician's queue through the move protocol (the queue closes up, the
technician is told if they were on it, the ripple is logged), then takes its new day, window and
promise. The board (which lists a day's unassigned calls by `scheduled_day`) and the customer's
tracking page (which reads the window) then say the same thing as the message the customer got.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from common.errors import InvalidInput
from dispatch.models import ServiceCall
from dispatch.selectors.queue_fields import (
    unassigned_fields,
)
from dispatch.services.etas import ETA_FIELDS
from dispatch.services.events import event_record
from dispatch.services.moves import call_move_within
from dispatch.services.risk import RiskChange, risk_since_after, risk_transitions_record

# Further ahead than this is a typing mistake (a year, not a day), not a plan.
FURTHEST_AHEAD = timedelta(days=60)


@dataclass(frozen=True)
class Reschedule:
    """The new window we promise: it starts and ends on the same day."""

    window_start: datetime
    deadline: datetime

    def words(self) -> str:
        """The new time as the customer reads it: "Wednesday 11 March, between 09:00 and 11:00"."""
        start, end = timezone.localtime(self.window_start), timezone.localtime(self.deadline)
        return f"{start:%A} {start.day} {start:%B}, between {start:%H:%M} and {end:%H:%M}"


def reschedule_check(reschedule: Reschedule, now: datetime) -> None:
    """A real window, on one day, not in the past and not absurdly far ahead."""
    start, end = reschedule.window_start, reschedule.deadline
    if end <= start:
        raise InvalidInput("The new window must end after it starts.", field="reschedule")
    if timezone.localdate(start) != timezone.localdate(end):
        raise InvalidInput("The new window must start and end on the same day.", "reschedule")
    if start < now.replace(second=0, microsecond=0):
        raise InvalidInput(
            f"The new window starts {timezone.localtime(start):%a %d %b %H:%M}, which is in the "
            "past; pick a later time.",
            field="reschedule",
        )
    if start > now + FURTHEST_AHEAD:
        raise InvalidInput(
            f"The new window is more than {FURTHEST_AHEAD.days} days ahead; check the date.",
            field="reschedule",
        )


def call_reschedule_within(
    *, user, call: ServiceCall, reschedule: Reschedule, reason: str, now: datetime
) -> ServiceCall:
    """Move the call to its new window, inside a transaction the caller owns (and retries)."""
    reschedule_check(reschedule, now)
    # The latest arrival we now promise: a plan anywhere inside the window keeps the promise, so
    # tomorrow's dispatcher is not told they broke it by arriving at 10:30 in a 09:00-11:00 slot.
    return _rescheduled(
        user=user,
        call=call,
        day=timezone.localdate(reschedule.window_start),
        times=(reschedule.window_start, reschedule.deadline, reschedule.deadline),
        reason=reason,
        now=now,
    )


def call_reschedule_day_within(
    *,
    user,
    call: ServiceCall,
    day: date,
    reason: str,
    now: datetime,
    start: time | None = None,
    end: time | None = None,
) -> tuple[ServiceCall, str]:
    """The call to another day at the same clock times (the week view's "move to day"), or to a
    new window on a day (the call page's "Reschedule": `start` and/or `end`, local clock times;
    what is not given keeps the call's own clock time), inside a transaction the caller owns. A
    call with a window (or given one) keeps the Reschedule contract (window on that day, promise
    its end); a call with only a window start, a deadline or a promised time keeps those on that
    day; a call with none of them only changes day. Returns the call and the new time in the
    customer's words ("" when nothing was promised: nobody need be told)."""
    retimed = start is not None or end is not None
    if retimed or (call.window_start is not None and call.deadline is not None):
        reschedule = _window_on(call, day, start, end, now)
        call = call_reschedule_within(
            user=user, call=call, reschedule=reschedule, reason=reason, now=now
        )
        return call, reschedule.words()
    opens = _on(day, call.window_start) if call.window_start else None
    deadline = _on(day, call.deadline) if call.deadline else None
    promised = _on(day, call.promised_eta) if call.promised_eta else None
    if deadline is not None and deadline < now:
        raise InvalidInput(
            f"Call #{call.pk} is due by {timezone.localtime(deadline):%H:%M}, which on "
            f"{day:%a %d %b} has already passed; pick a later day.",
            field="day",
        )
    call = _rescheduled(
        user=user, call=call, day=day, times=(opens, deadline, promised), reason=reason, now=now
    )
    if deadline is None and promised is None:
        if opens is None:
            return call, ""
        start = timezone.localtime(opens)
        return call, f"{start:%A} {start.day} {start:%B}, from {start:%H:%M}"
    by = timezone.localtime(promised or deadline)
    return call, f"{by:%A} {by.day} {by:%B}, by {by:%H:%M}"


def _window_on(
    call: ServiceCall, day: date, start: time | None, end: time | None, now: datetime
) -> Reschedule:
    """The window on `day`: the clock times given, else the call's own. Today, a window already
    begun starts now; one already over is refused in words."""
    retimed = start is not None or end is not None
    opens = _at(day, start) if start is not None else _on_or_none(day, call.window_start)
    closes = _at(day, end) if end is not None else _on_or_none(day, call.deadline)
    if opens is None or closes is None:
        missing = "start" if opens is None else "end"
        raise InvalidInput(
            f"Call #{call.pk} has no window {missing} to keep: give the new window's {missing} "
            "too.",
            field=f"window_{missing}",
        )
    if not retimed and (timezone.localdate(closes) != day or closes <= opens):
        closes = opens + (call.deadline - call.window_start)  # a clock change between the days
    if closes <= opens:
        raise InvalidInput(
            f"The new window must end after it starts: {timezone.localtime(opens):%H:%M} to "
            f"{timezone.localtime(closes):%H:%M} ends first.",
            field="window_end",
        )
    if opens < now < closes:
        # Today, the window already begun: it starts now (reschedule_check refuses the past).
        opens = now.replace(second=0, microsecond=0)
    elif closes <= now:
        later = "a later time or day" if retimed else "a later day"
        raise InvalidInput(
            f"Call #{call.pk}'s window {timezone.localtime(opens):%H:%M}–"
            f"{timezone.localtime(closes):%H:%M} on {day:%a %d %b} has already passed; "
            f"pick {later}.",
            field="window_start" if retimed else "day",
        )
    return Reschedule(opens, closes)


def _at(day: date, clock_time: time) -> datetime:
    """A local clock time on a day."""
    return datetime.combine(day, clock_time, timezone.get_current_timezone())


def _on_or_none(day: date, moment: datetime | None) -> datetime | None:
    return None if moment is None else _on(day, moment)


def _on(day: date, moment: datetime) -> datetime:
    """The same local clock time on another day."""
    local = timezone.localtime(moment)
    return datetime.combine(day, local.time(), local.tzinfo).astimezone(local.tzinfo)


def _rescheduled(
    *, user, call: ServiceCall, day: date, times: tuple, reason: str, now: datetime
) -> ServiceCall:
    """Off today's queue, onto `day` with its new window, deadline and promised time."""
    if call.technician_id is not None:
        # Off today's queue first, as any unassign: the queue closes up and its ETAs follow.
        call_move_within(
            user=user,
            call_id=call.pk,
            technician_id=None,
            position=None,
            expected_version=call.version,
            reason=reason,
            now=now,
        )
    call = ServiceCall.objects.select_for_update().get(pk=call.pk)
    before = _snapshot(call)
    call.scheduled_day = day
    call.window_start, call.deadline, call.promised_eta = times
    call.reschedule_count += 1
    call.version += 1
    fields = unassigned_fields(call.deadline, now)
    change = RiskChange(call.pk, call.risk, fields.risk, fields.slack_minutes, fields.eta)
    call.risk_since = risk_since_after(call.risk, fields.risk, call.risk_since, now)
    for name in ETA_FIELDS:
        setattr(call, name, getattr(fields, name))
    call.eta_computed_at = now
    call.save()
    event_record(
        call=call,
        actor=user,
        kind="rescheduled",
        reason=reason,
        before=before,
        after=_snapshot(call),
    )
    risk_transitions_record([change], actor=user)
    return call


def _snapshot(call: ServiceCall) -> dict:
    return {
        "scheduled_day": call.scheduled_day,
        "window_start": call.window_start,
        "deadline": call.deadline,
        "promised_eta": call.promised_eta,
        "technician": call.technician_id,
        "reschedule_count": call.reschedule_count,
    }
