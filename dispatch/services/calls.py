"""Booking, editing and cancelling service calls."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from django.db import transaction

from common import clock, roles
from common.errors import InvalidInput, MoveConflict, NotAllowed
from customers.models import Customer, Site
from dispatch.models import ServiceCall
from dispatch.planning.routes import WORKING_STATUSES
from dispatch.selectors.queue_fields import (
    unassigned_fields,
)
from dispatch.services.background import enqueue
from dispatch.services.etas import ETA_FIELDS, etas_refresh_technicians
from dispatch.services.events import event_record, jsonable
from dispatch.services.moves import with_retries
from dispatch.services.technicians import technician_released
from technicians.models import Skill, Technician

EDITABLE = (
    "summary",
    "description",
    "priority",
    "duration_minutes",
    "window_start",
    "deadline",
    "site",
    "promised_eta",
    "scheduled_day",
)


def _require_booker(user) -> None:
    if not roles.can_book(user):
        raise NotAllowed("Only CSRs, dispatchers and managers can book, edit or cancel calls.")


# Times further than this from the scheduled day are typing mistakes, not plans.
DAY_SLACK = timedelta(days=2)


def _check_near_day(scheduled_day: date, **times: datetime | None) -> None:
    midday = datetime.combine(scheduled_day, time(12), tzinfo=UTC)
    for name, value in times.items():
        if value is not None and abs(value - midday) > DAY_SLACK + timedelta(hours=12):
            raise InvalidInput(
                f"{name.replace('_', ' ').capitalize()} {value:%Y-%m-%d %H:%M} is not on or near "
                f"the scheduled day {scheduled_day}.",
                field=name,
            )


def _validate(
    *,
    customer: Customer,
    site: Site,
    duration_minutes: int,
    window_start,
    deadline,
    scheduled_day: date,
    promised_eta=None,
):
    if site.customer_id != customer.pk:
        raise InvalidInput(f"Site {site.pk} does not belong to {customer.name}.", field="site")
    if duration_minutes is None or duration_minutes <= 0:
        raise InvalidInput("Duration must be more than zero minutes.", field="duration_minutes")
    if window_start and deadline and deadline < window_start:
        raise InvalidInput("The deadline cannot be before the window start.", field="deadline")
    _check_near_day(
        scheduled_day, window_start=window_start, deadline=deadline, promised_eta=promised_eta
    )


def _set_unassigned_eta(call: ServiceCall, now: datetime) -> None:
    fields = unassigned_fields(call.deadline, now)
    for name in ETA_FIELDS:
        setattr(call, name, getattr(fields, name))
    call.eta_computed_at = now


@transaction.atomic
def call_book(
    *,
    user,
    customer: Customer,
    site: Site,
    summary: str,
    scheduled_day: date,
    duration_minutes: int,
    priority: str = "normal",
    description: str = "",
    skills: Iterable[Skill] = (),
    window_start: datetime | None = None,
    deadline: datetime | None = None,
    promised_eta: datetime | None = None,
    now: datetime | None = None,
    booking: dict[str, Any] | None = None,
    category=None,
) -> ServiceCall:
    """Book a new, unassigned call; placing it in a queue is a move.

    `booking` is how it was booked (the offer taken, or the override reason), kept in the
    booked event.
    """
    _require_booker(user)
    _validate(
        customer=customer,
        site=site,
        duration_minutes=duration_minutes,
        window_start=window_start,
        deadline=deadline,
        scheduled_day=scheduled_day,
        promised_eta=promised_eta,
    )
    call = ServiceCall(
        customer=customer,
        site=site,
        summary=summary,
        description=description,
        priority=priority,
        duration_minutes=duration_minutes,
        window_start=window_start,
        deadline=deadline,
        scheduled_day=scheduled_day,
        promised_eta=promised_eta,
        booked_by=user if user.is_authenticated else None,
        category=category,  # what its duration is learned as (a CallCategory or None)
    )
    _set_unassigned_eta(call, now or clock.now())
    call.save()
    call.skills.set(skills)
    event_record(call=call, actor=user, kind="booked", after=_snapshot(call), **(booking or {}))
    # The confirmation goes out from a worker once the booking is committed (never from here:
    # a slow mail server must not hold up a booking).
    from customers.tasks import messages_send_for_call  # the tasks build on the services

    transaction.on_commit(partial(enqueue, messages_send_for_call, call.pk))
    if priority == "emergency":
        from dispatch.services.day_plans import replan_soon  # the planner builds on moves

        replan_soon([call.pk], "emergency")
    return call


def _snapshot(call: ServiceCall) -> dict[str, Any]:
    data = {name: getattr(call, name) for name in EDITABLE if name != "site"}
    data["site"] = call.site_id
    return jsonable(data)


def _check_version(call: ServiceCall, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != call.version:
        raise MoveConflict(
            f"Someone else changed call #{call.pk} while you were editing. Reload and try again."
        )


def call_update(**kwargs: Any) -> ServiceCall:
    """Edit a call's booking details; ETAs of its queue follow at once."""
    return with_retries(lambda: _call_update(**kwargs))


