"""Celery tasks for customer messages: thin wrappers over customers.messaging.

Both are idempotent (dedupe keys and row locks; see customers/messaging.py). A channel failure
is not a task failure: it is recorded and retried by the next sweep with backoff. The task
itself is retried only when something else breaks (the database, say).
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from common import clock
from customers.messaging import customer_messages_sweep
from dispatch.tasks import TASK_OPTIONS


def parse_now(now_iso: str | None) -> datetime:
    if not now_iso:
        return clock.now()
    now = datetime.fromisoformat(now_iso)
    return now if timezone.is_aware(now) else timezone.make_aware(now)


@shared_task(**TASK_OPTIONS)
def messages_sweep(now_iso: str | None = None) -> int:
    """Every message due on any open call, and every retry due; returns messages sent."""
    return customer_messages_sweep(now=parse_now(now_iso))


@shared_task(**TASK_OPTIONS)
def messages_send_for_call(call_id: int, now_iso: str | None = None) -> int:
    """The messages due for one call, at once: enqueue after a commit that made one due
    (booking, status en_route) rather than waiting for the minute's sweep."""
    return customer_messages_sweep(now=parse_now(now_iso), call_id=call_id)
