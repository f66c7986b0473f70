"""`manage.py seed_demo [--seed N] [--day YYYY-MM-DD]`: a demo company and its day.

Wipes the dispatch data (calls, events, escalations, sites, customers, technicians, teams,
skills) and the demo logins, then builds them again; the generation lives in dispatch/demo/.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from dispatch.demo import demo_build, summary_lines


def iso_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        # argparse turns this into a usage error: a message, not a traceback.
        raise argparse.ArgumentTypeError(f"must be YYYY-MM-DD, got {value!r}") from exc


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

    def handle(self, *args, seed: int, day: date | None, **options):
        now = timezone.now()
        started = time.perf_counter()
        result = demo_build(seed=seed, day=day or timezone.localdate(now), now=now)
        elapsed = time.perf_counter() - started
        for line in summary_lines(result):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Seeded in {elapsed:.1f} s."))
