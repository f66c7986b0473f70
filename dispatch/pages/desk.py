"""HTML views for the manager's desk: thin; selectors read, services write.

The escalation queue (`/escalations/`), one escalation with its call's context and history, and
the manager's resolve form. Permissions come from the selectors' `escalations_visible_to` and
`escalation_get_for_user` (office roles) and from `escalation_resolve` (managers); the views
only turn their refusals into pages.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, F, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from common import clock, roles
from common.errors import DispatchError, NotAllowed, NotFound
from dispatch import selectors
from dispatch.models import Escalation, ServiceCall
from dispatch.pages import resolve_form
from dispatch.selectors import reports
from dispatch.selectors.candidates import call_candidates
from dispatch.selectors.escalations import (
    escalation_get_for_user,
    escalation_why,
    escalations_visible_to,
)
from dispatch.selectors.rescue import call_rescue
from dispatch.services.escalations import escalation_resolve

RECENTLY_RESOLVED = 10
STALE_LIMIT = 50


# --- reads (private: they only narrow what escalations_visible_to already allows) -------------


def _with_call_context(escalations):
    # Who raised and resolved it with their technician records: the page names people.
    return escalations.select_related(
        "call",
        "call__customer",
        "call__technician",
        "raised_by",
        "raised_by__technician",
        "resolved_by",
        "resolved_by__technician",
    )


def _open_queue(user) -> list[Escalation]:
    """Open escalations by urgency: safety first, then least time to the deadline, then oldest."""
    return list(
        _with_call_context(escalations_visible_to(user))
        .filter(status=Escalation.Status.OPEN)
        .order_by(
            Case(When(reason=Escalation.Reason.SAFETY, then=0), default=1),
            F("call__deadline").asc(nulls_last=True),
            "created_at",
            "id",
        )
    )


def _recently_resolved(user) -> list[Escalation]:
    return list(
        _with_call_context(escalations_visible_to(user))
        .filter(status=Escalation.Status.RESOLVED)
        .order_by(F("resolved_at").desc(nulls_last=True), "-id")[:RECENTLY_RESOLVED]
    )


def _can_review_stale(user) -> bool:
    return bool(roles.roles_of(user) & {roles.DISPATCHER, roles.MANAGER})


def _stale_low_priority(user, now: datetime) -> list[ServiceCall]:
    """Low-priority calls open longer than the setting and not already escalated."""
    days = settings.STALE_LOW_PRIORITY_DAYS
    return list(
        selectors.calls_visible_to(user)
        .prefetch_related(None)
        .filter(
            priority=ServiceCall.Priority.LOW,
            status__in=ServiceCall.OPEN_STATUSES,
            created_at__lte=now - timedelta(days=days),
        )
        .exclude(escalations__status=Escalation.Status.OPEN)
        .order_by("created_at", "id")[:STALE_LIMIT]
    )


def _move_choices(user, call: ServiceCall):
    """The call's team's technicians (the manager's default team for an unassigned call)."""
    team = call.technician.team if call.technician else selectors.board_team_default(user)
    techs = selectors.technicians_visible_to(user).prefetch_related(None)
    if team is not None:
        techs = techs.filter(team=team)
    return list(techs.order_by("name", "id"))


def _age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "—"
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _with_ages(items, now: datetime, attr: str = "created_at"):
    for item in items:
        item.age = _age(getattr(item, attr), now)
    return items


def _with_why(escalations):
    for escalation in escalations:
        escalation.why = escalation_why(escalation)
    return escalations


# --- pages --------------------------------------------------------------------------------------


@login_required
@require_GET
def escalation_queue(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    try:
        queue = _open_queue(request.user)
    except NotAllowed as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    can_review = _can_review_stale(request.user)
    context = {
        "queue": _with_why(_with_ages(queue, now)),
        "resolved": _recently_resolved(request.user),
        "can_review_stale": can_review,
        "stale": _with_ages(_stale_low_priority(request.user, now), now) if can_review else [],
        "stale_days": settings.STALE_LOW_PRIORITY_DAYS,
        "backlog_alerts": reports.backlog_alerts_recent() if can_review else [],
        "can_resolve": roles.can_resolve_escalations(request.user),
    }
    return render(request, "desk/escalations.html", context)


@login_required
@require_GET
def escalation_detail(request: HttpRequest, escalation_id: int) -> HttpResponse:
    try:
        escalation = escalation_get_for_user(user=request.user, escalation_id=escalation_id)
    except NotAllowed as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    except NotFound:
        raise Http404("Escalation not found") from None
    call = escalation.call
    now = clock.now()
    can_resolve = (
        roles.can_resolve_escalations(request.user) and escalation.status == Escalation.Status.OPEN
    )
    context = {
        "escalation": escalation,
        "age": _age(escalation.created_at, now),
        "why": escalation_why(escalation),
        "call": call,
        "events": selectors.call_events_for_user(user=request.user, call_id=call.pk),
        "can_resolve": can_resolve,
        "strategies": Escalation.Strategy.choices,
        "technicians": _move_choices(request.user, call) if can_resolve else [],
        "form": resolve_form.form_initial(request, escalation, now) if can_resolve else {},
        "today": timezone.localdate(now),
    }
    if escalation.status == Escalation.Status.OPEN and call.is_open:
        # Who could go: every able technician's best place (every team), with what it costs others.
        context["candidates"], context["excluded"] = call_candidates(
            user=request.user, call_id=call.pk
        )
        # And the smallest change that saves it, when it is at risk or late.
        rescue = call_rescue(user=request.user, call_id=call.pk)
        context["rescue"] = rescue if rescue.needed else None
        context["show_ids"] = True  # the desk is for office roles only
    return render(request, "desk/escalation_detail.html", context)


@login_required
@require_POST
def escalation_resolve_view(request: HttpRequest, escalation_id: int) -> HttpResponse:
    """The manager's decision; the service checks the role, the strategy and the goodwill.

    A refusal goes back to the escalation with the reason, and with everything typed kept.
    """
    if not roles.can_resolve_escalations(request.user):
        return HttpResponse("Only a manager can resolve an escalation.", status=403)
    post = request.POST
    try:
        concession = resolve_form.concession_from(post)
        escalation = escalation_resolve(
            user=request.user,
            escalation_id=escalation_id,
            strategy=post.get("strategy", ""),
            resolution=post.get("resolution", "")[: resolve_form.MAX_TEXT],
            customer_message=post.get("customer_message", "")[: resolve_form.MAX_TEXT],
            move=resolve_form.move_from(post),
            concession=concession,
            reschedule=resolve_form.reschedule_from(post),
        )
    except NotFound:
        raise Http404("Escalation not found") from None
    except NotAllowed as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    except DispatchError as exc:
        resolve_form.form_keep(request, escalation_id, exc)
        messages.error(request, exc.message)
        return redirect("pages:escalation-page", escalation_id=escalation_id)
    done = f"Escalation #{escalation.pk} resolved ({escalation.get_strategy_display().lower()}) "
    done += f"for call #{escalation.call_id}."
    if concession:
        done += f" Goodwill recorded: {concession.words()}."
    if escalation.strategy == escalation.Strategy.ACCEPT:
        call = escalation.call
        done += (
            f" Call moved to {timezone.localtime(call.window_start):%a %d %b %H:%M}–"
            f"{timezone.localtime(call.deadline):%H:%M}; the customer was told."
        )
    messages.success(request, done)
    return redirect("pages:escalation-queue")
