"""`{{ call.p_late|on_time }}`: the chance of being on time in words ("72% on time")."""

from __future__ import annotations

from django import template

register = template.Library()


def on_time_words(p_late: float | None) -> str:
    """ "72% on time"; never "100%" or "0%" for what 256 draws only make very likely: the ends
    read ">99%" and "<1%". Empty without a deadline (no chance to speak of)."""
    if p_late is None:
        return ""
    if p_late < 0.005:
        return ">99% on time"
    if p_late > 0.995:
        return "<1% on time"
    return f"{round(100 * (1.0 - p_late))}% on time"


@register.filter
def on_time(p_late: float | None) -> str:
    return on_time_words(p_late)
