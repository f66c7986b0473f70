"""Applying a planned move: positions, ETA fields, reschedule counts, the audit log."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

from django.utils import timezone

from dispatch.models import ServiceCall
from dispatch.selectors.queue_fields import (
    EtaFields,
)
from dispatch.services.ask_events import asks_overtake
from dispatch.services.bulk import rows_update
from dispatch.services.etas import ETA_FIELDS
from dispatch.services.events import event_of
from dispatch.services.moves.result import MovePlan, RippleEntry
from dispatch.services.risk import RiskChange, risk_since_after, risk_transitions_record
from dispatch.services.technicians import technician_released

# --- applying ---------------------------------------------------------------------------------


def _apply(plan: MovePlan, user, reason: str, now: datetime) -> None:
    call = plan.call
    before = {
        "technician": call.technician_id,
        "position": call.position,
        "status": call.status,
        "eta": call.eta,
    }
    risks: list[RiskChange] = []
    broken = {e.call_id for e in plan.ripple if e.promise_broken}
    _place_moved_call(plan, now, risks)
    _write_queues(plan, now, risks, broken)
    if plan.takes_from_working_tech:
        # They were on their way to (or at) this call: no longer, so not "En route" any more.
        technician_released(technician_id=plan.source_id)
        reason = reason.strip() or _agreed(plan)
    if plan.ask is not None and plan.ask.status == "open":
        asks_overtake(call=call, user=user, why=f"call #{call.pk} {plan.kind}", now=now)
    events = [
        event_of(
            call=call,
            actor=user,
            kind=plan.kind,
            reason=reason,
            before=before,
            after={
                "technician": call.technician_id,
                "position": call.position,
                "status": call.status,
                "eta": call.eta,
            },
            rescheduled=call.pk in broken,
            ripple=[_ripple_json(e) for e in plan.ripple if not e.moved],
        )
    ]
    events += [
        event_of(
            call=ServiceCall(pk=entry.call_id),
            actor=user,
            kind="eta_changed",
            cause=f"call #{call.pk} {plan.kind}",
            rescheduled=True,
            before=entry.eta_before,
            after=entry.eta_after,
        )
        for entry in plan.ripple
        if entry.promise_broken and not entry.moved
    ]
    if plan.takes_from_working_tech:
        events.append(
            event_of(
                call=call,
                actor=user,
                kind="tech_notified",
                technician=plan.source_id,
                message=f"Call #{call.pk} was taken from you: {reason}",
            )
        )
    # Every event of the move, risk transitions included, in one batch: one INSERT, the chain
    # heads read once; the moved call's row is already locked (checks._read_call).
    risk_transitions_record(risks, actor=user, also=events, locked=(call.pk,))


def _agreed(plan: MovePlan) -> str:
    # No reason needed: they were asked and said to hand it over (checks._require_asked_or_reason).
    # Read by both sides (the technician's notice, the office's history), so in no one's person.
    agreed = plan.ask is not None and plan.ask.status == "agreed"
    return f"agreed when asked: “{plan.ask.answer_words}”" if agreed else ""


def _set_eta(call: ServiceCall, fields: EtaFields, now: datetime, risks: list[RiskChange]) -> None:
    """Store planned ETA fields on a call, noting a risk transition for the audit log."""
    risks.append(RiskChange(call.pk, call.risk, fields.risk, fields.slack_minutes, fields.eta))
    call.risk_since = risk_since_after(call.risk, fields.risk, call.risk_since, now)
    for name in ETA_FIELDS:
        setattr(call, name, getattr(fields, name))
    if call.p_late_planned is None and fields.p_late is not None:
        # A call's first p_late is its forecast (the dashboard's calibration), whichever writer
        # queued it first: the recompute keeps the same rule (services/etas.py).
        call.p_late_planned = fields.p_late
    call.eta_computed_at = now


def _place_moved_call(plan: MovePlan, now: datetime, risks: list[RiskChange]) -> None:
    call = plan.call
    call.technician_id = plan.target_id
    call.status = (
        "new"
        if plan.target_id is None
        else ("assigned" if plan.takes_from_working_tech or call.status == "new" else call.status)
    )
    if plan.takes_from_working_tech:
        call.en_route_at = call.started_at = None
    call.position = plan.queues[plan.target_id].index(call) if plan.target_id else None
    call.version += 1
    call.updated_at = timezone.now()  # as auto_now would
    _set_eta(call, plan.after[call.pk], now, risks)


# Every queued row's place and ETA fields; the moved call's own columns besides.
_QUEUE_FIELDS = ["position", *ETA_FIELDS, "eta_computed_at", "risk_since", "p_late_planned"]
_MOVED_FIELDS = ["technician", "status", "en_route_at", "started_at", "version", "updated_at"]


def _write_queues(plan: MovePlan, now: datetime, risks: list[RiskChange], broken) -> None:
    """Both queues and the moved call in one UPDATE (the raw transaction's shape): positions
    rewritten densely (0..n-1; the unique (technician, day, position) constraint is deferred to
    commit, so the intermediate duplicates of a shift are fine), the moved call's technician,
    status and version only on its row, a broken promise counted on each row it broke."""
    call = plan.call
    rows = [call] + [q for queue in plan.queues.values() for q in queue if q.pk != call.pk]
    for queue in plan.queues.values():
        for index, queued in enumerate(queue):
            queued.position = index
            if queued.pk != call.pk:
                _set_eta(queued, plan.after[queued.pk], now, risks)
    values = []
    for row in rows:
        moved = row.pk == call.pk
        own = [getattr(row, "technician_id" if f == "technician" else f) for f in _MOVED_FIELDS]
        values.append((row.pk, *(getattr(row, f) for f in _QUEUE_FIELDS), *own, moved,
                       int(row.pk in broken)))  # fmt: skip
        if row.pk in broken:
            row.reschedule_count += 1  # as stored: the answer's cards show it
    rows_update(
        ServiceCall, _QUEUE_FIELDS, values, flagged=_MOVED_FIELDS, added=["reschedule_count"]
    )


def _ripple_json(entry: RippleEntry) -> dict:
    # No summaries in the log: a technician reading their call's history must not learn
    # about calls outside their own queue.
    # A shallow copy: asdict deep-copied every datetime (a twentieth of a move's time).
    data = {f.name: getattr(entry, f.name) for f in fields(entry) if f.name != "summary"}
    for key in ("eta_before", "eta_after"):
        data[key] = data[key].isoformat() if data[key] else None
    return data
