"""What each customer message says: plain text, short enough for a text message.

Times are the company's local time; the technician is named by first name only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import dateformat, timezone

from customers.models import CustomerMessage
from dispatch import selectors
from dispatch.models import ServiceCall
from dispatch.pages.tracking import first_name

Kind = CustomerMessage.Kind


def tracking_url(call: ServiceCall) -> str:
    return selectors.tracking_url(call.tracking_token)


def clock_time(value: datetime, day: date) -> str:
    """ "14:20", or "Wed 11 Mar 14:20" when it is not on `day` (the day the text is about)."""
    local = timezone.localtime(value)
    if local.date() == day:
        return dateformat.format(local, "H:i")
    return dateformat.format(local, "D j M H:i")


def _promise(call: ServiceCall) -> str | None:
    day = call.scheduled_day
    if call.window_start and call.deadline:
        start, end = clock_time(call.window_start, day), clock_time(call.deadline, day)
        return f"between {start} and {end}"
    if call.deadline:
        return f"by {clock_time(call.deadline, day)}"
    if call.promised_eta:
        return f"around {clock_time(call.promised_eta, day)}"
    return None


def _booking(call: ServiceCall, eta: datetime | None, now: datetime) -> tuple[str, str]:
    day = dateformat.format(call.scheduled_day, "l j F")
    promise = _promise(call)
    when = f"We will arrive {promise}." if promise else "We will tell you when we are on the way."
    return (
        f"Your service visit on {day} is booked",
        f'We have booked your visit for "{call.summary}" on {day}. {when}',
    )


def _on_my_way(call: ServiceCall, eta: datetime | None, now: datetime) -> tuple[str, str]:
    who = first_name(call) or "Your technician"
    today = timezone.localdate(now)
    arrive = f" and should arrive around {clock_time(eta, today)}" if eta else ""
    return (f"{who} is on the way", f"{who} is on the way to you{arrive}.")


# The 80th-percentile arrival is worth a sentence only when it says more than the ETA does.
P80_WORTH_SAYING = timedelta(minutes=5)


def _past(eta: datetime, end: datetime) -> bool:
    """Later than `end` as the customer reads it: to the minute shown ("around 10:00" is not
    later than "by 10:00", whatever the seconds)."""
    return eta.replace(second=0, microsecond=0) > end


def _delay(call: ServiceCall, eta: datetime | None, now: datetime) -> tuple[str, str]:
    """Either the ETA is past the promise ("later than the time we gave you"), or it is still
    inside it but the call is likely to miss it (p_late): then it says "may", never "later".
    The ETA is the expected arrival; the P80 ("most likely by") is added when it is later."""
    today = timezone.localdate(now)
    promise = _promise(call)
    late = eta is None or call.deadline is None or _past(eta, call.deadline)
    new = f"around {clock_time(eta, today)}" if eta else "later"
    if late:
        subject, opening = "We are running late", "Sorry, we are running late"
        gap = f"later than the time we gave you ({promise})" if promise else "later than we said"
    else:
        subject, opening = "We may be running late", "Sorry, we may be running late"
        gap = f"but we may not make the time we gave you ({promise})"
    p80 = call.eta_p80
    likely = ""
    if eta and p80 and p80 - eta >= P80_WORTH_SAYING:
        likely = f" Most likely we will be there by {clock_time(p80, today)}."
    return (
        subject,
        f"{opening}: we now expect to arrive {new}, {gap}.{likely} We will keep you posted.",
    )


def _still_on_it(call: ServiceCall, eta: datetime | None, now: datetime) -> tuple[str, str]:
    if eta:
        plan = f"We expect to arrive around {clock_time(eta, timezone.localdate(now))}."
    else:
        plan = "We are finding the right technician and will tell you when one is on the way."
    return (
        "We are still on it",
        f'We have not forgotten your request "{call.summary}". {plan}',
    )


def update_compose(*, call: ServiceCall, text: str) -> tuple[str, str]:
    """A person's own words, with the same greeting and link as every other message."""
    return (
        "An update about your service visit",
        f"{call.customer.name}: {text.strip()}\nFollow your visit: {tracking_url(call)}",
    )


COMPOSERS = {
    Kind.BOOKING_CONFIRMATION: _booking,
    Kind.ON_MY_WAY: _on_my_way,
    Kind.DELAY: _delay,
    Kind.STILL_ON_IT: _still_on_it,
}


def message_compose(
    *, call: ServiceCall, kind: str, eta: datetime | None, now: datetime
) -> tuple[str, str]:
    """(subject, body) of a message; the body ends with the tracking link."""
    subject, text = COMPOSERS[kind](call, eta, now)
    return subject, f"{call.customer.name}: {text}\nFollow your visit: {tracking_url(call)}"
