from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dispatch_board")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _add_beat_schedule(sender: Celery, **kwargs: object) -> None:
    # Finalized means Django is set up and the task modules import (beat finalizes before it
    # reads the schedule), so the schedule can name the task objects (config/beat.py).
    from config.beat import beat_schedule

    sender.conf.beat_schedule = {**sender.conf.beat_schedule, **beat_schedule()}
