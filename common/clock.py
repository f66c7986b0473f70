"""The one place services ask for the time, so tests can pass their own.

`now()` is real time plus `DEMO_CLOCK_OFFSET_MINUTES` (0 outside demos): `make run` at 22:30
sets the offset that shows the demo company at 10:30 (`manage.py demo_clock`,
docs/demo.md), and every page, service, worker and the seed then agree on that time. Tests
replace `now` itself (`clock_at`), which the offset does not touch.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

# Where `demo_clock` puts the demo when the real hour shows an empty board: mid-morning, with
# every shift of the demo company running and most of the day's calls still ahead.
DEMO_SHOWN_AT = time(10, 30)
# Real local hours in which the demo needs no offset: shifts are on and calls are open.
DEMO_LIVE_FROM, DEMO_LIVE_UNTIL = time(9, 0), time(15, 0)


def offset_minutes() -> int:
    return settings.DEMO_CLOCK_OFFSET_MINUTES  # config/settings.py, 0 unless a demo


def real_now() -> datetime:
    return timezone.now()


def now() -> datetime:
    offset = offset_minutes()
    moment = real_now()
    return moment + timedelta(minutes=offset) if offset else moment


def demo_offset_for(real: datetime) -> int:
    """Minutes to add to `real` so the demo shows 10:30 of the same day; 0 within 09:00-15:00."""
    local = timezone.localtime(real)
    if DEMO_LIVE_FROM <= local.time() < DEMO_LIVE_UNTIL:
        return 0
    shown = datetime.combine(local.date(), DEMO_SHOWN_AT, local.tzinfo)
    return math.ceil((shown - local).total_seconds() / 60)  # shown from 10:30, not 10:29
