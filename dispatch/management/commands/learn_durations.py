"""`manage.py learn_durations`: fit the job and drive spreads from the completed calls now
(the beat does it nightly)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dispatch.services.durations import durations_learn


class Command(BaseCommand):
    help = "Learn how long jobs and drives really take, from the completed calls."

    def handle(self, *args, **options):
        learning = durations_learn()
        self.stdout.write(learning.words().capitalize() + ".")
