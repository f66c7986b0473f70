"""Planning a move: lock, check, then time both queues with the planning core (writes nothing)."""

from __future__ import annotations

from dataclasses import dataclass

from common import clock, roles
from common.errors import InvalidInput
from dispatch.models import ServiceCall
from dispatch.planning.eta import Leg
from dispatch.planning.ripple import at_door, ripple_between
from dispatch.planning.routes import WORKING_STATUSES, Route, first_free_position
from dispatch.selectors import skill_codes_subquery
from dispatch.selectors.asks import latest_ask
from dispatch.selectors.board import card_annotations
from dispatch.selectors.durations import learned_durations
from dispatch.selectors.planning import (
    place_of,
    planning_rules,
    promises_of,
    queued_from,
    route_of,
    travel_provider,
)
from dispatch.selectors.queue_fields import EtaFields, route_fields, unassigned_fields
from dispatch.services.moves.checks import (
    _call_id,
    _check_allowed,
    _check_claim_keeps_own_calls,
    _check_eligible,
    _check_locked_source,
    _check_movable,
    _check_not_reordering_work_under_way,
    _check_position,
    _check_version,
    _lock_technicians,
    _read_call,
    _takes_from_working_tech,
    _target_id,
    _target_technician,
)
from dispatch.services.moves.result import MovePlan, RippleEntry
from technicians.models import Technician

# --- planning ---------------------------------------------------------------------------------


def _plan(
    user,
    call_id,
    technician_id,
    position,
    expected_version,
    reason,
    now,
    allow=None,
    lock: bool = True,
) -> MovePlan:
    """Lock (a preview: read) the technicians and the call, check, and time both queues."""
    now = now or clock.now()
    allow = allow or _check_allowed
    call_id = _call_id(call_id)
    try:
        target_id = _target_id(technician_id)
        _check_position(position, target_id)
    except InvalidInput as exc:
        bad_input, target_id = exc, None
    else:
        bad_input = None
    techs = _lock_technicians(call_id, target_id, lock)
    call = _read_call(user, call_id, lock)  # a call out of reach is "not found" before all else
    if bad_input is not None:
        raise bad_input
    target = _target_technician(target_id, techs)
    _check_version(call, expected_version)
    _check_locked_source(call, techs)
    _check_movable(call)
    taking = _takes_from_working_tech(call, target)
    allow(user, call, target, taking, reason)
    _check_not_reordering_work_under_way(call, target)
    me = roles.technician_of(user)
    plan = _plan_queues(call, target, position, taking, now, techs, me.pk if me else None)
    _check_eligible(user, plan, target, now)
    _check_claim_keeps_own_calls(user, plan)
    return plan


def _load_queues(technician_ids: list[int], day) -> dict[int, list[ServiceCall]]:
    """Both queues of a move in one query, each in queue order."""
    queues: dict[int, list[ServiceCall]] = {tid: [] for tid in technician_ids}
    calls = (
        ServiceCall.objects.select_related("site")
        # What the changed columns' cards show, so the answer is rendered from these rows.
        .annotate(**card_annotations(), skill_codes=skill_codes_subquery(ServiceCall))
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


def _planned(
    queues: dict[int, list[ServiceCall]], techs, call, source_id, day, now, travel, learned
):
    legs, fields, ends = {}, {}, {}
    for tid, queue in queues.items():
        route = _route(techs[tid], queue, day, now, call.pk if tid != source_id else None)
        planned = route.plan(travel)
        for leg in planned:
            legs[leg.id], ends[leg.id] = leg, route.shift_end
        categories = [c.category_id for c in queue]
        fields.update(route_fields(route, planned, categories, tid, learned, now))
    if call.pk not in fields:
        fields[call.pk] = unassigned_fields(call.deadline, now)
    return _Planned(legs, fields, ends)


def _plan_queues(
    call, target, position, taking, now, techs: dict[int, Technician], acting: int | None
) -> MovePlan:
    """`acting`: the technician making the move, if one is: their own next call is theirs to
    change, nobody asks them."""
    day, travel = call.scheduled_day, travel_provider()
    source_id, target_id = call.technician_id, (target.pk if target else None)
    before_queues = _load_queues(list(techs), day)
    after_queues = {
        tid: [c for c in queue if c.pk != call.pk] for tid, queue in before_queues.items()
    }
    if target_id is not None:
        _insert_at(after_queues[target_id], call, position)
    learned = learned_durations()
    before = _planned(before_queues, techs, call, source_id, day, now, travel, learned)
    after = _planned(after_queues, techs, call, source_id, day, now, travel, learned)
    calls = {c.pk: c for queue in before_queues.values() for c in queue} | {call.pk: call}
    rules, promises = planning_rules(), promises_of((pk, c.promised_eta) for pk, c in calls.items())
    summary = ripple_between(
        before.legs, after.legs, rules=rules, promises=promises, shift_end=after.shift_end,
        skip=call.pk,
    )  # fmt: skip
    next_changed = _next_calls_changed(
        before_queues, after_queues, call.pk, source_id if taking else None
    )
    next_changed.pop(acting, None)
    plan = MovePlan(
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
        technicians=techs,
        summary=summary,
        promised_shifted=_promised_shifted(calls, before.legs, after.legs, rules.ripple_shift),
        next_changed=next_changed,
    )
    # Only a move that touches someone under way reads its ask: others pay no query.
    asked = plan.asked_technician_id
    plan.ask = latest_ask(call_id=call.pk, technician_id=asked) if asked else None
    return plan


def _next_calls_changed(before, after, moved_id: int, taking_from: int | None) -> dict:
    """Technicians under way whose next call the move changes: id -> (next before, next after).
    Taking the call someone is on is asked about as such, not as a change of their next call."""

    def next_of(queue) -> int | None:
        # The moved call counts as waiting wherever it lands: it is not under way there.
        return next(
            (c.pk for c in queue if c.pk == moved_id or c.status not in WORKING_STATUSES), None
        )

    changed = {}
    for tid, queue in before.items():
        under_way = any(c.status in WORKING_STATUSES and c.pk != moved_id for c in queue)
        if tid == taking_from or not under_way:
            continue
        pair = (next_of(queue), next_of(after[tid]))
        if pair[0] != pair[1]:
            changed[tid] = pair
    return changed


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
