"""Recompute today's ETAs once, or every N seconds: the beat's job when Celery isn't running."""

from __future__ import annotations

import time
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from common import clock
from customers.messaging import customer_messages_sweep
from dispatch.services.background import (
    RECOMPUTE,
    heartbeat_beat,
    technicians_recompute_marked,
)
from dispatch.services.backlog import backlog_check
from dispatch.services.escalations import escalations_check
from dispatch.services.etas import etas_refresh_day
from dispatch.services.handoffs import handoff_offers_expire


class Command(BaseCommand):
    help = "Recompute every open queue of a day (default today); --every N repeats it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--day", help="YYYY-MM-DD; default: today in the company's time zone")
        parser.add_argument("--every", type=float, default=0, help="repeat every N seconds")

    def handle(self, *args, day: str | None, every: float, **options) -> None:
        try:
            fixed_day = date.fromisoformat(day) if day else None
        except ValueError:
            raise CommandError(f"--day must look like 2026-03-10, not {day!r}") from None
        while True:
            started = time.monotonic()
            now = clock.now()
            today = timezone.localdate(now)
            written = etas_refresh_day(day=fixed_day or today, now=now)
            if (fixed_day or today) == today:
                # Queues marked for a recompute whose in-process run failed are healed too.
                written += technicians_recompute_marked(now=now)
                heartbeat_beat(RECOMPUTE, now)
            self.stdout.write(f"recomputed ETAs: {written} calls changed")
            if every > 0:  # standing in for beat: the escalation rules run on the same minute
                opened = escalations_check(now=now)
                self.stdout.write(f"escalation rules: {opened} opened")
                raised, cleared = backlog_check(now=now)
                self.stdout.write(f"backlog alerts: {raised} raised, {cleared} cleared")
                lapsed = handoff_offers_expire(now=now)
                self.stdout.write(f"hand-off offers: {lapsed} expired")
                if not settings.REDIS_URL:  # with a broker, beat runs the sweep on a worker
                    sent = customer_messages_sweep(now=now)
                    self.stdout.write(f"customer messages: {sent} sent")
            if every <= 0:
                return
            time.sleep(max(0.0, every - (time.monotonic() - started)))
