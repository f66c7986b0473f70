"""Who may make a move, and whether it can be made at all: refused before anything is written."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from common import roles
from common.errors import InvalidInput, MoveConflict, NotAllowed, NotFound
from dispatch.models import ServiceCall
from dispatch.planning.eligibility import unable
from dispatch.planning.routes import WORKING_STATUSES
from dispatch.selectors import calls_visible_to, skill_codes_subquery
from dispatch.selectors.board import card_annotations
from dispatch.selectors.planning import (
    worker_of,
)
from dispatch.selectors.rota import on_call_spans
from dispatch.services.moves.result import MovePlan
from technicians.models import Technician


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


def _call_id(call_id) -> int:
    try:
        return int(call_id)
    except (ValueError, TypeError):
        raise NotFound(f"Service call {call_id} was not found.") from None


def _lock_technicians(call_id: int, target_id: int | None, lock: bool) -> dict[int, Technician]:
    """The call's technician and the target in one statement, locked in id order (a preview
    reads them unlocked), as the plan needs them anyway."""
    # Always in id order: two moves touching the same pair of technicians queue, not deadlock.
    # The call's technician is read inside the statement; if it changes before the call's own
    # lock, `_check_locked_source` refuses the move.
    where = Q(id__in=ServiceCall.objects.filter(pk=call_id).order_by().values("technician_id"))
    if target_id is not None:
        where |= Q(id=target_id)
    techs = (
        Technician.objects.filter(where)
        .annotate(skill_codes=skill_codes_subquery(Technician))  # for the eligibility rule
        .order_by("id")
    )
    if lock:
        techs = techs.select_for_update()
    return {t.pk: t for t in techs}


def _read_call(user, call_id: int, lock: bool) -> ServiceCall:
    """The one read of the call, through the user's door, under its lock (after the
    technicians'), with what its card and the eligibility rule need."""
    calls = (
        calls_visible_to(user)
        .select_related(None)
        .prefetch_related(None)
        .select_related("site")
        .annotate(**card_annotations(), skill_codes=skill_codes_subquery(ServiceCall))
    )
    if lock:
        calls = calls.select_for_update(of=("self",))
    try:
        return calls.get(pk=call_id)
    except ServiceCall.DoesNotExist:
        raise NotFound(f"Service call {call_id} was not found.") from None


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


def _require_asked_or_reason(plan: MovePlan, reason: str, now: datetime, wait: bool) -> None:
    """A move that touches a technician under way (takes the call they are on, or changes the
    one they go to next): if they were asked and agreed, it goes; while their answer is not yet
    due it waits. Taking the call they are on without their agreement (not asked, no answer in
    time, or "yes, I'll make it") needs a reason, asked for in the confirm step or the API body,
    and they are told; a changed next call they see on their phone."""
    state = plan.ask_state(now)
    if state in ("", "agreed"):
        return
    if state == "waiting" and wait:
        ask = plan.ask
        due = timezone.localtime(ask.answer_by).strftime("%H:%M")
        raise InvalidInput(
            f"{ask.technician} was asked “{ask.question}” and has until {due} to answer. "
            f"Nothing changes until they answer or {due} passes.",
            field="reason",
        )
    call = plan.call
    if plan.takes_from_working_tech and not reason.strip():
        raise InvalidInput(
            f"{call.technician} is already {call.get_status_display().lower()} for this call. "
            "Ask them first, or give a reason; they will be told.",
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


# --- eligibility ------------------------------------------------------------------------------


def _check_eligible(user, plan: MovePlan, target: Technician | None, now: datetime) -> None:
    """One eligibility rule for every move to another technician: a dispatcher's override is
    warned and must be confirmed; anyone else is refused with the reason."""
    call = plan.call
    if target is None or target.pk == plan.source_id:
        return
    needs, skills = call.skill_codes, target.skill_codes  # read with the locks
    emergency = call.priority == "emergency"
    # On call counts only for an emergency: only then is the rota read (one query).
    on_call = on_call_spans([target.pk], call.scheduled_day, now)[target.pk] if emergency else ()
    worker = worker_of(target, skills, call.scheduled_day, now, on_call)
    arrival = plan.after[call.pk].eta
    reasons = unable(
        worker,
        needs,
        now=now.timestamp(),
        emergency=emergency,
        at=arrival.timestamp() if arrival else None,
    )
    if not reasons:
        return
    if not roles.can_move_any(user):
        raise NotAllowed(f"{target.name} can't take call #{call.pk}: {'; '.join(reasons)}.")
    plan.warnings.extend(f"{target.name}: {reason}" for reason in reasons)
