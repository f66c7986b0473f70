"""How long a call has been waiting: one rule for the board, the escalation rules and the
customer's "still on it" messages."""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone


def waiting_since(
    created_at: datetime | None,
    window_start: datetime | None,
    scheduled_day: date,
    *,
    day_starts: time = time.min,
) -> datetime:
    """When the customer started waiting: booked, the window open, and the call's day begun
    (at `day_starts`, local time: the customer messages count from the working day's start)."""
    day_start = datetime.combine(scheduled_day, day_starts, timezone.get_current_timezone())
    return max(t for t in (created_at, window_start, day_start) if t is not None)
