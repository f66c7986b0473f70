"""Escalations: raising one (by a person or a system rule), the rules, and resolving one.

Escalation raises priority and puts a manager in charge; it is never a referral. At most one
escalation per call is open at a time (a partial unique index guarantees it).

`raising` opens them (a person or a rule), `rules` are the automatic rules, `resolve` is the
manager's decision. Callers import from here.
"""

from dispatch.services.escalations.raising import call_escalate, escalation_raise
from dispatch.services.escalations.resolve import (
    Concession,
    MoveOrder,
    Reschedule,
    escalation_resolve,
)
from dispatch.services.escalations.rules import escalations_check

__all__ = [
    "Concession",
    "MoveOrder",
    "Reschedule",
    "call_escalate",
    "escalation_raise",
    "escalation_resolve",
    "escalations_check",
]
