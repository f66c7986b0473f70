"""The customer's tracking page (`track`) and what it says: a pure function of the call and the
time (`tracking_for`).

The arrival window narrows as the day goes: early on (more than two hours out) the customer sees
the window we promised; as arrival nears it becomes the estimate: the 10th to 90th percentile
arrival the recompute stored (docs/planning.md "Risk as a probability"), which narrows by itself
as the uncertain jobs and drives ahead of the visit are done. A call with an ETA but no stored
percentiles (written before they existed) gets the ETA plus or minus a margin that shrinks with
the time left (a quarter of it, between 10 and 60 minutes). En route and within a few minutes it
is "arriving now". A late estimate is shown as it is, never hidden behind the
promise. Only what a customer may see leaves here: the technician's first name, never anything
about other calls or the board.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from common import clock
from common.errors import NotFound
from dispatch import selectors
from dispatch.models import ServiceCall

MIN_MARGIN = timedelta(minutes=10)
MAX_MARGIN = timedelta(minutes=60)
MARGIN_SHARE = 0.25
ARRIVING_NOW = timedelta(minutes=5)
# Further out than this, a booked window is what we stand by; an estimate is too early to trust.
NARROW_WITHIN = timedelta(hours=2)
ROUND_TO = 5  # minutes: a window of 10:05-10:25, not 10:07-10:23


@dataclass(frozen=True)
class Tracking:
    status: str  # planning | scheduled | en_route | arriving | on_site | completed | cancelled
    technician: str | None  # first name only
    window: tuple[datetime, datetime] | None
    promised: bool  # the window shown is the one we promised
    late: bool  # the estimate is later than the promise
    expected: datetime | None = None  # the most likely arrival, when the window is an estimate
    by: datetime | None = None  # no window to show, but a deadline still ahead: "by 11:00"


def _floor(t: datetime) -> datetime:
    t = t.replace(second=0, microsecond=0)
    return t - timedelta(minutes=t.minute % ROUND_TO)


def _ceil(t: datetime) -> datetime:
    floored = _floor(t)
    return floored if floored == t else floored + timedelta(minutes=ROUND_TO)


def first_name(call: ServiceCall) -> str | None:
    if call.technician_id is None:
        return None
    parts = call.technician.name.split()
    return parts[0] if parts else None


def margin_for(time_left: timedelta) -> timedelta:
    seconds = max(time_left.total_seconds(), 0) * MARGIN_SHARE
    return min(MAX_MARGIN, max(MIN_MARGIN, timedelta(minutes=math.ceil(seconds / 60))))


def _promised_window(call: ServiceCall) -> tuple[datetime, datetime] | None:
    if call.window_start and call.deadline:
        return call.window_start, call.deadline
    return None


def estimate_window(expected: datetime, now: datetime) -> tuple[datetime, datetime]:
    margin = margin_for(expected - now)
    start = max(_floor(expected - margin), _floor(now))
    return start, _ceil(expected + margin)


def likely_window(call: ServiceCall, expected: datetime, now: datetime):
    """P10-P90 of the arrival (a wait for the booked window moves both to its start), at least
    MIN_MARGIN wide; the margin rule when the call has no stored percentiles."""
    if call.eta_p10 is None or call.eta_p90 is None:
        return estimate_window(expected, now)
    low, high = call.eta_p10, call.eta_p90
    if call.window_start:
        low, high = max(low, call.window_start), max(high, call.window_start)
    start = max(_floor(low), _floor(now))
    return start, max(_ceil(high), start + MIN_MARGIN)


def _promise_stands(promised, estimate, expected: datetime, now: datetime) -> bool:
    """Show the booked window while arrival is far off, or while it is the narrower of the two."""
    if promised is None:
        return False
    far_off = expected - now > NARROW_WITHIN
    return far_off or estimate[1] - estimate[0] >= promised[1] - promised[0]


def _planned_window(call: ServiceCall, now: datetime) -> Tracking:
    status = "en_route" if call.status == "en_route" else "scheduled"
    name, promised = first_name(call), _promised_window(call)
    if call.eta is None:
        ahead = call.deadline if call.deadline and call.deadline > now else None
        by = None if promised else ahead
        return Tracking("planning", name, promised, promised is not None, False, by=by)
    # Arriving before the window opens means waiting for it: the customer sees the later time.
    expected = max(call.eta, call.window_start) if call.window_start else call.eta
    if status == "en_route" and expected - now <= ARRIVING_NOW:
        return Tracking("arriving", name, None, False, False)
    start, end = likely_window(call, expected, now)
    if call.window_start and start < call.window_start:
        start = call.window_start
    late = call.deadline is not None and expected > call.deadline
    if not late and _promise_stands(promised, (start, end), expected, now):
        return Tracking(status, name, promised, True, False)
    return Tracking(status, name, (start, end), False, late, expected)


def tracking_for(call: ServiceCall, now: datetime) -> Tracking:
    if call.status in ("completed", "cancelled", "on_site"):
        return Tracking(call.status, first_name(call), None, False, False)
    return _planned_window(call, now)


@require_GET
def track(request: HttpRequest, token: str) -> HttpResponse:
    """What the customer sees from their link: status and arrival window, nothing internal."""
    now = clock.now()
    try:
        call = selectors.call_get_for_tracking(token=token, now=now)
    except NotFound:
        raise Http404("This tracking link is not valid.") from None
    context = {
        "call": call,
        "tracking": tracking_for(call, now),
        "today": timezone.localdate(now),
    }
    response = render(request, "dispatch/track.html", context)
    response["Cache-Control"] = "no-store"
    # The token is the key: it must not leak to other sites through Referer, or into a search
    # engine's index.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
