"""'Plan the day' on the board: ask, watch it think, review the proposal, apply all or some, or
discard. Thin: the selectors read (``day_plans``), the services write (``services.day_plans``)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from common import clock
from common.errors import DispatchError, InvalidInput, MoveConflict, NotAllowed
from dispatch.models import DayPlan
from dispatch.selectors.day_plans import (
    day_plan_get_for_user,
    plan_review,
    plans_recent,
    require_can_plan,
)
from dispatch.services.day_plans import (
    MAX_SECONDS,
    MIN_SECONDS,
    plan_apply,
    plan_discard,
    plan_request,
)
from technicians.models import Team


def _refused(request: HttpRequest, exc: DispatchError) -> HttpResponse:
    return render(
        request, "dispatch/plan_refused.html", {"message": exc.message}, status=exc.status_code
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_start(request: HttpRequest) -> HttpResponse:
    try:
        require_can_plan(request.user)
    except NotAllowed as exc:
        return _refused(request, exc)
    form = {
        "day": request.POST.get("day")
        or request.GET.get("day")
        or timezone.localdate(clock.now()).isoformat(),
        "team": request.POST.get("team") or request.GET.get("team") or "",
        "seconds": request.POST.get("seconds") or "",
    }
    errors = {}
    if request.method == "POST":
        try:
            plan = plan_request(user=request.user, **_parsed(form))
            return redirect("pages:plan-page", plan_id=plan.pk)
        except DispatchError as exc:
            errors[exc.field or "form"] = exc.message
    return render(
        request,
        "dispatch/plan_start.html",
        {
            "form": form,
            "errors": errors,
            "teams": Team.objects.all(),
            "recent": plans_recent(),
            "min_seconds": MIN_SECONDS,
            "max_seconds": MAX_SECONDS,
        },
        status=400 if errors else 200,
    )


def _parsed(form: dict) -> dict:
    try:
        day = date.fromisoformat(form["day"])
    except ValueError:
        raise InvalidInput("Give the day as a date, e.g. 2026-12-03.", field="day") from None
    team = form["team"]
    if team in ("", "all"):
        team_id = None
    elif team.isascii() and team.isdigit():
        team_id = int(team)
    else:
        raise InvalidInput("Pick a team from the list, or every team.", field="team")
    raw = form["seconds"].strip()
    if not raw:
        seconds = settings.PLAN_SECONDS
    elif raw.isascii() and raw.isdigit():
        seconds = int(raw)
    else:
        raise InvalidInput("Give the time limit as whole seconds, 1 to 120.", field="seconds")
    return {"day": day, "team_id": team_id, "seconds": seconds}


@login_required
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    try:
        plan = day_plan_get_for_user(user=request.user, plan_id=plan_id)
    except DispatchError as exc:
        return _refused(request, exc)
    context = {"plan": plan, "now": clock.now()}
    if plan.status == DayPlan.Status.READY:
        context["review"] = plan_review(plan)
    elif plan.status == DayPlan.Status.RUNNING:
        started = plan.started_at or plan.created_at
        elapsed = max(0.0, (clock.now() - started).total_seconds())
        context["elapsed"] = round(min(elapsed, plan.seconds))
        context["progress"] = round(100 * min(1.0, elapsed / max(1, plan.seconds)))
    return render(request, "dispatch/plan_detail.html", context)


@login_required
@require_POST
def plan_apply_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    calls = None
    if request.POST.get("which") == "selected":
        picked = [c for c in request.POST.getlist("call") if c.isascii() and c.isdigit()]
        if not picked:
            messages.error(request, "Tick the calls to apply first, or apply all.")
            return redirect("pages:plan-page", plan_id=plan_id)
        calls = [int(c) for c in picked]
    try:
        result = plan_apply(user=request.user, plan_id=plan_id, calls=calls)
    except MoveConflict as exc:
        messages.error(request, exc.message)
        return redirect("pages:plan-page", plan_id=plan_id)
    except DispatchError as exc:
        if exc.status_code in (403, 404):
            return _refused(request, exc)
        messages.error(request, exc.message)
        return redirect("pages:plan-page", plan_id=plan_id)
    plan = DayPlan.objects.get(pk=plan_id)
    messages.success(request, f"Plan #{plan.pk} applied: {result['ripple']}.")
    return redirect(_board_url(plan))


@login_required
@require_POST
def plan_discard_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    try:
        plan = plan_discard(user=request.user, plan_id=plan_id)
    except DispatchError as exc:
        if exc.status_code in (403, 404):
            return _refused(request, exc)
        messages.error(request, exc.message)
        return redirect("pages:plan-page", plan_id=plan_id)
    messages.info(request, f"Plan #{plan.pk} discarded; the board is as it was.")
    return redirect(_board_url(plan))


def _board_url(plan: DayPlan) -> str:
    return f"{reverse('pages:board')}?day={plan.day.isoformat()}&team={plan.team_id or 'all'}"
