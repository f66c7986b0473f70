"""Risk labels in order of badness; a blank (never computed) counts as ok."""

from __future__ import annotations

from dispatch.planning.eta import AT_RISK, LATE, OK, Leg, classify_risk

RISK_RANK = {"": 0, OK: 0, AT_RISK: 1, LATE: 2}


def risk_rank(leg: Leg, margin: float) -> int:
    return RISK_RANK[classify_risk(leg, margin)]


def risk_worse(before: str, after: str) -> bool:
    return RISK_RANK[after] > RISK_RANK[before]
