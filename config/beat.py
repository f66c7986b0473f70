"""The beat's schedule, built from the task objects themselves (`task.name`), so a renamed or
moved task fails at import rather than leaving an entry no worker knows.

Imported by config/celery.py once the app is finalized: the tasks import models, so this module
cannot be read with the settings.
"""

from __future__ import annotations

from celery.schedules import crontab

from customers.tasks import messages_sweep
from dispatch.tasks import (
    check_backlog,
    check_escalations,
    expire_handoff_offers,
    learn_durations,
    recompute_day,
    recompute_technicians,
)

# A run that waited in the queue past the next tick is dropped (`expires`): the next one does
# the same work with a fresher "now".
EVERY_MINUTE = {"schedule": 60.0, "options": {"expires": 55}}


def beat_schedule() -> dict[str, dict]:
    return {
        # Time passing shrinks slack: every open queue of today is recomputed each minute.
        "recompute-today": {"task": recompute_day.name, **EVERY_MINUTE},
        # Technicians marked for a recompute (location pings, moves) are healed each minute too,
        # in case the task enqueued for them was lost.
        "recompute-marked-technicians": {"task": recompute_technicians.name, **EVERY_MINUTE},
        "check-escalations": {"task": check_escalations.name, **EVERY_MINUTE},
        # Every team's unassigned backlog against its remaining capacity (the backlog alert).
        "check-backlog": {"task": check_backlog.name, **EVERY_MINUTE},
        # Hand-off offers nobody answered lapse, and the dispatcher is told.
        "expire-handoff-offers": {"task": expire_handoff_offers.name, **EVERY_MINUTE},
        # Messages that came due (delay notices after a recompute, long waits) and deliveries
        # that failed and are due for another try.
        "customer-messages": {"task": messages_sweep.name, **EVERY_MINUTE},
        # Learned durations are refitted once a night, when no call is being worked: 09:15 UTC
        # is 03:15 in Chicago (04:15 in summer).
        "learn-durations": {
            "task": learn_durations.name,
            "schedule": crontab(hour=9, minute=15),
            "options": {"expires": 3600},
        },
    }
