"""Risk transitions: ok -> at risk -> late and back, each one an event with the slack of the moment.

Called wherever stored ETAs change (the recompute, moves), so the audit log and the
auto-escalation clock (`risk_since`) never depend on which path changed the ETA.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dispatch.models import CallEvent
from dispatch.planning.risk import RISK_RANK, risk_worse
from dispatch.services.events import event_actor, events_append, jsonable


@dataclass(frozen=True)
class RiskChange:
    call_id: int
    risk_before: str
    risk_after: str
    slack_minutes: float | None
    eta: datetime | None


def risk_since_after(before: str, after: str, since: datetime | None, now: datetime):
    """When the current at-risk spell began: starts on leaving ok, ends on returning to it."""
    if RISK_RANK[after] == 0:
        return None
    if RISK_RANK[before] == 0 or since is None:
        return now
    return since


def _worse(change: RiskChange) -> bool:
    return risk_worse(change.risk_before, change.risk_after)


def risk_transitions_record(
    changes: Iterable[RiskChange],
    *,
    actor=None,
    also: Iterable[CallEvent] = (),
    locked: Iterable[int] = (),
) -> list[CallEvent]:
    """One `risk_raised` or `risk_cleared` event per call whose risk moved, with the writer's
    own events (`also`) in one batch of the audit log's writer (`locked`: calls the writer
    already holds FOR UPDATE). A call turning late may prepare a day plan (teams that ask for
    it)."""
    changes = list(changes)
    events = [
        CallEvent(
            call_id=c.call_id,
            actor=event_actor(actor),
            kind="risk_raised" if risk_worse(c.risk_before, c.risk_after) else "risk_cleared",
            payload=jsonable(
                {
                    "before": c.risk_before or "ok",
                    "after": c.risk_after,
                    "slack_minutes": c.slack_minutes,
                    "eta": c.eta,
                }
            ),
        )
        for c in changes
        if RISK_RANK[c.risk_after] != RISK_RANK[c.risk_before]
    ]
    turned_late = [c.call_id for c in changes if c.risk_after == "late" and c.risk_before != "late"]
    if turned_late:
        from dispatch.services.day_plans import replan_soon  # the planner builds on moves

        replan_soon(turned_late, "late")
    # `also`: the writer's own events first, in the same INSERT (a move's: one batch).
    return events_append([*also, *events], locked=locked)
