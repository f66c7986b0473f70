"""Reading for the day planner: the door to a plan, a team's day as the planner's input, and
whether the board has moved on since a plan was made."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from django.conf import settings

from common import roles
from common.errors import NotAllowed, NotFound
from dispatch.models import DayPlan, ServiceCall
from dispatch.planning.day_plan import DayInput
from dispatch.planning.eta import Stop
from dispatch.planning.promises import Promises
from dispatch.planning.solver import Costs
from dispatch.selectors.planning import _ts, call_skills, world_load
from technicians.models import Technician


def require_can_plan(user) -> None:
    """Planning the day is the dispatcher's call (and the manager's); nobody else's."""
    if not roles.can_move_any(user):
        raise NotAllowed("Only dispatchers and managers can plan the day.")


def day_plan_get_for_user(*, user, plan_id: int, for_update: bool = False) -> DayPlan:
    """The one door to a plan: dispatchers and managers see every plan; others get 403."""
    require_can_plan(user)
    plans = DayPlan.objects.select_related("team")
    if for_update:
        plans = plans.select_for_update(of=("self",))
    try:
        return plans.get(pk=plan_id)
    except DayPlan.DoesNotExist:
        raise NotFound(f"There is no plan #{plan_id}.") from None


def plan_costs() -> Costs:
    return Costs(
        move=settings.PLAN_MOVE_COST_MINUTES * 60.0,
        promise=settings.PLAN_PROMISE_COST_MINUTES * 60.0,
        overtime=settings.PLAN_OVERTIME_COST,
        max_overtime=settings.PLAN_MAX_OVERTIME_MINUTES * 60.0,
        drive_home=settings.PLAN_DRIVE_HOME,
    )


def plan_technicians(team_id: int | None) -> list[Technician]:
    techs = Technician.objects.select_related("user").order_by("id")
    return list(techs if team_id is None else techs.filter(team_id=team_id))


def waiting_calls(day: date) -> list[dict]:
    """The day's calls nobody has yet (the board's unassigned list)."""
    return list(
        ServiceCall.objects.filter(scheduled_day=day, status="new", technician__isnull=True)
        .order_by("id")
        .values(
            "id", "site__lat", "site__lng", "duration_minutes", "window_start", "deadline",
            "priority", "version", "promised_eta",
        )
    )  # fmt: skip


@dataclass
class PlanInput:
    day_input: DayInput
    snapshot: dict  # what the plan was made from (see DayPlan.snapshot)


def plan_input(team_id: int | None, day: date, now: datetime) -> PlanInput:
    """A team's (or every team's) day as the planner's input, and the snapshot to check against."""
    techs = plan_technicians(team_id)
    loaded = world_load(techs=techs, day=day, now=now, with_call_skills=True)
    waiting = waiting_calls(day)
    world = loaded.world
    stops = [
        Stop(r["id"], (r["site__lat"], r["site__lng"]), r["duration_minutes"] * 60.0,
             _ts(r["window_start"]), _ts(r["deadline"]))
        for r in waiting
    ]  # fmt: skip
    queued = [s.id for route in world.routes.values() for s in route.stops]
    needs = dict(world.call_skills or {})
    needs.update(call_skills(s.id for s in stops))
    priority = {r["id"]: r["priority"] for r in waiting}
    priority.update(
        ServiceCall.objects.filter(pk__in=queued).values_list("id", "priority")
    )  # one query for the queued calls' priorities
    promised = {r["id"]: r["promised_eta"].timestamp() for r in waiting if r["promised_eta"]}
    if promised:
        world = _with_promises(world, promised)
    homes = {t.pk: (t.home_lat, t.home_lng) for t in techs}
    day_input = DayInput(world, homes, stops, needs, priority, plan_costs())
    snapshot = {
        "queues": {
            str(t): [[s.id, loaded.versions[s.id]] for s in route.stops]
            for t, route in world.routes.items()
        },
        "waiting": [[r["id"], r["version"]] for r in waiting],
    }
    return PlanInput(day_input, snapshot)


def _with_promises(world, extra: dict):
    promises = Promises({**world.promises.at, **extra}, world.promises.tolerance)
    return replace(world, promises=promises)


# --- has the board moved on? --------------------------------------------------------------------


def plan_stale_calls(plan: DayPlan, calls: set[int] | None = None) -> list[int]:
    """Calls that changed since the plan was made, among those applying it would touch (``calls``:
    a selection of its changes): their version, their queue's members, or whether they wait."""
    changes = [c for c in plan.changes if calls is None or c["call"] in calls]
    techs = {c["from_technician"] for c in changes} | {c["to_technician"] for c in changes}
    techs.discard(None)
    then_queues = {int(t): q for t, q in plan.snapshot.get("queues", {}).items()}
    then = {cid: ver for t in techs for cid, ver in then_queues.get(t, [])}
    waiting_then = dict(map(tuple, plan.snapshot.get("waiting", [])))
    then.update({c["call"]: waiting_then[c["call"]] for c in changes if c["call"] in waiting_then})
    now_rows = ServiceCall.objects.filter(
        scheduled_day=plan.day, status__in=ServiceCall.OPEN_STATUSES, technician_id__in=techs
    ).values_list("id", "technician_id", "version")
    now = {cid: (tech, ver) for cid, tech, ver in now_rows}
    waiting_ids = [c["call"] for c in changes if c["call"] in waiting_then]
    for cid, tech, ver in ServiceCall.objects.filter(pk__in=waiting_ids).values_list(
        "id", "technician_id", "version"
    ):
        now.setdefault(cid, (tech, ver))
    stale = set()
    for cid, version in then.items():
        current = now.get(cid)
        if current is None or current[1] != version:
            stale.add(cid)  # changed, done, cancelled, or gone elsewhere
    for cid, (tech, _) in now.items():
        was_there = any(cid == c for t in techs for c, _ in then_queues.get(t, []))
        if tech in techs and not was_there and cid not in waiting_then:
            stale.add(cid)  # new in a queue the plan rewrites
    for cid in waiting_ids:
        if cid in now and now[cid][0] is not None:
            stale.add(cid)  # somebody took it meanwhile
    return sorted(stale)


