"""A call's risk in words for templates, by the one rule of dispatch/pages/risk_words.py:
`{{ call.p_late|on_time }}` ("72% on time"), `{{ call.slack_minutes|to_spare }}` ("20 min to
spare", "15 min past the deadline"; empty without a deadline), `{{ call|standing }}` ("Late", "At
risk", "Unassigned", "No deadline", "On time"), `{{ call|standing_class }}` and
`{{ call|waiting }}` ("waiting 1 h 30 min" for an unassigned call, else empty)."""

from __future__ import annotations

from django import template

from common import clock
from dispatch.pages import risk_words
from dispatch.pages.risk_words import NEAR_CERTAIN, on_time_words, slack_words, standing_of
from dispatch.selectors.waiting import waiting_since

__all__ = ["NEAR_CERTAIN", "on_time", "on_time_words", "standing", "to_spare", "waiting"]

register = template.Library()


@register.filter
def on_time(p_late: float | None) -> str:
    return on_time_words(p_late)


@register.filter
def to_spare(slack_minutes: float | None) -> str:
    return slack_words(slack_minutes)


@register.filter
def standing(call) -> str:
    return standing_of(call)


@register.filter
def standing_class(call) -> str:
    return risk_words.standing_class(standing_of(call))


@register.filter
def waiting(call) -> str:
    """How long an unassigned open call has waited, by the clock; empty for any other."""
    if call.technician_id is not None or call.status not in ("new", "assigned"):
        return ""
    since = waiting_since(call.created_at, call.window_start, call.scheduled_day)
    return risk_words.waiting_words(since, clock.now())
