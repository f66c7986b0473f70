"""The column board's HTML views and the helpers both boards share (day, team, filters, live
state, the poll); thin: they ask selectors and pick a template or fragment. The timeline is in
timeline.py; moves and swaps from either board in board_moves.py."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode, urlsplit

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET

from common import clock, roles
from common.errors import DispatchError
from dispatch import selectors
from dispatch.models import ServiceCall
from dispatch.selectors.board import board_door
from dispatch.selectors.day_plans import plan_waiting
from dispatch.selectors.search import FILTER_PARAMS, CallFilters, call_filters_from
from dispatch.services.background import NEVER, RECOMPUTE, background_status_at
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
    when = dateformat.format(since, "H:i" if same_day else "D j M H:i")
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


def plan_notice(request: HttpRequest, context: dict, day: date, team: Team | None) -> None:
    """ "Plan the day" and a waiting proposal, for both boards (the board holds the teams)."""
    context["can_plan"] = roles.can_move_any(request.user)
    # Only teams that ask for proposals get them (the board already holds the teams' rows).
    replans = (
        team.replan_on_events if team else any(t.replan_on_events for t in context["board"].teams)
    )
    if context["can_plan"] and replans:
        context["waiting_plan"] = plan_waiting(day=day, team_id=team.pk if team else None)


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The column board (`/board/?view=columns`; a technician's board)."""
    day, team = _day(request), _team(request)
    try:
        context = _board_context(request, day, team)
    except DispatchError as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    plan_notice(request, context, day, team)
    context["view"] = "columns"
    return render(request, "dispatch/board.html", context)


def poll_response(request: HttpRequest, render_changed) -> HttpResponse:
    """A live board's poll: 304 while nothing changed (two aggregate queries), else
    `render_changed(day, team, state)`, the board's swappable part."""
    day = _day(request)
    try:
        board_door(request.user)
    except DispatchError as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    state = _poll_state(request, day)
    if state is None:
        state = _board_state(day, _team(request))
    etag = f'"{state["version"]}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = render_changed(day, _team(request), state)
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


@login_required
@require_GET
def board_columns(request: HttpRequest) -> HttpResponse:
    """The column board's poll."""

    def columns(day: date, team: Team | None, state: dict) -> HttpResponse:
        context = _board_context(request, day, team, state)
        return render(request, "dispatch/partials/_columns.html", context)

    return poll_response(request, columns)
