"""The week view (`/board/?days=week`): a row per technician, a column per day, and the move of
a call to another day (drag, or the call page's "Reschedule" form: a day and, optionally, a
new window start and end). Thin: the week selector
reads, the day-move service decides."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from common import clock, roles
from common.errors import DispatchError, InvalidInput
from dispatch.pages import board as columns
from dispatch.pages.calls import call_page_with_error
from dispatch.pages.risk_words import duration_words, risk_label
from dispatch.selectors.week import WEEK_DAYS, week_get
from dispatch.services.day_moves import DayMoveResult, call_move_to_day
from technicians.models import Team

WEEK = "week"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
# The call page's Reschedule form: the new window's clock times (empty: keep the call's own).
WINDOW_FIELDS = (("window_start", "start"), ("window_end", "end"))


def is_week(request: HttpRequest) -> bool:
    """`?days=week` (or a post from the week view) by an office role; a technician keeps the
    column board."""
    named = request.GET.get("days") or request.POST.get("days")
    return named == WEEK and roles.is_office(request.user)


def week_url(first: date, team: Team | None) -> str:
    team_part = team.pk if team else "all"
    return f"{reverse('pages:board')}?days=week&day={first.isoformat()}&team={team_part}"


def week_context(request: HttpRequest, first: date, team: Team | None) -> dict:
    now = clock.now()
    today = timezone.localdate(now)
    week = week_get(user=request.user, first=first, team=team, today=today)
    team_part = team.pk if team else "all"
    return {
        "week": week,
        "board": week,  # the topbar's and the filters' day and team
        "today": today,
        "tomorrow": today + timedelta(days=1),
        "previous_first": first - timedelta(days=WEEK_DAYS),
        "next_first": first + timedelta(days=WEEK_DAYS),
        "team_part": team_part,
        "roles": sorted(roles.roles_of(request.user)),
        "view": WEEK,
        "week_rows": _rows_words(week),
        "week_unassigned": [(cell, _waiting_words(cell)) for cell in week.unassigned],
    }


def _rows_words(week) -> list:
    """Each cell's line of words ("3 calls · 2 h 30 min of 9 h"), computed once here."""
    rows = []
    for row in week.rows:
        cells = []
        for cell in row.cells:
            cells.append((cell, _cell_words(cell)))
        rows.append((row, cells))
    return rows


def _waiting_words(cell) -> str:
    if not cell.calls:
        return "none waiting"
    return f"{len(cell.calls)} waiting · {duration_words(cell.booked_minutes)}"


def _cell_words(cell) -> str:
    if not cell.calls:
        return "free"
    count = len(cell.calls)
    words = f"{count} call{'s' if count != 1 else ''} · {duration_words(cell.booked_minutes)}"
    if cell.shift_minutes:
        words += f" / {duration_words(cell.shift_minutes)}"
    if cell.over_shift:
        words += " · over the shift"
    return words


def week_page(request: HttpRequest) -> HttpResponse:
    """The week board (called by the board page for `?days=week`)."""
    first, team = columns._day(request), columns._team(request)
    try:
        context = week_context(request, first, team)
    except DispatchError as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    return render(request, "dispatch/week.html", context)


# --- moving a call to another day -------------------------------------------------------------


def target_day(raw: str | None) -> date:
    """The day typed or dropped on, strictly YYYY-MM-DD; anything else refused in words (never
    echoed back whole: it may be 10 KB or hold control characters)."""
    if raw is None or not raw.strip():
        raise InvalidInput("Pick the day to move the call to.", field="to_day")
    raw = raw.strip()
    if len(raw) > 10 or not raw.isascii() or not _ISO_DAY.fullmatch(raw):
        raise InvalidInput(
            "The day to move to must be a date written as year-month-day, e.g. 2026-03-11.",
            field="to_day",
        )
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"There is no day {raw}: check the month and the day of the month.", field="to_day"
        ) from None


