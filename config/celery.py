from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dispatch_board")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _add_backlog_check(sender: Celery, **kwargs: object) -> None:
    # The backlog alert (issue 8) joins the minute-by-minute runs of settings.CELERY_BEAT_SCHEDULE:
    # every team's unassigned backlog against its remaining capacity. Same expiry rule: a run that
    # waited past the next tick is dropped; the next one does the same work with a fresher "now".
    sender.add_periodic_task(
        60.0, sender.signature("dispatch.tasks.check_backlog"), name="check-backlog", expires=55
    )


@app.on_after_finalize.connect
def _add_nightly_learning(sender: Celery, **kwargs: object) -> None:
    # Learned durations (issue 18) are refitted once a night, when no call is being worked:
    # 09:15 UTC is 03:15 in Chicago (04:15 in summer). The task object itself, not its name, so a
    # rename cannot silently leave the beat calling nothing. Imported here because the tasks
    # module needs Django's apps, which are ready only once the app is finalized.
    from dispatch.tasks import learn_durations

    sender.add_periodic_task(
        crontab(hour=9, minute=15), learn_durations.s(), name="learn-durations", expires=3600
    )
