"""`{{ call.p_late|on_time }}`: the chance of being on time in words ("72% on time")."""

from __future__ import annotations

from django import template

register = template.Library()

# Closer than this to 0 or 1, 256 draws make a chance very likely, not certain: it reads ">99%"
# or "<1%", and a block that already says "Late" does not repeat "<1% on time".
NEAR_CERTAIN = 0.005


def on_time_words(p_late: float | None) -> str:
    """ "72% on time"; never "100%" or "0%" for what 256 draws only make very likely: the ends
    read ">99%" and "<1%". Empty without a deadline (no chance to speak of)."""
    if p_late is None:
        return ""
    if p_late < NEAR_CERTAIN:
        return ">99% on time"
    if p_late > 1.0 - NEAR_CERTAIN:
        return "<1% on time"
    return f"{round(100 * (1.0 - p_late))}% on time"


@register.filter
def on_time(p_late: float | None) -> str:
    return on_time_words(p_late)
