"""The risk rule, and risk labels in order of badness (a blank, never computed, counts as ok).

A queued call is **late** when its planned arrival is past the deadline, **at risk** when the
chance of arriving after the deadline (``odds.queue_odds``, from the durations learned) is above
``Rules.p_at_risk``, else **ok**. The chance replaces the old fixed slack margin for every call
in a queue: a 20-minute filter change behind a steady queue is not at risk with 25 minutes in
hand, a call behind a four-hour boiler replacement may be with 90.

Where there is no queue to draw a distribution from (an unassigned call) and in the what-if
pricing of a move (``insertion``, ``ripple``, ``rescue``, ``day_plan``: thousands of
hypothetical legs per question), ``eta.classify_risk`` screens by slack against
``Rules.risk_margin``; what is stored and shown for a queued call is always ``risk_of``.
"""

from __future__ import annotations

from dispatch.planning.eta import AT_RISK, LATE, OK, Leg, classify_risk

RISK_RANK = {"": 0, OK: 0, AT_RISK: 1, LATE: 2}


def risk_of(late: bool, p_late: float | None, p_at_risk: float) -> str:
    """The rule for a queued call: late, at risk (P(late) above ``p_at_risk``) or ok."""
    if late:
        return LATE
    if p_late is not None and p_late > p_at_risk:
        return AT_RISK
    return OK


def risk_rank(leg: Leg, margin: float) -> int:
    return RISK_RANK[classify_risk(leg, margin)]


def risk_worse(before: str, after: str) -> bool:
    return RISK_RANK[after] > RISK_RANK[before]
