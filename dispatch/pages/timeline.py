"""The timeline board: office roles' default at /board/ (the column board stays at
`/board/?view=columns`, and is a technician's board). Thin: the timeline selector reads, the
column board's helpers give the day, team, filters and live state, and the moves go through
the same move post (board_moves.py)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode, urlsplit

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from common import clock, roles
from common.errors import DispatchError
from dispatch import selectors
from dispatch.pages import board as columns
from dispatch.pages import board_map, week
from dispatch.selectors.timeline import timeline_get
from technicians.models import Team

TIMELINE, COLUMNS = "timeline", "columns"


def _current_query(request: HttpRequest) -> QueryDict | None:
    """The query of the board page an htmx request came from (None: not from /board/)."""
    if not request.htmx:
        return None
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    return QueryDict(current.query) if current.path == reverse("pages:board") else None


def board_view_of(request: HttpRequest, *, default: str) -> str:
    """Which board a request shows or was made from: office roles get the timeline unless
    they ask for the columns; a technician always has the columns."""
    if not roles.is_office(request.user):
        return COLUMNS
    named = request.GET.get("view") or request.POST.get("view")
    if named in (TIMELINE, COLUMNS):
        return named
    if request.method == "POST":
        current = _current_query(request)
        if current is None:
            return COLUMNS  # a move from elsewhere (the suggest page) answers as it always did
        return COLUMNS if current.get("view") == COLUMNS else TIMELINE
    return default


def _named(request: HttpRequest, name: str) -> str | None:
    """A parameter of the request, or of the board page an htmx request came from."""
    raw = request.GET.get(name) or request.POST.get(name)
    if not raw and (current := _current_query(request)) is not None:
        raw = current.get(name)
    return raw


def _page(request: HttpRequest) -> int | None:
    """The page asked for (None: none named, or not a page number)."""
    raw = _named(request, "page")
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 6 else None


def _focus(request: HttpRequest) -> int | None:
    """`?focus=<call id>`: the call the timeline highlights (anything else: none)."""
    raw = _named(request, "focus")
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def timeline_context(
    request: HttpRequest, day: date, team: Team | None, state: dict | None = None
) -> dict:
    filters = columns._filters(request)
    now = clock.now()
    focus = _focus(request)
    page = _page(request)
    timeline = timeline_get(
        user=request.user,
        day=day,
        team=team,
        now=now,
        # Without a page named, a focused call's page; else the first.
        page=page if page is not None or focus is not None else 1,
        filters=filters,
        focus=focus,
    )
    board = timeline.board
    board.teams = timeline.teams  # the team picker's list
    filter_context = columns._filter_context(filters, board)
    page_query = [
        ("view", TIMELINE),
        ("day", day.isoformat()),
        ("team", team.pk if team else "all"),
    ]
    if focus is not None:
        page_query.append(("focus", focus))  # the poll and the pager keep the highlight
    return {
        "alerts": selectors.board_alerts(user=request.user, day=day, team=team, now=now),
        "board": board,
        "timeline": timeline,
        **filter_context,
        **(state or columns._board_state(day, team)),
        "can_move_any": roles.can_move_any(request.user),
        "roles": sorted(roles.roles_of(request.user)),
        "view": TIMELINE,
        # The poll's and the pager's query: the same day, team and filters.
        "timeline_query": urlencode(page_query)
        + ("&" + filter_context["filter_query"] if filter_context["filter_query"] else ""),
    }


def timeline_partial(request: HttpRequest, day: date, team, extra: dict | None = None, **kw):
    """The timeline's swappable part (notices, tray, axis and rows) as a response."""
    context = timeline_context(request, day, team) | (extra or {})
    return render(request, "dispatch/partials/_timeline.html", context, **kw)


@login_required
@require_GET
def board_page(request: HttpRequest) -> HttpResponse:
    if week.is_week(request):
        return week.week_page(request)
    if board_view_of(request, default=TIMELINE) == COLUMNS:
        return columns.board(request)
    day, team = columns._day(request), columns._team(request)
    try:
        context = timeline_context(request, day, team)
    except DispatchError as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    columns.plan_notice(request, context, day, team)
    return render(request, "dispatch/timeline.html", context)


@login_required
@require_GET
def board_poll(request: HttpRequest) -> HttpResponse:
    """Both boards' live poll (`view=timeline` for the timeline's part) and the map's
    (`view=map`: its lists)."""
    if request.GET.get("view") == "map":
        return board_map.map_poll(request)
    if board_view_of(request, default=COLUMNS) == COLUMNS:
        return columns.board_columns(request)

    def changed(day: date, team: Team | None, state: dict) -> HttpResponse:
        context = timeline_context(request, day, team, state)
        return render(request, "dispatch/partials/_timeline.html", context)

    return columns.poll_response(request, changed)
