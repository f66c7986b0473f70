"""`manage.py seed_demo [--seed N] [--day YYYY-MM-DD] [--yes-wipe-everything]`: a demo company
and its day.

Wipes the dispatch data (calls, events, escalations, sites, customers, technicians, teams,
skills) and the demo logins, then builds them again; the generation lives in dispatch/demo/.
With DEBUG off (a deploy, maybe production) it refuses unless told --yes-wipe-everything: one
mistyped command must not erase a real company's day (issue 19).
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from common import clock
from dispatch.demo import demo_build, summary_lines


def iso_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        # argparse turns this into a usage error: a message, not a traceback.
        raise argparse.ArgumentTypeError(f"must be YYYY-MM-DD, got {value!r}") from exc


WIPE_FLAG = "--yes-wipe-everything"


class Command(BaseCommand):
    help = (
        "Replace ALL dispatch data (calls, customers, technicians, teams, skills) with a demo "
        "Chicago service company and one day of calls; same seed and day, same data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--day", type=iso_day, default=None, help="the day of the calls (default: today)"
        )
        parser.add_argument(
            WIPE_FLAG,
            action="store_true",
            help="required when DEBUG is off: confirms that ALL dispatch data is to be deleted",
        )

    def handle(self, *args, seed: int, day: date | None, yes_wipe_everything: bool, **options):
        if not settings.DEBUG and not yes_wipe_everything:
            raise CommandError(
                "DEBUG is off, so this may be a real deployment: seed_demo would delete ALL "
                "calls, customers, technicians, teams and skills. Run it again with "
                f"{WIPE_FLAG} if that is what you want."
            )
        # The services' clock: with DEMO_CLOCK_OFFSET_MINUTES (make run at night) the day is
        # built around the shown time, so the company is mid-day whenever the demo starts.
        now = clock.now()
        started = time.perf_counter()
        result = demo_build(seed=seed, day=day or timezone.localdate(now), now=now)
        elapsed = time.perf_counter() - started
        for line in summary_lines(result):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Seeded in {elapsed:.1f} s."))
