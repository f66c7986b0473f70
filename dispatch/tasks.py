"""Celery tasks: thin wrappers that take ids and ISO dates and call one service."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from dispatch.services.etas import etas_refresh_day


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def recompute_day(day_iso: str | None = None) -> int:
    """Recompute every open queue of a day (default: today); idempotent, writes only changes."""
    day = date.fromisoformat(day_iso) if day_iso else timezone.localdate()
    return etas_refresh_day(day=day)
