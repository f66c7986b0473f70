"""The one protocol for changing the board (DESIGN.md "Changing the board").

Every assign, unassign, move and reorder goes through `call_move`; `call_move_preview` runs the
same planning without writing. Steps: lock the affected technicians in id order, check the
client's version, rewrite positions, recompute both queues with the engine, write one event,
and enqueue background work only after commit (notifications and escalation checks arrive with
the background-work issue; nothing is enqueued yet).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Value
from django.utils import timezone

from dispatch import clock, roles
from dispatch.errors import Busy, InvalidInput, MoveConflict, NotAllowed, NotFound
from dispatch.models import ServiceCall
from dispatch.planning.eligibility import unable
from dispatch.planning.eta import Leg
from dispatch.planning.ripple import Ripple, at_door, ripple_between
from dispatch.planning.risk import RISK_RANK
from dispatch.planning.routes import WORKING_STATUSES, Route, first_free_position
from dispatch.selectors import call_get_for_user
from dispatch.selectors.planning import (
    EtaFields,
    fields_of,
    place_of,
    planning_rules,
    promises_of,
    queued_from,
    route_of,
    travel_provider,
    unassigned_fields,
    worker_of,
)
from dispatch.services.background import enqueue
from dispatch.services.bulk import objects_update
from dispatch.services.etas import ETA_FIELDS
from dispatch.services.events import event_record
from dispatch.services.risk import RiskChange, risk_since_after, risk_transitions_record
from technicians.models import Technician

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_PGCODES = {"40P01", "40001"}  # deadlock detected, serialization failure
MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class RippleEntry:
    call_id: int
    summary: str
    technician_id: int | None
    eta_before: datetime | None
    eta_after: datetime | None
    risk_before: str
    risk_after: str
    shift_minutes: float | None
    promise_broken: bool = False
    moved: bool = False

    @property
    def worsened(self) -> bool:
        return RISK_RANK[self.risk_after] > RISK_RANK[self.risk_before]


@dataclass
class MovePlan:
    call: ServiceCall
    source_id: int | None
    target_id: int | None
    queues: dict[int, list[ServiceCall]]  # technician id -> calls in their new order
    after: dict[int, EtaFields]
    ripple: list[RippleEntry]
    takes_from_working_tech: bool
    kind: str
    version_before: int = 0
    warnings: list[str] = field(default_factory=list)  # eligibility, in words: a dispatcher's
    # override needs confirming ("missing skill: plumbing", "shift ends 17:00")
    target: Technician | None = None
    summary: Ripple = field(
        default_factory=Ripple
    )  # the planning core's ripple to every other call
    promised_shifted: list[int] = field(default_factory=list)  # promised ETAs moved past the
    # ripple-shift setting (the moved call's own included)

    def ripple_for(self, user) -> list[RippleEntry]:
        """The ripple as this user may see it: a technician sees other queues anonymously."""
        if roles.is_office(user):
            return self.ripple
        me = roles.technician_of(user)
        own = me.pk if me else None
        return [
            e if e.moved or e.technician_id == own else replace(e, summary="A teammate's call")
            for e in self.ripple
        ]

    @property
    def needs_confirmation(self) -> bool:
        """A drop that hurts someone must be confirmed; a harmless one commits at once."""
        hurts = any(e.worsened or e.promise_broken for e in self.ripple)
        return hurts or self.takes_from_working_tech or bool(self.warnings or self.promised_shifted)


@dataclass
class MoveResult:
    plan: MovePlan
    applied: bool

    @property
    def call(self) -> ServiceCall:
        return self.plan.call


# --- entry points -----------------------------------------------------------------------------


def call_move(
    *,
    user,
    call_id: int,
    technician_id: int | None,
    position: int | None,
    expected_version: int,
    reason: str = "",
    require_confirmation: bool = False,
    now: datetime | None = None,
) -> MoveResult:
    """Move a call; with `require_confirmation`, a harmful move is planned but not applied."""

    def attempt() -> MoveResult:
        with transaction.atomic():
            return call_move_within(
                user=user,
                call_id=call_id,
                technician_id=technician_id,
                position=position,
                expected_version=expected_version,
                reason=reason,
                require_confirmation=require_confirmation,
                now=now,
            )

    return with_retries(attempt)


def call_move_within(
    *,
    user,
    call_id: int,
    technician_id: int | None,
    position: int | None,
    expected_version: int,
    reason: str = "",
    require_confirmation: bool = False,
    now: datetime | None = None,
) -> MoveResult:
    """The move inside a transaction the caller owns (and retries), e.g. resolving an escalation."""
    plan = _plan(user, call_id, technician_id, position, expected_version, reason, now)
    if require_confirmation and plan.needs_confirmation:
        return MoveResult(plan, applied=False)
    _require_reason(plan, reason)
    _apply(plan, user, reason, now or clock.now())
    # Escalation rules look at the new state once it is durable; a broker outage costs at most
    # its connect timeout and the beat's next run does the same check.
    transaction.on_commit(_check_escalations_soon)
    return MoveResult(plan, applied=True)


def call_release_within(
    *,
    user,
    call_id: int,
    expected_version: int,
    reason: str,
    now: datetime | None = None,
) -> MoveResult:
    """A technician gives their own call back to the unassigned list ("can't complete").

    The one exception to "technicians can't unassign": the call is theirs and they say why, so
    the dispatcher finds it waiting with the reason. Inside a transaction the caller owns.
    """
    if not reason.strip():
        raise InvalidInput("Say why the call can't be completed.", field="reason")
    plan = _plan(user, call_id, None, None, expected_version, reason, now, allow=_check_release)
    _apply(plan, user, reason, now or clock.now())
    transaction.on_commit(_check_escalations_soon)
    return MoveResult(plan, applied=True)


def _check_release(user, call, target, taking: bool, reason: str) -> None:
    if roles.can_move_any(user):
        return
    me = roles.technician_of(user)
    if me is None or call.technician_id != me.pk or taking:
        raise NotAllowed("Only the technician on the call can give it back this way.")


def _check_escalations_soon() -> None:
    if not settings.REDIS_URL:
        return  # no workers: `recompute_etas --every` runs the rules each minute instead
    enqueue("dispatch.tasks.check_escalations")


def call_move_preview(
    *,
    user,
    call_id: int,
    technician_id: int | None,
    position: int | None,
    expected_version: int,
    reason: str = "",
    now: datetime | None = None,
) -> MovePlan:
    """The ripple of a move, computed exactly as the move would, writing nothing."""

    def attempt() -> MovePlan:
        with transaction.atomic():
            return _plan(user, call_id, technician_id, position, expected_version, reason, now)

    return with_retries(attempt)


def with_retries(fn: Callable[[], T]) -> T:
    """Retry the whole transaction on deadlock or serialization failure, then give up politely."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return fn()
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) not in RETRYABLE_PGCODES:
                raise
            log.warning("move retry %s after %s", attempt + 1, exc.__cause__.pgcode)
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)  # noqa: S311 - jitter, not crypto
    raise Busy("The board is busy right now and the move was not made. Please try again.")


