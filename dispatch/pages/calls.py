"""HTML views of one call: its page, the move form, who should go, escalating; thin: they ask
selectors and services and pick a template or fragment."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from common import clock, roles
from common.errors import DispatchError, NotFound
from customers.selectors import messages_for_call
from dispatch import selectors
from dispatch.models import Escalation
from dispatch.pages.board import _team
from dispatch.pages.call_edit import edit_forms
from dispatch.selectors.candidates import call_candidates, call_send_now
from dispatch.selectors.rescue import call_rescue
from dispatch.services.escalations import call_escalate


@login_required
@require_GET
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    try:
        context = detail_context(request, call_id)
    except NotFound:
        raise Http404("Call not found") from None
    return render(request, "dispatch/call_detail.html", context)


def detail_context(request: HttpRequest, call_id) -> dict:
    call = selectors.call_get_for_user(user=request.user, call_id=call_id)
    events = selectors.call_events_for_user(user=request.user, call_id=call_id)
    return {
        "call": call,
        "events": events,
        "open_escalation": call.escalations.select_related("raised_by__technician")
        .filter(status="open")
        .first(),
        "escalation_reasons": Escalation.Reason.choices,
        **_customer_contact(request, call),
        **_day_form(request, call),
        **edit_forms(request, call),
    }


def _day_form(request: HttpRequest, call) -> dict:
    """The "Reschedule" form (the keyboard and no-JavaScript way to the week view's drag, and
    to a new window on a day): for the office, on a call not yet under way."""
    if not roles.is_office(request.user) or call.status not in ("new", "assigned"):
        return {}
    techs = selectors.technicians_visible_to(request.user).select_related(None)
    techs = techs.prefetch_related(None).order_by("name", "pk")
    if call.technician is not None:
        techs = techs.filter(team_id=call.technician.team_id)
    today = timezone.localdate(clock.now())
    return {
        "day_form": {
            "technicians": list(techs),
            "min": today,
            "to_day": max(today, call.scheduled_day) + timedelta(days=1),
            "technician": call.technician_id,
            "window_start": "",
            "window_end": "",
        }
    }


def call_page_with_error(request: HttpRequest, call_id, exc: DispatchError, typed: dict):
    """The call page again with the day form's refusal beside it, what was typed kept."""
    try:
        context = detail_context(request, call_id)
    except NotFound:
        raise Http404("Call not found") from None
    if "day_form" in context:
        context["day_form"] |= {
            "error": exc.message,
            "typed": typed.get("to_day", ""),
            "window_start": typed.get("window_start", ""),
            "window_end": typed.get("window_end", ""),
        }
        technician = typed.get("technician", "")
        context["day_form"]["technician"] = int(technician) if technician.isdigit() else None
    else:
        messages.error(request, exc.message)
    return render(request, "dispatch/call_detail.html", context, status=exc.status_code)


def _customer_contact(request: HttpRequest, call) -> dict:
    """The tracking link and what the customer was sent: office staff only (the link opens the
    customer's page without a login), as in the API."""
    if not roles.is_office(request.user):
        return {}
    return {
        "tracking_url": selectors.tracking_url(call.tracking_token),
        "customer_messages": messages_for_call(call_id=call.pk),
    }


@login_required
@require_GET
def call_move_form(request: HttpRequest, call_id: int) -> HttpResponse:
    """The keyboard and no-JavaScript path: pick a technician and a position."""
    try:
        call = selectors.call_get_for_user(user=request.user, call_id=call_id)
    except NotFound:
        raise Http404("Call not found") from None
    day, team = call.scheduled_day, _team(request)
    techs = (
        selectors.technicians_visible_to(request.user).filter(team=team)
        if team
        else (selectors.technicians_visible_to(request.user))
    )
    template = "dispatch/partials/_move_form.html" if request.htmx else "dispatch/move_form.html"
    # The board the form returns to after a move without JavaScript (the column board says so).
    view = "columns" if request.GET.get("view") == "columns" else ""
    context = {"call": call, "technicians": techs, "day": day, "team": team, "view": view}
    return render(request, template, context)


@login_required
@require_GET
def call_suggest(request: HttpRequest, call_id: int) -> HttpResponse:
    """Who should go: ranked candidates with their ripple and exclusions in words; for the office
    also the rescue of a call at risk or late and, for an emergency, the nearest technician now.
    Every option applies through the board's move (or swap) post, so a harmful one still asks."""
    try:
        context = _suggestions(request.user, call_id)
    except NotFound:
        raise Http404("Call not found") from None
    except DispatchError as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    context |= {"day": context["call"].scheduled_day, "team": _team(request)}
    template = "dispatch/partials/_suggest.html" if request.htmx else "dispatch/suggest.html"
    return render(request, template, context)


def _suggestions(user, call_id: int) -> dict:
    now = clock.now()
    candidates, excluded = call_candidates(user=user, call_id=call_id, now=now)
    call = selectors.call_get_for_user(user=user, call_id=call_id)
    # A technician sees how many teammates' calls a choice hurts, not which ones.
    office = roles.is_office(user)
    context = {"call": call, "candidates": candidates, "excluded": excluded, "show_ids": office}
    if office:
        rescue = call_rescue(user=user, call_id=call_id, now=now)
        context["rescue"] = rescue if rescue.needed else None
        if call.priority == "emergency":
            context["send_now"] = call_send_now(user=user, call_id=call_id, now=now)[0][:3]
    return context


@login_required
@require_POST
def call_escalate_view(request: HttpRequest, call_id: int) -> HttpResponse:
    """Escalate from the call page; the same service as the API."""
    try:
        escalation = call_escalate(
            user=request.user,
            call_id=call_id,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", "")[:2000],
        )
    except NotFound:
        raise Http404("Call not found") from None
    except DispatchError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Escalated: a manager is in charge (escalation #{escalation.pk})."
        )
    return redirect("pages:call-page", call_id=call_id)
