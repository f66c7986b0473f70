"""A call's risk in words for templates, by the one rule of dispatch/pages/risk_words.py:
`{{ call.p_late|on_time }}` ("72% on time"), `{{ call.slack_minutes|to_spare }}` ("20 min to
spare", "15 min past the deadline"; empty without a deadline)."""

from __future__ import annotations

from django import template

from dispatch.pages.risk_words import NEAR_CERTAIN, on_time_words, slack_words

__all__ = ["NEAR_CERTAIN", "on_time", "on_time_words", "to_spare"]

register = template.Library()


@register.filter
def on_time(p_late: float | None) -> str:
    return on_time_words(p_late)


@register.filter
def to_spare(slack_minutes: float | None) -> str:
    return slack_words(slack_minutes)
