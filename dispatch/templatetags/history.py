"""`{{ event|event_reason }}`: the reason an event gives, in words a person reads.

A move's reason is what a person typed and is shown as typed (escaped like any text); an
escalation's reason is a code ("deadline_risk") and is shown as its label ("Deadline at risk").
`{{ event|event_message }}`: a customer message's kind ("still_on_it") as its label ("We are
still on it"); words a person wrote to the customer are shown as written.
"""

from __future__ import annotations

from django import template

from customers.models import CustomerMessage
from dispatch.models import Escalation

register = template.Library()

_REASON_WORDS = dict(Escalation.Reason.choices)
_MESSAGE_WORDS = dict(CustomerMessage.Kind.choices)


@register.filter
def event_reason(event) -> str:
    reason = (event.payload or {}).get("reason") or ""
    if event.kind == "escalated":
        return str(_REASON_WORDS.get(reason, reason))
    return str(reason)


@register.filter
def event_message(event) -> str:
    message = str((event.payload or {}).get("message") or "")
    if event.kind == "customer_notified":
        return str(_MESSAGE_WORDS.get(message, message))
    return message
