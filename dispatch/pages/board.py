"""The board's HTML views: the board, its live poll, and moves and swaps from it; thin: they ask
selectors and services and pick a template or fragment."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET, require_POST

from common import clock, roles
from common.errors import DispatchError
from dispatch import selectors
from dispatch.models import ServiceCall
from dispatch.selectors.day_plans import plan_waiting
from dispatch.selectors.search import FILTER_PARAMS, CallFilters, call_filters_from
from dispatch.services.background import NEVER, RECOMPUTE, background_status_at
from dispatch.services.moves import call_move
from dispatch.services.swaps import calls_swap
from technicians.models import Team

OPEN = ServiceCall.OPEN_STATUSES  # the board shows open calls only


def _day(request: HttpRequest) -> date:
    raw = request.GET.get("day") or request.POST.get("day")
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass  # a bad day in a URL falls back to today rather than failing the page
    return timezone.localdate(clock.now())


def _filters(request: HttpRequest) -> CallFilters:
    """The board's filters from its URL. A move or swap posts from the page through htmx, whose
    HX-Current-URL names the page, filters included, so the columns it sends back match."""
    params = request.GET
    if request.htmx and not any(params.get(name) for name in FILTER_PARAMS):
        params = QueryDict(urlsplit(request.headers.get("HX-Current-URL", "")).query)
    return call_filters_from(params)


def _filter_context(filters: CallFilters, board) -> dict:
    query = [("skill", ",".join(filters.skills)), ("priority", ",".join(filters.priorities))]
    query += [("risk", ",".join(filters.risks)), ("status", ",".join(filters.statuses))]
    query.append(
        ("reschedules_min", "" if filters.reschedules_min is None else filters.reschedules_min)
    )
    return {
        "filters": filters,
        # For the poll's URL: the columns it fetches are filtered as the page is.
        "filter_query": urlencode([(k, v) for k, v in query if v != ""]),
        # The skills the day's calls need, from the cards already read (no query of its own).
        "skill_choices": sorted({*board.skill_codes, *filters.skills}),
        "priority_choices": ServiceCall.Priority.choices,
        "risk_choices": ServiceCall.Risk.choices,
        "status_choices": [(v, label) for v, label in ServiceCall.Status.choices if v in OPEN],
    }


def _team(request: HttpRequest) -> Team | None:
    raw = request.GET.get("team") or request.POST.get("team")
    if raw == "all" and roles.is_office(request.user):
        return None
    if raw and roles.is_office(request.user):
        team = Team.objects.filter(pk=raw).first() if raw.isascii() and raw.isdigit() else None
        if team:
            return team
    return selectors.board_team_default(request.user)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    # A technician's day starts on their own page (a phone); office staff start on the board.
    return redirect("tech:me" if roles.technician_of(request.user) else "pages:board")


def _background_notice(delayed_since: datetime | None) -> str | None:
    if delayed_since is None:
        return None
    if delayed_since == NEVER:
        return "Background updates have not run yet; ETAs may be out of date."
    since = timezone.localtime(delayed_since)
    same_day = since.date() == timezone.localdate(clock.now())
    when = dateformat.format(since, "H:i" if same_day else "M j H:i")
    return f"Background updates delayed since {when}; ETAs may be out of date."


def _board_state(day: date, team: Team | None) -> dict:
    team_id = team.pk if team else None
    return _state_of(selectors.board_fingerprint(day=day, team_id=team_id, heartbeat=RECOMPUTE))


def _state_of(fingerprint: selectors.BoardFingerprint) -> dict:
    """The board's version and the delayed-updates banner. The banner's coming and going (or a
    new "since") changes the version, so a polling board picks it up."""
    version = fingerprint.version
    delayed_since = background_status_at(last=fingerprint.last_success, now=clock.now())
    delayed_since = delayed_since.delayed_since
    if delayed_since is not None:
        version = f"{version}-d{delayed_since.timestamp():.0f}"
    return {"version": version, "background_notice": _background_notice(delayed_since)}


def _team_id_named(request: HttpRequest) -> int | None:
    """The team id an office user's URL names, unchecked (None: none named, or not an id)."""
    raw = request.GET.get("team") or ""
    if raw.isascii() and raw.isdigit() and len(raw) < 18 and roles.is_office(request.user):
        return int(raw)
    return None


