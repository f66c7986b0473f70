"""Reading which customer messages are due. Each rule is one query over open calls.

A message is due when its trigger holds and no message of that kind has covered it yet; the
`sequence` a due message gets is one more than the last of its kind for the call, so two sweeps
that find the same change at once compute the same dedupe key and only one row is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from common import roles
from common.errors import NotAllowed
from customers.models import CustomerMessage
from dispatch.models import ServiceCall
from dispatch.selectors import call_get_for_user
from dispatch.selectors.waiting import waiting_since

Kind = CustomerMessage.Kind

# A booking is confirmed soon after it is made or not at all (no confirmations for old calls
# when the feature is switched on), and "on my way" is news only while the trip is fresh.
BOOKING_CONFIRMATION_WITHIN = timedelta(hours=24)
ON_MY_WAY_WITHIN = timedelta(hours=3)
# "Still on it" goes out in working hours only, and waiting is counted from the scheduled
# day's start at the earliest: nobody gets a reassuring text at 3 a.m.
WORKING_DAY_STARTS = time(8)
WORKING_DAY_ENDS = time(20)
WAITING_STATUSES = ("new", "assigned")
# Once on site there is nothing to announce any more.
NOT_YET_ARRIVED = ("new", "assigned", "en_route")


@dataclass(frozen=True)
class DueMessage:
    call: ServiceCall
    kind: str
    sequence: int
    eta: datetime | None


def _last_of(kind: str, field: str) -> Subquery:
    return Subquery(
        CustomerMessage.objects.filter(call=OuterRef("pk"), kind=kind)
        .order_by("-sequence")
        .values(field)[:1]
    )


def _open_calls(call_id: int | None) -> QuerySet[ServiceCall]:
    calls = ServiceCall.objects.filter(status__in=ServiceCall.OPEN_STATUSES).select_related(
        "customer", "technician"
    )
    return calls.filter(pk=call_id) if call_id is not None else calls


def _bookings_due(calls: QuerySet, now: datetime) -> list[DueMessage]:
    confirmed = CustomerMessage.objects.filter(call=OuterRef("pk"), kind=Kind.BOOKING_CONFIRMATION)
    due = calls.filter(
        status__in=WAITING_STATUSES, created_at__gte=now - BOOKING_CONFIRMATION_WITHIN
    ).filter(~Exists(confirmed))
    return [DueMessage(c, Kind.BOOKING_CONFIRMATION, 1, None) for c in due]


def _on_my_way_due(calls: QuerySet, now: datetime) -> list[DueMessage]:
    """En route and not announced since this trip began (a call sent back and out again is a
    new trip). A trip stamped after `now` waits for the next look: the announcement is stamped
    `now`, and must not look older than the trip it announces."""
    due = (
        calls.filter(status="en_route")
        .filter(
            Q(en_route_at__isnull=True)
            | Q(en_route_at__gte=now - ON_MY_WAY_WITHIN, en_route_at__lte=now)
        )
        .annotate(
            last_seq=_last_of(Kind.ON_MY_WAY, "sequence"),
            last_at=_last_of(Kind.ON_MY_WAY, "created_at"),
        )
        .filter(Q(last_at__isnull=True) | Q(en_route_at__gt=F("last_at")))
    )
    return [DueMessage(c, Kind.ON_MY_WAY, (c.last_seq or 0) + 1, c.eta) for c in due]


def _delays_due(calls: QuerySet, now: datetime) -> list[DueMessage]:
    """The promise is in doubt, and (after a first notice) the ETA is later than the last notice
    said by more than the notice threshold: one notice per material change.

    With a deadline, "in doubt" is "likely to miss it": P(late) at least
    CUSTOMER_DELAY_NOTICE_P_LATE (while the ETA may still be inside the promise), or the ETA
    already past it by more than the threshold (which also covers a row whose odds were never
    computed). Without one, the ETA past the promised ETA's window by more than the
    threshold. A chance that dips back under the bar takes nothing back and one that wavers
    around it sends nothing more: only a further slip of the ETA does."""
    notice = timedelta(minutes=settings.CUSTOMER_DELAY_NOTICE_MINUTES)
    implied = timedelta(minutes=settings.CUSTOMER_PROMISE_WINDOW_MINUTES)
    likely_late = Q(p_late__gte=settings.CUSTOMER_DELAY_NOTICE_P_LATE) | Q(
        eta__gt=F("deadline") + notice
    )
    broken = Q(Q(deadline__isnull=False) & likely_late) | Q(
        deadline__isnull=True,
        promised_eta__isnull=False,
        eta__gt=F("promised_eta") + (implied + notice),
    )
    due = (
        calls.filter(status__in=NOT_YET_ARRIVED, eta__isnull=False)
        .filter(broken)
        .annotate(last_seq=_last_of(Kind.DELAY, "sequence"), last_eta=_last_of(Kind.DELAY, "eta"))
        .filter(Q(last_eta__isnull=True) | Q(eta__gt=F("last_eta") + notice))
    )
    return [DueMessage(c, Kind.DELAY, (c.last_seq or 0) + 1, c.eta) for c in due]


def _waiting_since(call: ServiceCall) -> datetime:
    """When the customer started waiting, counted from the working day's start at the earliest."""
    return waiting_since(
        call.created_at, call.window_start, call.scheduled_day, day_starts=WORKING_DAY_STARTS
    )