# --- planning ---------------------------------------------------------------------------------


def _plan(
    user, call_id, technician_id, position, expected_version, reason, now, allow=None
) -> MovePlan:
    now = now or clock.now()
    allow = allow or _check_allowed
    call = call_get_for_user(user=user, call_id=call_id, related=False)
    target_id = _target_id(technician_id)
    _check_position(position, target_id)
    techs = _lock_technicians({call.technician_id, target_id})
    target = _target_technician(target_id, techs)
    call = _relock_call(call.pk)
    _check_version(call, expected_version)
    _check_locked_source(call, techs)
    _check_movable(call)
    taking = _takes_from_working_tech(call, target)
    allow(user, call, target, taking, reason)
    _check_not_reordering_work_under_way(call, target)
    plan = _plan_queues(call, target, position, taking, now, techs)
    _check_eligible(user, plan, target, now)
    _check_claim_keeps_own_calls(user, plan)
    return plan


def _target_id(technician_id) -> int | None:
    if technician_id in (None, ""):
        return None
    try:
        return int(technician_id)
    except (ValueError, TypeError):
        raise InvalidInput(
            f"Technician {technician_id} does not exist.", field="technician"
        ) from None


def _target_technician(target_id: int | None, locked: dict[int, Technician]) -> Technician | None:
    """The target, from the rows just locked: a technician missing there does not exist."""
    if target_id is None:
        return None
    if target_id not in locked:
        raise InvalidInput(f"Technician {target_id} does not exist.", field="technician")
    return locked[target_id]