def clock_time(raw: str | None, field: str, what: str) -> time | None:
    """A new window's start or end, strictly HH:MM on the 24-hour clock; empty is None (keep the
    call's own clock time). Anything else is refused in words, never echoed back whole."""
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if len(raw) > 5 or not raw.isascii() or not _CLOCK.fullmatch(raw):
        raise InvalidInput(
            f"The new window's {what} must be a time written as hours:minutes on the 24-hour "
            "clock, e.g. 09:30 or 14:00.",
            field=field,
        )
    return time(int(raw[:2]), int(raw[3:]))


def _whole(raw: str | None, what: str) -> int | None:
    if raw in (None, "", "none"):
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise InvalidInput(f"The {what} must be a whole number.", field=what)
    return int(raw)


def _moved_words(result: DayMoveResult) -> str:
    call, plan = result.call, result.plan
    when = f"{result.day:%a} {result.day.day} {result.day:%b}"
    verb = "Moved"
    if result.retimed and call.window_start and call.deadline:
        verb = "Rescheduled"
        start, end = timezone.localtime(call.window_start), timezone.localtime(call.deadline)
        when += f" {start:%H:%M}–{end:%H:%M}"
    if plan is None or plan.target_id is None:
        where = f"to {when}, unassigned"
    else:
        fields = plan.after[call.pk]
        eta = timezone.localtime(fields.eta).strftime("%H:%M") if fields.eta else "?"
        where = f"to {when}, {plan.target.name}'s queue (arriving {eta}, {risk_label(fields.risk)})"
    words = f"{verb} call #{call.pk} {where}."
    if result.told:
        words += f" The customer was told: {result.told}."
    return words


@login_required
@require_POST
def week_move(request: HttpRequest) -> HttpResponse:
    """A call to another day: the week view's drop, its confirm panel and the call page's form."""
    post = request.POST
    first, team = columns._day(request), columns._team(request)
    names = ("to_day", "technician", "call", "expected_version", "window_start", "window_end")
    typed = {k: post.get(k, "")[:40] for k in names}
    try:
        args = {
            "call_id": _whole(post.get("call"), "call"),
            "day": target_day(post.get("to_day")),
            "technician_id": _whole(post.get("technician"), "technician"),
            "position": _whole(post.get("position"), "position"),
            "expected_version": _whole(post.get("expected_version"), "expected_version"),
            "reason": post.get("reason", "")[:500],
        }
        for field, what in WINDOW_FIELDS:
            args[what] = clock_time(post.get(field), field, what)
        if args["call_id"] is None:
            raise InvalidInput("Say which call to move.", field="call")
        if args["expected_version"] is None:
            raise InvalidInput("The call's version is missing; reload the page.", "version")
        result = call_move_to_day(
            user=request.user, require_confirmation=post.get("confirm") != "1", **args
        )
    except DispatchError as exc:
        return _refused(request, exc, first, team, typed)
    if not result.applied:
        extra = {"plan": result.plan, "ripple": result.plan.ripple_for(request.user)}
        extra["move"] = args | {"to_day": args["day"].isoformat()}
        for field, what in WINDOW_FIELDS:
            extra["move"][field] = args[what].strftime("%H:%M") if args[what] else ""
        if post.get("return") == "call":
            extra["move"]["return"] = "call"
        return _week_answer(request, first, team, extra)
    toast = _moved_words(result)
    if not request.htmx:
        messages.success(request, toast)
        return redirect(_return_url(request, first, team))
    return _week_answer(request, first, team, {"toast": toast})


def _return_url(request: HttpRequest, first: date, team: Team | None) -> str:
    call = request.POST.get("call", "")
    if request.POST.get("return") == "call" and call.isascii() and call.isdigit():
        return reverse("pages:call-page", args=[int(call)])
    return week_url(first, team)


def _week_answer(request, first, team, extra: dict, status: int = 200) -> HttpResponse:
    context = week_context(request, first, team) | extra
    template = "dispatch/partials/_week.html" if request.htmx else "dispatch/week.html"
    return render(request, template, context, status=status)


def _refused(request, exc: DispatchError, first, team, typed: dict) -> HttpResponse:
    if request.POST.get("return") == "call" and not request.htmx:
        return call_page_with_error(request, typed.get("call"), exc, typed)
    try:
        return _week_answer(request, first, team, {"error": exc.message}, exc.status_code)
    except DispatchError:
        return HttpResponse(exc.message, status=exc.status_code)
