from __future__ import annotations

import os

from celery import Celery

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