def _check_position(position: int | None, target_id: int | None) -> None:
    if target_id is None:
        return
    if position is None or isinstance(position, bool) or not isinstance(position, int):
        raise InvalidInput("Give the queue position as a whole number, 0 for first.", "position")
    if position < 0:
        raise InvalidInput("The queue position cannot be negative; 0 is first.", "position")


def _lock_technicians(ids: set[int | None]) -> dict[int, Technician]:
    """Lock the technicians in id order and return them, as the plan needs them anyway."""
    # Always in id order: two moves touching the same pair of technicians queue, not deadlock.
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    locked = Technician.objects.select_for_update().filter(id__in=wanted).order_by("id")
    return {t.pk: t for t in locked}


def _relock_call(call_id: int) -> ServiceCall:
    return ServiceCall.objects.select_for_update().select_related("site").get(pk=call_id)


def _check_version(call: ServiceCall, expected_version: int) -> None:
    if expected_version != call.version:
        raise MoveConflict(
            f"Someone else changed call #{call.pk} ({call.summary}) while you were looking. "
            "The board has been refreshed; check the call and try again."
        )


def _check_locked_source(call: ServiceCall, techs: dict[int, Technician]) -> None:
    # The call's technician was read before the locks; if it changed since, the plan would
    # rewrite a queue nobody locked. Whatever changed it, the client's view is stale.
    if call.technician_id is not None and call.technician_id not in techs:
        raise MoveConflict(
            f"Call #{call.pk} ({call.summary}) changed hands while you were looking. "
            "The board has been refreshed; check the call and try again."
        )


def _check_movable(call: ServiceCall) -> None:
    if call.status in ("completed", "cancelled"):
        raise InvalidInput(f"Call #{call.pk} is {call.status} and can no longer be moved.")


def _check_not_reordering_work_under_way(call: ServiceCall, target: Technician | None) -> None:
    if call.status in WORKING_STATUSES and target is not None and target.pk == call.technician_id:
        raise InvalidInput(
            f"Call #{call.pk} is already {call.get_status_display().lower()}; it stays first in "
            f"{call.technician}'s queue. Move the other calls instead."
        )


def _takes_from_working_tech(call: ServiceCall, target: Technician | None) -> bool:
    return call.status in WORKING_STATUSES and (target is None or target.pk != call.technician_id)


def _require_reason(plan: MovePlan, reason: str) -> None:
    # Asked for in the confirm step (or in the API body): never applied without one.
    call = plan.call
    if plan.takes_from_working_tech and not reason.strip():
        raise InvalidInput(
            f"{call.technician} is already {call.get_status_display().lower()} for this call. "
            "Give a reason; they will be told.",
            field="reason",
        )


def _check_allowed(user, call, target, taking: bool, reason: str) -> None:
    if taking:
        if not roles.can_take_from_working_tech(user):
            raise NotAllowed(
                f"{call.technician} is already {call.get_status_display().lower()} for this call; "
                "only a dispatcher or manager can take it away."
            )
        return
    if roles.can_move_any(user):
        return
    if roles.CSR in roles.roles_of(user):
        if call.status in ("new", "assigned"):
            return
        raise NotAllowed("A CSR can move only unassigned calls and calls not yet started.")
    _check_technician_move(user, call, target)


