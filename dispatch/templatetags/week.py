"""The week view's call lines, rendered in Python with every person's text escaped (a week of 15
technicians is a few hundred lines: an include per line would be most of the page's time)."""

from __future__ import annotations

from html import escape

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from dispatch.pages.risk_words import (
    NO_DEADLINE,
    UNASSIGNED,
    risk_label,
    risk_words,
    short_standing,
    standing_class,
    standing_of,
)

register = template.Library()


_RISK_CLASS = {"late": "late", "at_risk": "at_risk"}


def _hm(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


@register.simple_tag
def week_call(call, cell, today) -> SafeString:
    """One call of a day cell: its risk in a word, its number (a link to the call page) and its
    summary; the title says the customer, the minutes, the window and the risk in full."""
    facts = [f"#{call.pk} {call.summary}", call.customer_name, f"{call.duration_minutes} min"]
    if call.window_start and call.deadline:
        facts.append(f"window {_hm(call.window_start)}–{_hm(call.deadline)}")
    elif call.deadline:
        facts.append(f"due {_hm(call.deadline)}")
    standing = standing_of(call)
    facts.append(
        standing
        if standing in (UNASSIGNED, NO_DEADLINE)
        else risk_words(risk_label(call.risk), call.slack_minutes, call.p_late)
    )
    if call.under_way:
        facts.append("under way: stays on its day")
    if call.reschedule_count:
        facts.append(f"rescheduled {call.reschedule_count}×")
    classes = ["wk-call", f"risk-{_RISK_CLASS.get(call.risk, 'ok')}"]
    if standing_class(standing):
        classes.append(standing_class(standing))
    if call.under_way:
        classes.append("wk-under-way")
    if call.priority == "emergency":
        classes.append("wk-emergency")
    movable = "" if call.under_way or cell.day < today else ' data-movable="1"'
    link = reverse("pages:call-page", args=[call.pk])
    return mark_safe(  # noqa: S308  # nosec B308 B703 - every value below is escaped or a number
        f'<li class="{" ".join(classes)}" id="wk-call-{call.pk}" data-call="{call.pk}" '
        f'data-version="{call.version}"{movable} title="{escape(" · ".join(facts))}">'
        f'<span class="wk-risk">{short_standing(standing)}</span> '
        f'<a href="{link}">#{call.pk}</a> <span class="wk-summary">{escape(call.summary)}</span>'
        "</li>"
    )
