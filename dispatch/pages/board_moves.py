"""Moves and swaps from either board (drag, keyboard panel, no-JS form, confirm panel): one
post, the move service decides, and the answer fits the board the request came from: the
changed columns out of band for the column board, the timeline's part for the timeline."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from common import clock, roles
from common.errors import DispatchError
from dispatch import selectors
from dispatch.pages.board import _board_context, _board_state, _day, _filters, _team
from dispatch.pages.timeline import COLUMNS, TIMELINE, board_view_of, timeline_partial
from dispatch.services.asks import tech_ask
from dispatch.services.moves import call_move
from dispatch.services.swaps import calls_swap
from technicians.models import Team


def _int_or_none(raw: str | None):
    if raw in (None, "", "none"):
        return None
    try:
        return int(raw)
    except ValueError:
        return raw  # the service refuses it with a message a person can read


def _position(post):
    # The keyboard form counts from 1 as people do; drags and the API count from 0.
    if post.get("position_display") not in (None, ""):
        shown = _int_or_none(post["position_display"])
        return shown - 1 if isinstance(shown, int) else shown
    return _int_or_none(post.get("position"))


@login_required
@require_POST
def board_move(request: HttpRequest) -> HttpResponse:
    """Drag, keyboard and no-JS moves all post here; the move service decides."""
    post = request.POST
    call_id = _int_or_none(post.get("call"))
    args = {
        "user": request.user,
        "call_id": call_id,
        "technician_id": _int_or_none(post.get("technician")),
        "position": _position(post),
        "expected_version": _int_or_none(post.get("expected_version")),
        "reason": post.get("reason", "")[:500],
    }
    day, team = _day(request), _team(request)
    try:
        result = call_move(require_confirmation=post.get("confirm") != "1", **args)
    except DispatchError as exc:
        return _move_refused(request, exc, day, team)
    if not result.applied:
        return _confirm(request, result.plan, args, day, team)
    toast = _moved_words(result.plan)
    if not request.htmx:
        messages.success(request, toast)
        return redirect(_board_url(request, day, team))
    return _changed(request, result.plan, day, team, {"toast": toast}, applied=True)


def _moved_words(plan) -> str:
    """What the drop did, in words: where the call went and what it cost the others."""
    call, fields = plan.call, plan.after[plan.call.pk]
    if plan.target_id is None:
        where = "back to the unassigned list"
    else:
        eta = timezone.localtime(fields.eta).strftime("%H:%M") if fields.eta else "?"
        where = f"to {plan.target.name}, arriving {eta}"
        if fields.risk != "ok":
            where += f" ({fields.risk.replace('_', ' ')})"
    ripple = plan.summary.words()
    return f"Moved call #{call.pk} {where}." + ("" if ripple == "none" else f" {ripple}.")


def _changed(request, plan, day: date, team, extra: dict, applied=False) -> HttpResponse:
    """What a move changed, for the board it was made on."""
    if board_view_of(request, default=COLUMNS) == COLUMNS:
        return _changed_columns(request, plan, day, team, extra, applied=applied)
    if "plan" in extra:
        # The ripple panel asks first: nothing moved, so only the notices and the panel come
        # back (the dragged block never left its place; only its ghost moved).
        context = {"board": selectors.Board(day, team, [], [], []), "view": TIMELINE}
        context |= _board_state(day, team)
        return render(request, "dispatch/partials/_flash.html", context | extra)
    # A 25-row page is re-read whole: its axis may have grown, and the rows share it.
    response = timeline_partial(request, day, team, extra)
    response["HX-Retarget"] = "#board-columns"
    response["HX-Reswap"] = "innerHTML"
    return response


def _changed_columns(request, plan, day: date, team, extra: dict, applied=False) -> HttpResponse:
    """Only the columns the move touched, out of band; a 60-column board is never re-sent. An
    applied move's columns are rendered from the rows its plan holds (no read); the board's
    filters, the unassigned list and a move not made read theirs."""
    include_unassigned = None in (plan.source_id, plan.target_id)
    filters = _filters(request)
    if applied and not filters.active:
        queues = {plan.technicians[tid]: queue for tid, queue in plan.queues.items()}
        board = selectors.board_of_queues(day=day, team=team, queues=queues)
        technician_ids = []  # only the unassigned list, if the move touched it, is read
    else:
        board, technician_ids = None, list(plan.queues)
    if board is None or include_unassigned:
        read = selectors.board_get(
            user=request.user,
            day=day,
            team=team,
            technician_ids=technician_ids,
            include_unassigned=include_unassigned,
            filters=filters,
        )
        board = read if board is None else replace(board, unassigned=read.unassigned)
    context = {
        "board": board,
        "include_unassigned": include_unassigned,
        **_board_state(day, team),
        **extra,
    }
    return render(request, "dispatch/partials/_move_result.html", context)


def _board_url(request, day: date, team: Team | None) -> str:
    url = f"{reverse('pages:board')}?day={day.isoformat()}&team={team.pk if team else 'all'}"
    return url + ("&view=columns" if request.POST.get("view") == COLUMNS else "")


def _move_refused(request, exc: DispatchError, day: date, team) -> HttpResponse:
    if not request.htmx:
        messages.error(request, exc.message)
        return redirect(_board_url(request, day, team))
    if board_view_of(request, default=COLUMNS) == TIMELINE:
        response = timeline_partial(
            request, day, team, {"error": exc.message}, status=exc.status_code
        )
        response["HX-Retarget"] = "#board-columns"
        response["HX-Reswap"] = "innerHTML"
        return response
    # The whole board comes back as it really is, so a card dragged in vain snaps back and a
    # stale board is refreshed.
    context = _board_context(request, day, team) | {"error": exc.message}
    response = render(request, "dispatch/partials/_columns.html", context, status=exc.status_code)
    response["HX-Retarget"] = "#board-columns"
    response["HX-Reswap"] = "innerHTML"
    return response


def _confirm(request, plan, args: dict, day: date, team) -> HttpResponse:
    extra = {
        "plan": plan,
        "ripple": plan.ripple_for(request.user),
        "move": args,
        "ask_state": plan.ask_state(clock.now()),
        "asked_tech": plan.technicians.get(plan.asked_technician_id),
        "can_ask": roles.can_take_from_working_tech(request.user),
    }
    if request.htmx:
        # The touched columns come back unchanged, so the dropped card returns to its place
        # while the panel asks.
        return _changed(request, plan, day, team, extra)
    context = _board_context(request, day, team) | extra
    return render(request, "dispatch/confirm_move.html", context)


@login_required
@require_POST
def board_ask(request: HttpRequest) -> HttpResponse:
    """The confirm panel's "Ask them first": the question goes to the technician's phone and
    nothing moves; the answer shows on the board, and the dispatcher drags again to decide."""
    post = request.POST
    day, team = _day(request), _team(request)
    call_id = _int_or_none(post.get("call"))
    try:
        ask = tech_ask(
            user=request.user,
            call_id=call_id,
            expected_version=_int_or_none(post.get("expected_version")),
            to_technician_id=_int_or_none(post.get("technician")),
            position=_position(post),
        )
    except DispatchError as exc:
        return _move_refused(request, exc, day, team)
    due = timezone.localtime(ask.answer_by).strftime("%H:%M")
    toast = (
        f"Asked {ask.technician}: “{ask.question}” The answer (by {due}) shows here; "
        "then move the call again to decide."
    )
    if not request.htmx:
        messages.success(request, toast)
        return redirect(_board_url(request, day, team))
    context = {"toast": toast, **_board_state(day, team)}
    return render(request, "dispatch/partials/_flash.html", context)


@login_required
@require_POST
def board_swap(request: HttpRequest) -> HttpResponse:
    """A rescue's swap: two waiting calls trade places (two moves of the move service)."""
    post = request.POST
    day, team = _day(request), _team(request)
    try:
        first, second = calls_swap(
            user=request.user,
            call_id=_int_or_none(post.get("call")),
            other_id=_int_or_none(post.get("other")),
            expected_version=_int_or_none(post.get("expected_version")),
            other_expected_version=_int_or_none(post.get("other_expected_version")),
            reason=post.get("reason", "")[:500],
        )
    except DispatchError as exc:
        return _move_refused(request, exc, day, team)
    toast = f"Swapped call #{first.call.pk} and call #{second.call.pk}."
    if not request.htmx:
        messages.success(request, toast)
        return redirect(_board_url(request, day, team))
    return _changed(request, first.plan, day, team, {"toast": toast})
