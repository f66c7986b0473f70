"""`{{ event|event_reason }}`: the reason an event gives, in words a person reads.

A move's reason is what a person typed and is shown as typed (escaped like any text); an
escalation's reason is a code ("deadline_risk") and is shown as its label ("Deadline at risk").
"""

from __future__ import annotations

from django import template

from dispatch.models import Escalation

register = template.Library()

_REASON_WORDS = dict(Escalation.Reason.choices)


@register.filter
def event_reason(event) -> str:
    reason = (event.payload or {}).get("reason") or ""
    if event.kind == "escalated":
        return str(_REASON_WORDS.get(reason, reason))
    return str(reason)
