"""A call's progress as the technician reports it: on my way, arrived, done, can't complete.

The same locking as every queue change (technician row, then the call), a version check, then
the call's new status, the technician's status and location to match, their queue's ETAs
recomputed at once, and one `status` event. Used by the "my day" page and the REST API alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction

from common import clock, roles
from common.errors import InvalidInput, MoveConflict, NotAllowed
from dispatch.models import ServiceCall
from dispatch.planning.routes import WORKING_STATUSES
from dispatch.selectors import call_get_for_user
from dispatch.services.ask_events import asks_overtake
from dispatch.services.background import enqueue
from dispatch.services.calls import _close_gap
from dispatch.services.events import event_record
from dispatch.services.handoffs import handoff_offers_void
from dispatch.services.moves import call_move_within, call_release_within, with_retries
from dispatch.services.technicians import technician_status_update
from technicians.models import Technician

EN_ROUTE, ON_SITE, COMPLETED, CANT_COMPLETE = "en_route", "on_site", "completed", "cant_complete"
ACTIONS = (EN_ROUTE, ON_SITE, COMPLETED, CANT_COMPLETE)
ALLOWED_FROM = {
    EN_ROUTE: {"assigned"},
    ON_SITE: {"assigned", "en_route"},
    COMPLETED: {"on_site"},
    CANT_COMPLETE: {"assigned", "en_route", "on_site"},
}
# The technician's own status follows what they just reported about the call.
TECHNICIAN_STATUS_AFTER = {
    EN_ROUTE: "en_route",
    ON_SITE: "on_site",
    COMPLETED: "available",
    CANT_COMPLETE: "available",
}
MAX_ACTUAL_MINUTES = 24 * 60


@dataclass(frozen=True)
class StatusReport:
    """What the technician says, with the optional parts of each action."""

    status: str
    actual_minutes: int | None = None
    reason: str = ""
    lat: float | None = None
    lng: float | None = None


def call_status_update(
    *,
    user,
    call_id: int,
    status: str,
    expected_version: int,
    actual_minutes: int | None = None,
    reason: str = "",
    lat: float | None = None,
    lng: float | None = None,
    now: datetime | None = None,
) -> ServiceCall:
    """Apply one status report to a call; returns the call as stored (re-read it through
    `call_get_for_user` to show it: after "can't complete" it is no longer the technician's)."""
    report = StatusReport(status, actual_minutes, reason.strip(), lat, lng)
    _validate(report)
    now = now or clock.now()

    def attempt() -> ServiceCall:
        with transaction.atomic():
            call = _update(user, call_id, report, expected_version, now)
            transaction.on_commit(lambda: _after_status_change(call_id=call.pk, status=status))
            return call

    return with_retries(attempt)


def _after_status_change(*, call_id: int, status: str) -> None:
    """After commit: the background work a status change calls for.

    The escalation rules (a call going on site or done can clear a risk) and, when the technician
    sets off, the customer's "on my way" message at once rather than at the next minute's sweep.
    With no broker, the in-process `recompute_etas --every` loop runs the rules each minute.
    """
    # The tasks build on the services, so they are imported when sent, not at load.
    from customers.tasks import messages_send_for_call
    from dispatch.tasks import check_escalations

    if status == "en_route":
        enqueue(messages_send_for_call, call_id)
    if settings.REDIS_URL:
        enqueue(check_escalations)


def _validate(report: StatusReport) -> None:
    if report.status not in ACTIONS:
        raise InvalidInput(
            f"Unknown status {report.status!r}; use one of {', '.join(ACTIONS)}.", field="status"
        )
    if report.status == CANT_COMPLETE and not report.reason:
        raise InvalidInput("Say why the call can't be completed.", field="reason")
    minutes = report.actual_minutes
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)):
        raise InvalidInput("Give the actual duration in whole minutes.", field="actual_minutes")
    if minutes is not None and not 1 <= minutes <= MAX_ACTUAL_MINUTES:
        raise InvalidInput(
            f"The actual duration must be between 1 and {MAX_ACTUAL_MINUTES} minutes.",
            field="actual_minutes",
        )


def _update(user, call_id: int, report: StatusReport, expected_version, now) -> ServiceCall:
    call = call_get_for_user(user=user, call_id=call_id)
    _require_reporter(user, call)
    tech, call = _lock(call.pk)
    if expected_version != call.version:
        raise MoveConflict(
            f"Call #{call.pk} changed while you were looking (someone moved or updated it). "
            "The page has been refreshed; check it and try again."
        )
    _check_transition(call, report.status)
    before = {"status": call.status, "position": call.position}
    # An offer of this call to a teammate stands only while the call waits untouched.
    handoff_offers_void(call=call, user=user, why=f"the call went {report.status}", now=now)
    if call.status in WORKING_STATUSES:
        # "Can you still make it?" is answered by what they did: arrived, done or gave it back.
        asks_overtake(call=call, user=user, why=f"the call went {report.status}", now=now)
    if report.status == EN_ROUTE:
        call = _bring_to_front(user, tech, call, now)
    if report.status == CANT_COMPLETE:
        call = _give_back(user, call, report.reason, now)
    else:
        _set_status(call, report, now)
    technician_status_update(
        user=user,
        technician=tech,
        status=TECHNICIAN_STATUS_AFTER[report.status],
        lat=report.lat,
        lng=report.lng,
        now=now,
    )
    event_record(
        call=call,
        actor=user,
        kind="status",
        before=before,
        after={"status": call.status, "position": call.position},
        action=report.status,
        technician=tech.pk,
        actual_minutes=call.actual_minutes if report.status == COMPLETED else None,
        reason=report.reason,
        location=None if report.lat is None else [report.lat, report.lng],
    )
    return call