def _check_technician_move(user, call: ServiceCall, target: Technician | None) -> None:
    me = roles.technician_of(user)
    if me is None:
        raise NotAllowed("You may not move calls.")
    if call.technician_id == me.pk and target is not None:
        if target.team_id != me.team_id:
            raise NotAllowed(
                f"You can hand a call only to a teammate; {target} is on another team."
            )
        return  # reorder own queue, or hand a call to a teammate
    if call.technician_id is None and target is not None and target.pk == me.pk:
        return  # a claim: whether they are able is the eligibility rule's (_check_eligible)
    if call.technician_id is None:
        raise NotAllowed("A technician can claim an unassigned call only for themselves.")
    if call.technician_id != me.pk:
        raise NotFound(f"Service call {call.pk} was not found.")
    raise NotAllowed("Technicians can't send calls back to the unassigned list.")


def _check_claim_keeps_own_calls(user, plan: MovePlan) -> None:
    """A technician may claim an unassigned call only if none of their own calls turns late."""
    me = roles.technician_of(user)
    if roles.is_office(user) or me is None or plan.source_id is not None:
        return
    if plan.target_id != me.pk:
        return
    hurt = [
        e
        for e in plan.ripple
        if not e.moved and e.technician_id == me.pk and e.risk_after == "late"
        if e.risk_before != "late"
    ]
    if hurt:
        first = hurt[0]
        eta = timezone.localtime(first.eta_after).strftime("%H:%M") if first.eta_after else "?"
        others = f" and {len(hurt) - 1} more" if len(hurt) > 1 else ""
        raise NotAllowed(
            f"You can't claim call #{plan.call.pk}: it would make your call #{first.call_id} "
            f"({first.summary}) late, arriving {eta}{others}. Ask the dispatcher instead."
        )


def _load_queues(technician_ids: list[int], day) -> dict[int, list[ServiceCall]]:
    """Both queues of a move in one query, each in queue order."""
    queues: dict[int, list[ServiceCall]] = {tid: [] for tid in technician_ids}
    calls = (
        ServiceCall.objects.select_related("site")
        .filter(
            technician_id__in=technician_ids,
            scheduled_day=day,
            status__in=ServiceCall.QUEUED_STATUSES,
        )
        .order_by("position", "id")
    )
    for call in calls:
        queues[call.technician_id].append(call)
    return queues


def _route(tech: Technician, queue: list[ServiceCall], day, now, arrived_id: int | None) -> Route:
    # A call that arrives from another queue is only assigned there, whatever it was before.
    queued = [queued_from(c, "assigned" if c.pk == arrived_id else None) for c in queue]
    return route_of(place_of(tech), queued, day, now)


def _insert_at(queue: list[ServiceCall], call: ServiceCall, position: int) -> None:
    # Work under way (on the way or on site) stays first: nothing is put ahead of it here;
    # redirecting a technician is "taking" that call, which has its own rules.
    floor = first_free_position([c.status for c in queue])
    queue.insert(max(floor, min(position, len(queue))), call)


@dataclass
class _Planned:
    """Both sides of a move as the planning core times them."""

    legs: dict[int, Leg]
    fields: dict[int, EtaFields]
    shift_end: dict[int, float]


def _planned(queues: dict[int, list[ServiceCall]], techs, call, source_id, day, now, travel):
    margin = planning_rules().risk_margin
    legs, fields, ends = {}, {}, {}
    for tid, queue in queues.items():
        route = _route(techs[tid], queue, day, now, call.pk if tid != source_id else None)
        for leg in route.plan(travel):
            legs[leg.id], ends[leg.id] = leg, route.shift_end
            fields[leg.id] = fields_of(leg, margin, route.shift_end)
    if call.pk not in fields:
        fields[call.pk] = unassigned_fields(call.deadline, now)
    return _Planned(legs, fields, ends)