# --- reading a plan for people --------------------------------------------------------------------

FIGURE_WORDS = (
    ("waiting", "Waiting for a technician", False),
    ("late", "Late calls", False),
    ("at_risk", "At risk", False),
    ("promises_broken", "Promises not kept", False),
    ("overtime_minutes", "Overtime", False),
    ("travel_minutes", "Driving", False),
    ("calls_moved", "Calls moved to another technician", None),
)


def plans_recent(limit: int = 10) -> list[DayPlan]:
    return list(DayPlan.objects.select_related("team", "created_by")[:limit])


@dataclass
class PlannedCall:
    id: int
    summary: str
    customer: str
    eta: datetime | None
    changed: bool
    promise_broken: bool = False
    risk: str = ""


@dataclass
class PlanReview:
    figures: list[tuple[str, object, object, str]]  # label, before, after, "better"/"worse"/""
    routes: list[tuple[str, list[PlannedCall]]]  # technician's name, their new order
    changes: list[dict]
    unplanned: list[tuple[PlannedCall, str]]  # with the reason, in words
    stale: list[int]
    moves: int  # changes that move a call (the others only change its time)


def plan_review(plan: DayPlan) -> PlanReview:
    """A ready plan in the words and names a dispatcher reads (three queries)."""
    ids = {c for r in plan.routes for c in r["calls"]} | set(plan.unplanned)
    calls = {
        row["id"]: row
        for row in ServiceCall.objects.filter(pk__in=ids).values(
            "id", "summary", "customer__name", "eta", "risk", "promised_eta"
        )
    }
    names = dict(
        Technician.objects.filter(pk__in=[r["technician"] for r in plan.routes]).values_list(
            "id", "name"
        )
    )
    changes = {c["call"]: c for c in plan.changes}

    def planned(cid: int) -> PlannedCall:
        row, change = calls.get(cid, {}), changes.get(cid)
        eta = (
            datetime.fromisoformat(change["eta_after"])
            if change and change["eta_after"]
            else row.get("eta")
        )
        return PlannedCall(
            cid, row.get("summary", "(gone)"), row.get("customer__name", ""), eta,
            change is not None, bool(change and change["promise_broken"]),
            change["risk_after"] if change else row.get("risk", ""),
        )  # fmt: skip

    figures = []
    minutes = ("travel_minutes", "overtime_minutes")
    for key, label, _ in FIGURE_WORDS:
        before, after = plan.before.get(key, 0), plan.after.get(key, 0)
        trend = (
            ""
            if key == "calls_moved" or before == after
            else ("better" if after < before else "worse")
        )
        if key in minutes:
            before, after = _minutes(before), _minutes(after)
        figures.append((label, before, after, trend))
    routes = [
        (names.get(r["technician"], f"#{r['technician']}"), [planned(c) for c in r["calls"]])
        for r in plan.routes
    ]
    rows = []
    for c in plan.changes:
        row = calls.get(c["call"], {})
        rows.append(
            {
                **c,
                "summary": row.get("summary", ""),
                "customer": row.get("customer__name", ""),
                "from_name": names.get(c["from_technician"], "waiting")
                if c["from_technician"]
                else "waiting",
                "to_name": names.get(c["to_technician"], ""),
                "eta_before_at": datetime.fromisoformat(c["eta_before"])
                if c["eta_before"]
                else None,
                "eta_after_at": datetime.fromisoformat(c["eta_after"]) if c["eta_after"] else None,
                "promised": row.get("promised_eta"),
                "hands": c["from_technician"] not in (None, c["to_technician"]),
                # Only its time moves (others around it changed): nothing to apply for it.
                "time_only": c["from_technician"] == c["to_technician"]
                and c["position_before"] == c["position_after"],
            }
        )
    reasons = plan.notes.get("unplanned_reasons", {})
    unplanned = [(planned(c), reasons.get(str(c), "")) for c in plan.unplanned]
    stale = plan_stale_calls(plan) if plan.open else []
    moves = sum(1 for r in rows if not r["time_only"])
    return PlanReview(figures, routes, rows, unplanned, stale, moves)


def _minutes(value: float) -> str:
    """Minutes as a dispatcher reads them: "95 min (1 h 35 min)"."""
    whole = round(value or 0)
    if whole < 60:
        return f"{whole} min"
    return f"{whole:,} min ({whole // 60} h {whole % 60:02d} min)"


def plan_waiting(*, day: date, team_id: int | None) -> DayPlan | None:
    """The newest proposal the re-plan rule prepared for this board that nobody has acted on."""
    plans = DayPlan.objects.filter(
        day=day, status="ready", applied_at__isnull=True, discarded_at__isnull=True
    ).exclude(trigger="person")
    if team_id is not None:
        plans = plans.filter(team_id=team_id)
    return plans.order_by("-created_at", "-id").first()