def _require_reporter(user, call: ServiceCall) -> None:
    if call.technician_id is None:
        raise InvalidInput(f"Call #{call.pk} is not assigned to anyone yet; claim it first.")
    if roles.can_manage_technicians(user):
        return  # dispatchers and managers may report for a technician (a phone call, a radio)
    me = roles.technician_of(user)
    if me is None or me.pk != call.technician_id:
        raise NotAllowed("Only the technician on the call, or a dispatcher, can report on it.")


def _lock(call_id: int) -> tuple[Technician, ServiceCall]:
    """The technician first, then the call: the order every queue change takes."""
    tech_id = ServiceCall.objects.filter(pk=call_id).values_list("technician_id", flat=True).get()
    tech = Technician.objects.select_for_update().get(pk=tech_id)
    # of=self: the site is read for the arrival check, never changed here; don't lock it.
    call = (
        ServiceCall.objects.select_for_update(of=("self",)).select_related("site").get(pk=call_id)
    )
    if call.technician_id != tech.pk:
        raise MoveConflict(f"Call #{call_id} was just moved by someone else. Reload and try again.")
    return tech, call


def _check_transition(call: ServiceCall, status: str) -> None:
    if call.status in ALLOWED_FROM[status]:
        return
    now_is = call.get_status_display().lower()
    hints = {
        EN_ROUTE: "“On my way” is for a call not yet started",
        ON_SITE: "“Arrived” needs a call you are heading to",
        COMPLETED: "mark “Arrived” before “Done”",
        CANT_COMPLETE: "it is no longer open",
    }
    raise InvalidInput(f"Call #{call.pk} is {now_is}: {hints[status]}.", field="status")


def _bring_to_front(user, tech: Technician, call: ServiceCall, now) -> ServiceCall:
    """Setting out for a call makes it the next one; a reorder goes through the move service."""
    # One read of the day's queue answers both questions: is other work under way, and is this
    # call already first?
    queue = list(
        ServiceCall.objects.filter(
            technician=tech,
            scheduled_day=call.scheduled_day,
            status__in=ServiceCall.QUEUED_STATUSES,
        )
        .order_by("position", "id")
        .values_list("pk", "status")
    )
    working = next(((pk, st) for pk, st in queue if st in WORKING_STATUSES and pk != call.pk), None)
    if working is not None:
        pk, status = working
        raise InvalidInput(
            f"You are still {ServiceCall.Status(status).label.lower()} for call #{pk}; "
            "mark it done or can't complete first.",
            field="status",
        )
    first = queue[0][0] if queue else None
    if first != call.pk:
        call_move_within(
            user=user,
            call_id=call.pk,
            technician_id=tech.pk,
            position=0,
            expected_version=call.version,
            reason="set out for this call first",
            now=now,
        )
    return ServiceCall.objects.select_related("site").get(pk=call.pk)


def _set_status(call: ServiceCall, report: StatusReport, now: datetime) -> None:
    call.status = report.status
    if report.status == EN_ROUTE:
        call.en_route_at = now
        # The drive as the plan saw it when they set out (the queue was just replanned with
        # this call first): the real drive, to arrival, is learned against it.
        ahead = None if call.eta is None else (call.eta - now).total_seconds() / 60.0
        call.planned_travel_minutes = round(ahead, 1) if ahead and ahead > 0 else None
    if report.status == ON_SITE:
        call.en_route_at = call.en_route_at or now
        call.started_at = now
    if report.status == COMPLETED:
        call.completed_at = now
        call.actual_minutes = report.actual_minutes or _minutes_since(call.started_at, now)
        call.position = None  # out of the queue: the calls behind it move up
    call.version += 1
    call.save(
        update_fields=[
            "status",
            "en_route_at",
            "started_at",
            "completed_at",
            "actual_minutes",
            "planned_travel_minutes",
            "position",
            "version",
            "updated_at",
        ]
    )
    if report.status == COMPLETED:
        _close_gap(call.technician_id, call.scheduled_day)


def _minutes_since(started_at: datetime | None, now: datetime) -> int:
    if started_at is None:
        return 1
    return max(1, round((now - started_at).total_seconds() / 60))


def _give_back(user, call: ServiceCall, reason: str, now: datetime) -> ServiceCall:
    """Can't complete: the call goes back to the unassigned list with the reason, for the
    dispatcher to find; the technician's queue closes up behind it."""
    if call.status in WORKING_STATUSES:
        # No longer under way, so the move service treats it as any queued call of theirs.
        call.status, call.en_route_at, call.started_at = "assigned", None, None
        call.save(update_fields=["status", "en_route_at", "started_at", "updated_at"])
    result = call_release_within(
        user=user, call_id=call.pk, expected_version=call.version, reason=reason, now=now
    )
    return result.call