def _plan_queues(call, target, position, taking, now, techs: dict[int, Technician]) -> MovePlan:
    day, travel = call.scheduled_day, travel_provider()
    source_id, target_id = call.technician_id, (target.pk if target else None)
    before_queues = _load_queues(list(techs), day)
    after_queues = {
        tid: [c for c in queue if c.pk != call.pk] for tid, queue in before_queues.items()
    }
    if target_id is not None:
        _insert_at(after_queues[target_id], call, position)
    before = _planned(before_queues, techs, call, source_id, day, now, travel)
    after = _planned(after_queues, techs, call, source_id, day, now, travel)
    calls = {c.pk: c for queue in before_queues.values() for c in queue} | {call.pk: call}
    rules, promises = planning_rules(), promises_of((pk, c.promised_eta) for pk, c in calls.items())
    summary = ripple_between(
        before.legs, after.legs, rules=rules, promises=promises, shift_end=after.shift_end,
        skip=call.pk,
    )  # fmt: skip
    return MovePlan(
        call=call,
        source_id=source_id,
        target_id=target_id,
        queues=after_queues,
        after=after.fields,
        ripple=_ripple(calls, before, after, after_queues, call.pk, promises),
        takes_from_working_tech=taking,
        kind=_move_kind(source_id, target_id),
        version_before=call.version,
        target=target,
        summary=summary,
        promised_shifted=_promised_shifted(calls, before.legs, after.legs, rules.ripple_shift),
    )


def _promised_shifted(calls, before: dict[int, Leg], after: dict[int, Leg], limit: float):
    return [
        pk
        for pk, leg in after.items()
        if calls[pk].promised_eta is not None
        and pk in before
        and abs(leg.start - before[pk].start) > limit
    ]


def _move_kind(source_id: int | None, target_id: int | None) -> str:
    if source_id is None:
        return "assigned"
    return "reordered" if source_id == target_id else "moved"


def _at_door(legs: dict[int, Leg], pk: int) -> float | None:
    return at_door(legs.get(pk))


def _ripple(calls, before: _Planned, after: _Planned, after_queues, moved_id, promises):
    owner = {c.pk: tid for tid, queue in after_queues.items() for c in queue}
    entries = []
    for pk, new in after.fields.items():
        old = before.fields.get(pk, EtaFields(None, None, None, None, "", False))
        shift = None
        if old.eta is not None and new.eta is not None:
            shift = round((new.eta - old.eta).total_seconds() / 60.0, 1)
        changed = shift is None or abs(shift) > 1 or old.risk != new.risk
        if pk == moved_id or changed:
            entries.append(
                RippleEntry(
                    call_id=pk,
                    summary=calls[pk].summary,
                    technician_id=owner.get(pk),
                    eta_before=old.eta,
                    eta_after=new.eta,
                    risk_before=old.risk,
                    risk_after=new.risk,
                    shift_minutes=shift,
                    promise_broken=promises.broken(
                        pk, _at_door(before.legs, pk), _at_door(after.legs, pk)
                    ),
                    moved=pk == moved_id,
                )
            )
    return sorted(entries, key=lambda e: (not e.moved, e.technician_id or 0, e.call_id))


# --- eligibility ------------------------------------------------------------------------------


def _skills_of(call: ServiceCall, tech: Technician) -> tuple[set[str], set[str]]:
    """The call's needs and the technician's skills, in one query."""
    needs = ServiceCall.skills.through.objects.filter(servicecall_id=call.pk).values_list(
        Value("call"), "skill__code"
    )
    has = Technician.skills.through.objects.filter(technician_id=tech.pk).values_list(
        Value("tech"), "skill__code"
    )
    found: dict[str, set[str]] = {"call": set(), "tech": set()}
    for side, code in needs.union(has, all=True):
        found[side].add(code)
    return found["call"], found["tech"]