@transaction.atomic
def _call_update(
    *,
    user,
    call: ServiceCall,
    changes: dict[str, Any],
    skills: Iterable[Skill] | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ServiceCall:
    _require_booker(user)
    call = _lock_call_and_technician(call.pk)
    _check_version(call, expected_version)
    if not call.is_open:
        raise InvalidInput(f"Call #{call.pk} is {call.status} and can no longer be edited.")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"These fields can't be edited: {', '.join(sorted(unknown))}.")
    if (
        "scheduled_day" in changes
        and call.technician_id
        and changes["scheduled_day"] != call.scheduled_day
    ):
        raise InvalidInput("Unassign the call before moving it to another day.", "scheduled_day")
    before = _snapshot(call)
    for name, value in changes.items():
        setattr(call, name, value)
    _validate(
        customer=call.customer,
        site=call.site,
        duration_minutes=call.duration_minutes,
        window_start=call.window_start,
        deadline=call.deadline,
        scheduled_day=call.scheduled_day,
        promised_eta=call.promised_eta,
    )
    call.version += 1
    call.save()
    if skills is not None:
        call.skills.set(skills)
    _refresh_after_change(call, now or clock.now())
    event_record(call=call, actor=user, kind="edited", before=before, after=_snapshot(call))
    return call


def _refresh_after_change(call: ServiceCall, now: datetime) -> None:
    if call.technician_id and call.position is not None:
        etas_refresh_technicians(
            technician_ids=[call.technician_id], day=call.scheduled_day, now=now
        )
    elif call.status == "new":
        _set_unassigned_eta(call, now)
        call.save(update_fields=[*ETA_FIELDS, "eta_computed_at"])
    call.refresh_from_db()


def call_cancel(**kwargs: Any) -> ServiceCall:
    """Cancel (never delete) a call; its queue closes up behind it."""
    return with_retries(lambda: _call_cancel(**kwargs))


@transaction.atomic
def _call_cancel(
    *,
    user,
    call: ServiceCall,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ServiceCall:
    _require_booker(user)
    if not reason.strip():
        raise InvalidInput("Say why the call is cancelled.", field="reason")
    call = _lock_call_and_technician(call.pk)
    _check_version(call, expected_version)
    if not call.is_open:
        raise InvalidInput(f"Call #{call.pk} is already {call.status}.")
    working = call.status in WORKING_STATUSES
    if working and not roles.can_take_from_working_tech(user):
        raise NotAllowed(
            f"{call.technician} is already {call.get_status_display().lower()} for this call; "
            "ask a dispatcher to cancel it so the technician is told."
        )
    before = {"status": call.status, "technician": call.technician_id, "position": call.position}
    call.status, call.position, call.version = "cancelled", None, call.version + 1
    call.save(update_fields=["status", "position", "version", "updated_at"])
    if call.technician_id:
        _close_gap(call.technician_id, call.scheduled_day)
        if working:
            # The call they were on is gone: they are free, not "En route" to nowhere.
            technician_released(technician_id=call.technician_id)
        etas_refresh_technicians(
            technician_ids=[call.technician_id], day=call.scheduled_day, now=now or clock.now()
        )
    event_record(
        call=call,
        actor=user,
        kind="cancelled",
        reason=reason,
        before=before,
        after={"status": "cancelled"},
    )
    if working:
        event_record(
            call=call,
            actor=user,
            kind="tech_notified",
            technician=call.technician_id,
            message=f"Call #{call.pk} was cancelled while you were on it: {reason}",
        )
    return call


def _lock_call_and_technician(call_id: int) -> ServiceCall:
    """Technician first, then the call: the order every queue change uses, so none deadlock."""
    tech_id = ServiceCall.objects.filter(pk=call_id).values_list("technician_id", flat=True).first()
    if tech_id:
        list(Technician.objects.select_for_update().filter(pk=tech_id).values("id"))
    # of=self: the site and customer are read, not changed; locking them would queue unrelated
    # calls at the same address behind this one.
    call = (
        ServiceCall.objects.select_for_update(of=("self",))
        .select_related("site", "customer")
        .get(pk=call_id)
    )
    if call.technician_id != tech_id:
        raise MoveConflict(f"Call #{call_id} was just moved by someone else. Reload and try again.")
    return call


def _close_gap(technician_id: int, day: date) -> None:
    queue = list(
        ServiceCall.objects.filter(
            technician_id=technician_id, scheduled_day=day, status__in=ServiceCall.QUEUED_STATUSES
        ).order_by("position")
    )
    for index, call in enumerate(queue):
        call.position = index
    ServiceCall.objects.bulk_update(queue, ["position"])