def _still_on_it_due(calls: QuerySet, now: datetime) -> list[DueMessage]:
    if not WORKING_DAY_STARTS <= timezone.localtime(now).time() < WORKING_DAY_ENDS:
        return []
    wait = timedelta(minutes=settings.CUSTOMER_STILL_ON_IT_MINUTES)
    candidates = (
        calls.filter(
            status__in=WAITING_STATUSES,
            scheduled_day__lte=timezone.localdate(now),
            created_at__lte=now - wait,
        )
        .filter(Q(window_start__isnull=True) | Q(window_start__lte=now - wait))
        .annotate(
            last_seq=_last_of(Kind.STILL_ON_IT, "sequence"),
            last_at=_last_of(Kind.STILL_ON_IT, "created_at"),
        )
        # Told within the last wait: not due, and not worth loading (most waiting calls, most
        # minutes).
        .filter(Q(last_at__isnull=True) | Q(last_at__lte=now - wait))
    )
    due = []
    for call in candidates:
        since = max(_waiting_since(call), call.last_at or _waiting_since(call))
        if now - since >= wait:
            due.append(DueMessage(call, Kind.STILL_ON_IT, (call.last_seq or 0) + 1, call.eta))
    return due


def messages_due(*, now: datetime, call_id: int | None = None) -> list[DueMessage]:
    """Every message due now (for one call, or all open calls of today and tomorrow)."""
    calls = _open_calls(call_id)
    # Bookings are confirmed whatever day they are for; the rest is about today's work (and
    # tomorrow's, for calls planned into a shift past midnight).
    near = calls.filter(scheduled_day__lte=timezone.localdate(now) + timedelta(days=1))
    return [
        *_bookings_due(calls, now),
        *_on_my_way_due(near, now),
        *_delays_due(near, now),
        *_still_on_it_due(near, now),
    ]


def messages_for_call(*, call_id: int) -> list[CustomerMessage]:
    """What the customer was sent about a call (the caller has checked access to the call)."""
    return list(CustomerMessage.objects.filter(call_id=call_id).order_by("created_at", "id"))


def messages_for_user(*, user, call_id: int) -> QuerySet[CustomerMessage]:
    """A call's customer messages for the API: the call through its door (404 outside the
    user's reach), then office staff only, like the tracking link the messages carry."""
    call = call_get_for_user(user=user, call_id=call_id)
    if not roles.is_office(user):
        raise NotAllowed("Only office staff see the messages sent to customers.")
    return CustomerMessage.objects.filter(call=call).order_by("created_at", "id")