def _check_eligible(user, plan: MovePlan, target: Technician | None, now: datetime) -> None:
    """One eligibility rule for every move to another technician: a dispatcher's override is
    warned and must be confirmed; anyone else is refused with the reason."""
    call = plan.call
    if target is None or target.pk == plan.source_id:
        return
    needs, skills = _skills_of(call, target)
    worker = worker_of(target, skills, call.scheduled_day, now)
    arrival = plan.after[call.pk].eta
    reasons = unable(
        worker,
        needs,
        now=now.timestamp(),
        emergency=call.priority == "emergency",
        at=arrival.timestamp() if arrival else None,
    )
    if not reasons:
        return
    if not roles.can_move_any(user):
        raise NotAllowed(f"{target.name} can't take call #{call.pk}: {'; '.join(reasons)}.")
    plan.warnings.extend(f"{target.name}: {reason}" for reason in reasons)


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
    _apply_moved_call(plan, now, risks)
    _rewrite_queues(plan, now, risks)
    broken = {e.call_id for e in plan.ripple if e.promise_broken}
    _count_reschedules(broken)
    # Every other field of `call` was set here and saved above; only the counter moved in SQL.
    if call.pk in broken:
        call.refresh_from_db(fields=["reschedule_count"])
    event_record(
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
    for entry in plan.ripple:
        if entry.promise_broken and not entry.moved:
            event_record(
                call=ServiceCall(pk=entry.call_id),
                actor=user,
                kind="eta_changed",
                cause=f"call #{call.pk} {plan.kind}",
                rescheduled=True,
                before=entry.eta_before,
                after=entry.eta_after,
            )
    risk_transitions_record(risks, actor=user)
    if plan.takes_from_working_tech:
        event_record(
            call=call,
            actor=user,
            kind="tech_notified",
            technician=plan.source_id,
            message=f"Call #{call.pk} was taken from you: {reason}",
        )


def _set_eta(call: ServiceCall, fields: EtaFields, now: datetime, risks: list[RiskChange]) -> None:
    """Store planned ETA fields on a call, noting a risk transition for the audit log."""
    risks.append(RiskChange(call.pk, call.risk, fields.risk, fields.slack_minutes, fields.eta))
    call.risk_since = risk_since_after(call.risk, fields.risk, call.risk_since, now)
    for name in ETA_FIELDS:
        setattr(call, name, getattr(fields, name))
    call.eta_computed_at = now


def _apply_moved_call(plan: MovePlan, now: datetime, risks: list[RiskChange]) -> None:
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
    _set_eta(call, plan.after[call.pk], now, risks)
    call.save(
        update_fields=[
            "technician",
            "status",
            "en_route_at",
            "started_at",
            "position",
            "version",
            *ETA_FIELDS,
            "eta_computed_at",
            "risk_since",
            "updated_at",
        ]
    )


def _rewrite_queues(plan: MovePlan, now: datetime, risks: list[RiskChange]) -> None:
    # Positions are rewritten densely (0..n-1); the unique (technician, day, position) constraint
    # is deferred to commit, so the intermediate duplicates of a shift are fine.
    changed = []
    for queue in plan.queues.values():
        for index, queued in enumerate(queue):
            queued.position = index
            if queued.pk != plan.call.pk:  # the moved call was stored already
                _set_eta(queued, plan.after[queued.pk], now, risks)
            changed.append(queued)
    if changed:
        fields = ["position", *ETA_FIELDS, "eta_computed_at", "risk_since"]
        objects_update(changed, fields)


def _count_reschedules(call_ids: set[int]) -> None:
    if call_ids:
        from django.db.models import F

        ServiceCall.objects.filter(pk__in=call_ids).update(
            reschedule_count=F("reschedule_count") + 1
        )


def _ripple_json(entry: RippleEntry) -> dict:
    # No summaries in the log: a technician reading their call's history must not learn
    # about calls outside their own queue.
    # A shallow copy: asdict deep-copied every datetime (a twentieth of a move's time).
    data = {f.name: getattr(entry, f.name) for f in fields(entry) if f.name != "summary"}
    for key in ("eta_before", "eta_after"):
        data[key] = data[key].isoformat() if data[key] else None
    return data
