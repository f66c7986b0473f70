"""What every page shows about the demo clock (common/clock.py): nothing unless it is shifted."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone

from common import clock


def demo_clock(request: HttpRequest) -> dict:
    offset = clock.offset_minutes()
    if not offset:
        return {"demo_clock": None}  # real time: no banner, no work
    real = timezone.localtime(clock.real_now())
    shown = timezone.localtime(real + timedelta(minutes=offset))
    return {
        "demo_clock": {
            "shown": f"{shown:%H:%M}",
            "real": f"{real:%H:%M}",
            "shown_day": f"{shown:%a %d %b}",
            "offset_minutes": offset,
        }
    }
