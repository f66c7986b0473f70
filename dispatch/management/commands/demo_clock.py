"""`manage.py demo_clock`: the DEMO_CLOCK_OFFSET_MINUTES that shows the demo company mid-day.

Prints one integer on stdout (scripts/run.sh exports it before seeding and serving): 0 when the
real local time is between 09:00 and 15:00 (the demo's shifts are running anyway), else the
minutes from now to 10:30 of today (negative in the evening). What it means goes to stderr.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from common import clock


class Command(BaseCommand):
    help = "Print the DEMO_CLOCK_OFFSET_MINUTES that shows the demo at 10:30 outside 09:00-15:00."

    def handle(self, *args, **options):
        real = clock.real_now()
        offset = clock.demo_offset_for(real)
        local = timezone.localtime(real)
        if offset:
            shown = timezone.localtime(real + timedelta(minutes=offset))
            self.stderr.write(
                f"Real time {local:%H:%M}: the demo is shown as {shown:%H:%M} "
                f"(DEMO_CLOCK_OFFSET_MINUTES={offset})."
            )
        else:
            self.stderr.write(f"Real time {local:%H:%M}: the demo runs on real time.")
        self.stdout.write(str(offset))