def _poll_state(request: HttpRequest, day: date) -> tuple[dict, Team | None] | None:
    """The 304 path's state without looking the team up first: the fingerprint query checks it.
    None when the URL names no existing team (the caller then resolves it as the board does)."""
    team_id = _team_id_named(request)
    if team_id is None:
        return None
    fingerprint = selectors.board_fingerprint(day=day, team_id=team_id, heartbeat=RECOMPUTE)
    return _state_of(fingerprint) if fingerprint.team_exists else None


def _board_context(
    request: HttpRequest, day: date, team: Team | None, state: dict | None = None
) -> dict:
    filters = _filters(request)
    board = selectors.board_get(user=request.user, day=day, team=team, filters=filters)
    return {
        "alerts": selectors.board_alerts(user=request.user, day=day, team=team, now=clock.now()),
        "board": board,
        **_filter_context(filters, board),
        **(state or _board_state(day, team)),
        "can_move_any": roles.can_move_any(request.user),
        "roles": sorted(roles.roles_of(request.user)),
    }


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    day, team = _day(request), _team(request)
    try:
        context = _board_context(request, day, team)
    except DispatchError as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    context["can_plan"] = roles.can_move_any(request.user)
    # Only teams that ask for proposals get them (the board already holds the teams' rows).
    replans = (
        team.replan_on_events if team else any(t.replan_on_events for t in context["board"].teams)
    )
    if context["can_plan"] and replans:
        context["waiting_plan"] = plan_waiting(day=day, team_id=team.pk if team else None)
    return render(request, "dispatch/board.html", context)


@login_required
@require_GET
def board_columns(request: HttpRequest) -> HttpResponse:
    """The live board's poll: 304 while nothing changed (two aggregate queries), else columns."""
    day = _day(request)
    if not (roles.is_office(request.user) or roles.technician_of(request.user)):
        return HttpResponse("Your account has no role on the board.", status=403)
    state = _poll_state(request, day)
    if state is None:
        state = _board_state(day, _team(request))
    etag = f'"{state["version"]}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        context = _board_context(request, day, _team(request), state)
        response = render(request, "dispatch/partials/_columns.html", context)
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


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
        return redirect(_board_url(day, team))
    return _changed_columns(request, result.plan, day, team, {"toast": toast}, applied=True)


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


def _board_url(day: date, team: Team | None) -> str:
    return f"{reverse('pages:board')}?day={day.isoformat()}&team={team.pk if team else 'all'}"


def _move_refused(request, exc: DispatchError, day: date, team) -> HttpResponse:
    if not request.htmx:
        messages.error(request, exc.message)
        return redirect(_board_url(day, team))
    # The whole board comes back as it really is, so a card dragged in vain snaps back and a
    # stale board is refreshed.
    context = _board_context(request, day, team) | {"error": exc.message}
    response = render(request, "dispatch/partials/_columns.html", context, status=exc.status_code)
    response["HX-Retarget"] = "#board-columns"
    response["HX-Reswap"] = "innerHTML"
    return response


def _confirm(request, plan, args: dict, day: date, team) -> HttpResponse:
    extra = {"plan": plan, "ripple": plan.ripple_for(request.user), "move": args}
    if request.htmx:
        # The touched columns come back unchanged, so the dropped card returns to its place
        # while the panel asks.
        return _changed_columns(request, plan, day, team, extra)
    context = _board_context(request, day, team) | extra
    return render(request, "dispatch/confirm_move.html", context)


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
        return redirect(_board_url(day, team))
    return _changed_columns(request, first.plan, day, team, {"toast": toast})
