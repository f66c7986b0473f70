"""Writing day plans: ask for one, compute it (a Celery task, or a thread without a broker),
apply it through the move service, or discard it.

Applying is all or nothing: one transaction locks every technician the selection touches (in id
order, as every move does), checks that nothing it would change has moved on since the plan was
made (409 naming the calls otherwise), then makes each move with ``call_move_within``: the same
checks, ETAs, reschedule counts and audit events as a move by hand, with "Day plan #N" as reason.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from common import clock
from common.errors import InvalidInput, MoveConflict
from dispatch.models import DayPlan, ServiceCall
from dispatch.planning import pyvrp_solver
from dispatch.planning.day_plan import plan_day
from dispatch.selectors.day_plans import (
    day_plan_get_for_user,
    plan_input,
    plan_stale_calls,
    require_can_plan,
)
from dispatch.selectors.planning import utc_datetime
from dispatch.services.background import enqueue
from dispatch.services.moves import call_move_within, with_retries
from technicians.models import Team, Technician

log = logging.getLogger(__name__)

MIN_SECONDS, MAX_SECONDS = 1, 120
DAYS_AHEAD = 14  # how far ahead a day may be planned


# --- asking ---------------------------------------------------------------------------------------


def plan_request(
    *,
    user,
    day: date,
    team_id: int | None,
    seconds: int | None = None,
    trigger: str = "person",
    start: bool = True,
) -> DayPlan:
    """A plan for a team's day (``team_id`` None: every team), computed in the background
    (``start=False``: the caller computes it, as the command does)."""
    if user is not None:
        require_can_plan(user)
    seconds = settings.PLAN_SECONDS if seconds is None else seconds
    _check_request(day, team_id, seconds)
    plan = DayPlan.objects.create(
        team_id=team_id, day=day, created_by=user, trigger=trigger, seconds=seconds
    )
    if start:
        transaction.on_commit(lambda: _start(plan.pk))
    return plan


def _check_request(day: date, team_id: int | None, seconds) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise InvalidInput("Give the time limit as whole seconds, 1 to 120.", field="seconds")
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise InvalidInput(
            f"The time limit must be {MIN_SECONDS} to {MAX_SECONDS} seconds, not {seconds}.",
            field="seconds",
        )
    today = timezone.localdate(clock.now())
    if day < today:
        raise InvalidInput(f"{day:%Y-%m-%d} is over; plan today or a day ahead.", field="day")
    if day > today + timedelta(days=DAYS_AHEAD):
        raise InvalidInput(f"Plan at most {DAYS_AHEAD} days ahead.", field="day")
    if team_id is not None and not Team.objects.filter(pk=team_id).exists():
        raise InvalidInput(f"There is no team {team_id}.", field="team")


def _start(plan_id: int) -> None:
    from dispatch.tasks import plan_day  # the tasks build on the services

    if settings.REDIS_URL:
        if enqueue(plan_day, plan_id):
            return
        log.warning("plan %s: no broker; computing it here", plan_id)
    # Without workers (make run), compute beside the request so the page can show progress.
    threading.Thread(target=_compute_in_thread, args=(plan_id,), daemon=True).start()


def _compute_in_thread(plan_id: int) -> None:
    try:
        plan_compute(plan_id)
    finally:
        connection.close()  # this thread's own connection; nobody else will close it


# --- computing ------------------------------------------------------------------------------------


def plan_compute(plan_id: int, *, now: datetime | None = None, solver=None) -> DayPlan:
    """Compute a running plan (idempotent: a plan that is no longer running is left alone)."""
    now = now or clock.now()
    started = DayPlan.objects.filter(pk=plan_id, status="running", started_at__isnull=True).update(
        started_at=now
    )
    plan = DayPlan.objects.get(pk=plan_id)
    if plan.status != "running" or (not started and plan.finished_at):
        return plan
    try:
        made = plan_input(plan.team_id, plan.day, now)
        proposal = plan_day(made.day_input, solver or pyvrp_solver.solve, plan.seconds)
    except Exception as exc:  # the plan says what went wrong; the board is untouched
        log.exception("plan %s failed", plan_id)
        DayPlan.objects.filter(pk=plan_id).update(
            status="failed", error=f"The plan could not be made: {exc}", finished_at=clock.now()
        )
        return DayPlan.objects.get(pk=plan_id)
    DayPlan.objects.filter(pk=plan_id, status="running").update(
        status="ready",
        planned_at=now,
        finished_at=clock.now(),
        before=proposal.before.as_dict(),
        after=proposal.after.as_dict(),
        routes=[{"technician": t, "calls": ids} for t, ids in sorted(proposal.routes.items())],
        unplanned=proposal.unplanned,
        changes=[_change_json(c) for c in proposal.changes],
        snapshot=made.snapshot,
        notes={
            "unplanned_reasons": {str(k): v for k, v in proposal.reasons.items()},
            "working": proposal.working,
            "solver_kept": proposal.solver_kept,
        },
        solver_seconds=round(proposal.solver_seconds, 2),
    )
    return DayPlan.objects.get(pk=plan_id)


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else utc_datetime(seconds).isoformat()


def _change_json(change) -> dict:
    return {
        "call": change.call,
        "from_technician": change.from_technician,
        "to_technician": change.to_technician,
        "eta_before": _iso(change.eta_before),
        "eta_after": _iso(change.eta_after),
        "position_before": change.position_before,
        "position_after": change.position_after,
        "promise_broken": change.promise_broken,
        "risk_before": change.risk_before,
        "risk_after": change.risk_after,
    }


# --- applying -------------------------------------------------------------------------------------


def plan_apply(*, user, plan_id: int, calls: list[int] | None = None) -> dict:
    """Apply the plan (or the changes of ``calls``) in one transaction, or nothing (409)."""

    def attempt() -> dict:
        with transaction.atomic():
            return _apply(user, plan_id, calls)

    return with_retries(attempt)


def _apply(user, plan_id: int, calls: list[int] | None) -> dict:
    plan = day_plan_get_for_user(user=user, plan_id=plan_id, for_update=True)
    if plan.status != "ready":
        raise InvalidInput(f"Plan #{plan.pk} is {plan.status}; only a ready plan can be applied.")
    if plan.applied_at or plan.discarded_at:
        raise InvalidInput(
            f"Plan #{plan.pk} was already {'applied' if plan.applied_at else 'discarded'}."
        )
    changes = {c["call"]: c for c in plan.changes}
    chosen = set(changes) if calls is None else set(calls)
    unknown = sorted(chosen - set(changes))
    if unknown:
        raise InvalidInput(
            f"Plan #{plan.pk} does not change call{'s' if len(unknown) > 1 else ''} "
            + ", ".join(f"#{c}" for c in unknown) + ".",
            field="calls",
        )  # fmt: skip
    techs = {
        c[k]
        for c in changes.values()
        if c["call"] in chosen
        for k in ("from_technician", "to_technician")
    }
    techs.discard(None)
    list(Technician.objects.select_for_update().filter(pk__in=techs).order_by("pk"))
    stale = plan_stale_calls(plan, chosen)
    if stale:
        raise MoveConflict(
            "The board has changed since this plan was made: "
            + ", ".join(f"#{c}" for c in stale) + ". Plan again to see the day as it is now.",
        )  # fmt: skip
    moved = _make_moves(user, plan, chosen)
    plan.applied_at, plan.applied_by = clock.now(), user
    plan.notes = {**plan.notes, "applied_calls": sorted(chosen)}
    plan.save(update_fields=["applied_at", "applied_by", "notes"])
    return {"id": plan.pk, "moved": moved, "ripple": _ripple_words(moved)}


def _make_moves(user, plan: DayPlan, chosen: set[int]) -> list[dict]:
    """Each chosen call to its place in its new queue, in route order: right after the call
    before it there (or after the work under way), so the queues end up as the plan has them."""
    now = clock.now()
    queues = {int(t): [c for c, _ in q] for t, q in plan.snapshot.get("queues", {}).items()}
    owner = {c: t for t, q in queues.items() for c in q}
    rows = ServiceCall.objects.filter(pk__in=chosen).values_list("id", "version", "eta")
    state = {cid: [version, eta] for cid, version, eta in rows}
    working = set(
        ServiceCall.objects.filter(
            technician_id__in=list(queues),
            scheduled_day=plan.day,
            status__in=("en_route", "on_site"),
        ).values_list("id", flat=True)
    )
    moved = []
    for route in plan.routes:
        tech, order = route["technician"], route["calls"]
        for i, cid in enumerate(order):
            if cid not in chosen:
                continue
            queue = queues.setdefault(tech, [])
            rest = [c for c in queue if c != cid]
            placed = [c for c in order[:i] if c in rest]
            floor = sum(1 for c in rest if c in working)
            position = rest.index(placed[-1]) + 1 if placed else floor
            if cid in queue and queue.index(cid) == position:
                continue  # already there
            result = call_move_within(
                user=user, call_id=cid, technician_id=tech, position=position,
                expected_version=state[cid][0], reason=f"Day plan #{plan.pk}", now=now,
            )  # fmt: skip
            before = owner.get(cid)
            if before is not None and before != tech:
                queues[before].remove(cid)
            rest.insert(position, cid)
            queues[tech] = rest
            eta_after = result.plan.call.eta
            moved.append(
                {
                    "call": cid,
                    "from_technician": before,
                    "to_technician": tech,
                    "eta_before": state[cid][1].isoformat() if state[cid][1] else None,
                    "eta_after": eta_after.isoformat() if eta_after else None,
                }
            )
            owner[cid] = tech
            state[cid][0] += 1
    return moved


def _ripple_words(moved: list[dict]) -> str:
    hands = sum(1 for m in moved if m["from_technician"] not in (None, m["to_technician"]))
    given = sum(1 for m in moved if m["from_technician"] is None)
    parts = []
    if given:
        parts.append(f"{given} waiting call{'s' if given > 1 else ''} given out")
    if hands:
        parts.append(f"{hands} call{'s' if hands > 1 else ''} moved to another technician")
    rest = len(moved) - given - hands
    if rest:
        parts.append(f"{rest} reordered")
    return "; ".join(parts) or "nothing to change"


def plan_discard(*, user, plan_id: int) -> DayPlan:
    with transaction.atomic():
        plan = day_plan_get_for_user(user=user, plan_id=plan_id, for_update=True)
        if plan.applied_at:
            raise InvalidInput(f"Plan #{plan.pk} was applied; it can no longer be discarded.")
        plan.discarded_at = plan.discarded_at or clock.now()
        plan.save(update_fields=["discarded_at"])
        return plan


# --- re-planning on events (a per-team setting, off by default) ----------------------------------

REPLAN_QUIET_MINUTES = 10  # one prepared proposal per team and day in this long is enough


def replan_on_events(call_ids, trigger: str) -> list[DayPlan]:
    """Prepare a proposal for each re-planning team whose day these calls touch (a call turned
    late, or an emergency arrived). Never applied: the board tells the dispatcher it waits."""
    teams = set(Team.objects.filter(replan_on_events=True).values_list("pk", flat=True))
    if not teams:
        return []
    wanted = set()
    for day, team_id in ServiceCall.objects.filter(pk__in=list(call_ids)).values_list(
        "scheduled_day", "technician__team_id"
    ):
        # A waiting call belongs to no team yet: every team that re-plans may take it.
        wanted |= (
            {(day, t) for t in teams}
            if team_id is None
            else ({(day, team_id)} & {(day, t) for t in teams})
        )
    made = []
    quiet = clock.now() - timedelta(minutes=REPLAN_QUIET_MINUTES)
    for day, team_id in sorted(wanted):
        recent = DayPlan.objects.filter(
            team_id=team_id, day=day, created_at__gte=quiet, applied_at__isnull=True,
            discarded_at__isnull=True,
        ).exclude(trigger="person")  # fmt: skip
        if recent.exists():
            continue
        try:
            made.append(plan_request(user=None, day=day, team_id=team_id, trigger=trigger))
        except InvalidInput:
            continue  # a day already over: nothing to plan
    return made


def replan_soon(call_ids, trigger: str) -> None:
    """After the change commits: the check reads what was committed, and a failure there never
    undoes the change that caused it."""
    ids = list(call_ids)

    def run() -> None:
        try:
            with transaction.atomic():
                replan_on_events(ids, trigger)
        except Exception:  # a proposal is a nicety; the change that caused it stands
            log.exception("re-plan on %s failed", trigger)

    transaction.on_commit(run)
