"""Customer messages: find what is due, write it down once, deliver it, log it on the call.

Two steps, both idempotent:
1. plan: every due message becomes one CustomerMessage row per channel, inserted with ON
   CONFLICT DO NOTHING on its dedupe key, so concurrent sweeps write each row once;
2. deliver: each pending row is locked (SKIP LOCKED: two sweeps never send the same row), sent,
   marked and logged as a `customer_notified` event in one transaction. A channel that fails
   stays pending with a later `next_attempt_at` (1, 2, 4 ... minutes), so the next sweep retries
   it; it never raises into its caller and it never touches queues, so no move waits on it.

Callers run this from Celery (the beat's sweep every minute, `messages_send_for_call` after a
booking commits), or from the in-process loop when there is no broker.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max

from common import clock
from customers import sms
from customers.models import CustomerMessage
from customers.selectors import DueMessage, messages_due
from customers.texts import message_compose, update_compose
from dispatch.services.background import enqueue
from dispatch.services.events import event_record

log = logging.getLogger(__name__)

Status = CustomerMessage.Status
Kind = CustomerMessage.Kind
CLOSED = ("completed", "cancelled")
Channel = CustomerMessage.Channel
DELIVER_BATCH = 500
# One run stops taking new batches after this long (the beat comes again in a minute).
DELIVER_SECONDS = 50

NO_ADDRESS = {
    Channel.EMAIL: "The customer has no email address on file.",
    Channel.SMS: "The customer has no phone number on file.",
}


def _recipient(call, channel: str) -> str:
    customer = call.customer
    return (customer.email if channel == Channel.EMAIL else customer.phone).strip()


def _rows(
    *, call, kind: str, sequence: int, change: str, text: tuple[str, str], eta, now: datetime
) -> list[CustomerMessage]:
    """One row per configured channel; `change` makes the dedupe key (what this message is
    about: the nth delay, a given escalation)."""
    subject, body = text
    rows = []
    for channel in settings.CUSTOMER_MESSAGE_CHANNELS:
        recipient = _recipient(call, channel)
        rows.append(
            CustomerMessage(
                call=call,
                kind=kind,
                sequence=sequence,
                channel=channel,
                dedupe_key=f"{call.pk}:{kind}:{change}:{channel}",
                recipient=recipient,
                subject=subject,
                body=body,
                eta=eta,
                detail="" if recipient else NO_ADDRESS[channel],
                next_attempt_at=now,
                created_at=now,
            )
        )
    return rows


def _rows_for(due: DueMessage, now: datetime) -> list[CustomerMessage]:
    text = message_compose(call=due.call, kind=due.kind, eta=due.eta, now=now)
    return _rows(
        call=due.call,
        kind=due.kind,
        sequence=due.sequence,
        change=str(due.sequence),
        text=text,
        eta=due.eta,
        now=now,
    )


def customer_messages_plan(*, now: datetime, call_id: int | None = None) -> int:
    """Write a pending row for every message due now; returns how many were due (rows already
    written by an earlier or concurrent sweep are left alone)."""
    due = messages_due(now=now, call_id=call_id)
    rows = [row for item in due for row in _rows_for(item, now)]
    CustomerMessage.objects.bulk_create(rows, ignore_conflicts=True)
    return len(due)


def customer_update_queue(*, call, text: str, change: str, now: datetime | None = None) -> None:
    """Queue a person's message to the customer (in the caller's transaction) and have it sent
    once that commits. `change` names what it answers (e.g. "escalation-12"): the same change
    never sends twice."""
    now = now or clock.now()
    last = CustomerMessage.objects.filter(call=call, kind=Kind.UPDATE).aggregate(n=Max("sequence"))
    rows = _rows(
        call=call,
        kind=Kind.UPDATE,
        sequence=(last["n"] or 0) + 1,
        change=change,
        text=update_compose(call=call, text=text),
        eta=None,
        now=now,
    )
    CustomerMessage.objects.bulk_create(rows, ignore_conflicts=True)
    from customers.tasks import messages_send_for_call  # the tasks module imports this one

    transaction.on_commit(partial(enqueue, messages_send_for_call, call.pk))


def _send(message: CustomerMessage) -> None:
    if message.channel == Channel.EMAIL:
        EmailMessage(message.subject, message.body, to=[message.recipient]).send()
    else:
        sms.sms_backend().send(sms.Sms(to=message.recipient, body=message.body))


def _log(message: CustomerMessage) -> None:
    event_record(
        call=message.call,
        actor=None,
        kind="customer_notified",
        message=message.kind,
        channel=message.channel,
        to=message.recipient,
        status=message.status,
        eta=message.eta,
        reason=message.detail,
        body=message.body,
    )


def _finish(message: CustomerMessage, status: str, now: datetime, detail: str = "") -> None:
    message.status = status
    message.detail = (detail or message.detail)[:300]
    message.sent_at = now if status == Status.SENT else None
    message.save(update_fields=["status", "detail", "sent_at", "attempts"])
    _log(message)


def _retry_later(message: CustomerMessage, now: datetime, error: Exception) -> None:
    detail = f"{type(error).__name__}: {error}"
    if message.attempts >= settings.CUSTOMER_MESSAGE_MAX_ATTEMPTS:
        _finish(message, Status.FAILED, now, f"Gave up after {message.attempts} tries. {detail}")
        return
    message.detail = detail[:300]
    message.next_attempt_at = now + timedelta(minutes=2 ** (message.attempts - 1))
    message.save(update_fields=["detail", "next_attempt_at", "attempts"])


@transaction.atomic
def _deliver_one(message_id: int, now: datetime) -> bool:
    # Only the message row is locked (of=self: never the call), so a slow provider holds up no
    # move; the call comes along for the history entry.
    message = (
        CustomerMessage.objects.select_related("call")
        .select_for_update(skip_locked=True, of=("self",))
        .filter(pk=message_id, status=Status.PENDING)
        .first()
    )
    if message is None:
        return False  # sent, or being sent, by another sweep
    if not message.recipient:
        _finish(message, Status.SKIPPED, now)
        return False
    if message.kind != Kind.UPDATE and message.call.status in CLOSED:
        # News about a visit that is over (a retry outlived it) would only confuse.
        _finish(message, Status.SKIPPED, now, f"The call was {message.call.status} first.")
        return False
    message.attempts += 1
    try:
        _send(message)
    except sms.SmsNotConfigured as exc:
        _finish(message, Status.SKIPPED, now, str(exc))
        return False
    except Exception as exc:  # whatever the channel does, record it and try again later
        log.warning("Customer message %s failed on try %s: %s", message.pk, message.attempts, exc)
        _retry_later(message, now, exc)
        return False
    _finish(message, Status.SENT, now)
    return True


def customer_messages_deliver(*, now: datetime, call_id: int | None = None) -> int:
    """Send every pending message whose time has come; returns how many were sent.

    Works in batches until none is left or DELIVER_SECONDS have passed (a burst, say a morning's
    bookings, drains in one run instead of one batch a minute); the next sweep carries on, and a
    sweep running beside this one takes different rows.
    """
    pending = CustomerMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
    if call_id is not None:
        pending = pending.filter(call_id=call_id)
    pending = pending.order_by("id").values_list("id", flat=True)
    sent, after, stop_at = 0, 0, time.monotonic() + DELIVER_SECONDS
    while time.monotonic() < stop_at:
        ids = list(pending.filter(id__gt=after)[:DELIVER_BATCH])
        if not ids:
            break
        sent += sum(_deliver_one(pk, now) for pk in ids)
        after = max(ids)
    return sent


def customer_messages_sweep(*, now: datetime | None = None, call_id: int | None = None) -> int:
    """Plan what is due and deliver what is pending (all calls, or one); returns messages sent."""
    now = now or clock.now()
    customer_messages_plan(now=now, call_id=call_id)
    return customer_messages_deliver(now=now, call_id=call_id)
