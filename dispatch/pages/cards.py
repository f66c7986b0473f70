"""The board's columns and call cards, rendered in Python.

A 60 x 600 board spent ~88% of its time rendering one {% include %}d card template per call
(variable resolution and filters, 600 times over). The markup is fixed, so it is built here
with plain string formatting; every value that comes from a person (summary, customer and
technician names, skill codes, display labels) goes through `escape`. The templates this
replaced are kept in tests/data/, and tests/dispatch/test_cards.py checks both give the same
HTML for a varied set of cards and columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape  # django.utils.html.escape is this behind a lazy-text wrapper
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from common import clock
from dispatch.models import ServiceCall
from dispatch.pages.risk_words import (
    on_time_words,
    slack_words,
    standing_class,
    standing_of,
    waiting_words,
)
from dispatch.selectors import Board, BoardCard, BoardColumn
from dispatch.selectors.waiting import waiting_since
from technicians.models import Technician

_WORKING = ("en_route", "on_site")
_PRIORITY_LABELS = {value: escape(label) for value, label in ServiceCall.Priority.choices}
# Known choice values print as they are (none needs escaping); anything else is escaped.
_CLASS_WORDS = {
    value: value for value, _ in ServiceCall.Priority.choices + ServiceCall.Risk.choices
}
_TECH_STATUS_LABELS = {value: escape(label) for value, label in Technician.Status.choices}
_STATUS_LABELS = {value: escape(label) for value, label in ServiceCall.Status.choices}


def _hm(value: datetime, tz: ZoneInfo) -> str:
    # The template's `time:"H:i"`: local wall-clock time of the current time zone.
    local = value.astimezone(tz)
    return f"{local.hour:02d}:{local.minute:02d}"  # strftime was a tenth of the cards' time


def _eta(call: BoardCard, tz: ZoneInfo, now: datetime) -> str:
    """ "ETA 10:30"; nobody has an unassigned call, so no ETA: how long it has waited instead."""
    if call.technician_id is not None:
        return f"<span>ETA {_hm(call.eta, tz) if call.eta else '—'}</span>"
    waiting = waiting_words(
        waiting_since(call.created_at, call.window_start, call.scheduled_day), now
    )
    if waiting:
        return f'<span class="waiting">{waiting.capitalize()}</span>'
    return "<span>No ETA yet</span>"


def _times(call: BoardCard, tz: ZoneInfo, now: datetime) -> str:
    window = ""
    if call.window_start and call.deadline:
        start, end = _hm(call.window_start, tz), _hm(call.deadline, tz)
        window = f'<span class="window">Window {start}–{end}</span>'
    due = _hm(call.deadline, tz) if call.deadline else "—"
    slack = ""
    if call.slack_minutes is not None:
        slack = f'<span class="spare">{slack_words(call.slack_minutes)}</span>'
    odds = ""
    if call.p_late is not None:
        odds = f'<span class="odds">{on_time_words(call.p_late)}</span>'
    return (
        f'  <p class="times">\n    {window}\n    <span>Due {due}</span>\n'
        f"    {_eta(call, tz, now)}\n    {slack}\n    {odds}\n  </p>\n"
    )


def _tags(call: BoardCard, working: bool) -> str:
    skills = "".join(f' <span class="skill">{escape(code)}</span>' for code in call.skill_codes)
    state = f' <span class="state">{_label(_STATUS_LABELS, call.status)}</span>' if working else ""
    prio = _label(_PRIORITY_LABELS, call.priority)
    return f'  <p class="tags"><span class="prio">{prio}</span>{skills}{state}</p>\n'


def _label(labels: dict[str, str], value: str) -> str:
    # Like get_FOO_display: an unknown value shows as itself (escaped).
    return labels.get(value) or escape(value)


def _risk_line(call: BoardCard, link: str, team: str) -> str:
    badge = standing_of(call)
    standing = standing_class(badge)
    badge_class = f"risk-badge {standing}" if standing else "risk-badge"
    overtime = '<span class="overtime-tag">Past shift end</span>' if call.overtime else ""
    resched = ""
    if call.reschedule_count:
        resched = f'<span class="resched">Rescheduled ×{call.reschedule_count}</span>'
    # The no-JavaScript move form comes back to the column board, not the timeline.
    move = f"{link}move/?team={team}&amp;view=columns"
    suggest = f"{link}suggest/?team={team}"
    return (
        f'  <p class="risk-line"><span class="{badge_class}">{badge}</span>\n'
        f"    {overtime}\n    {resched}\n"
        f'    <a class="move-link" href="{move}"\n'
        f'       hx-get="{move}" hx-target="#panel">Move…</a>\n'
        f'    <a class="suggest-link" href="{suggest}"\n'
        f'       hx-get="{suggest}" hx-target="#panel">Suggest</a></p>\n'
    )


def card_html(
    call: BoardCard,
    *,
    calls_prefix: str,
    team: str,
    tz: ZoneInfo | None = None,
    focused: bool = False,
    now: datetime | None = None,
) -> str:
    """One card. `calls_prefix` is the calls URL prefix; `team` the board's team id or "all";
    times show in `tz` (the current time zone by default); an unassigned call's wait runs to
    `now` (the clock's by default)."""
    tz = tz or timezone.get_current_timezone()
    now = now or clock.now()
    working = call.status in _WORKING
    pk = call.pk
    link = f"{calls_prefix}{pk}/"
    risk = _CLASS_WORDS.get(call.risk) or escape(call.risk or "ok")
    priority = _CLASS_WORDS.get(call.priority) or escape(call.priority)
    current = ' aria-current="true"' if focused else ""  # the timeline's ?focus= call
    head = (
        f'<article class="card risk-{risk} prio-{priority}'
        f'{" working" if working else ""}{" tl-focus" if focused else ""}"\n'
        f'         id="call-{pk}" data-call="{pk}" data-version="{call.version}" tabindex="0"'
        f"{current}"
        # Filtered out: kept in its column (queue places and booked minutes stay true), unseen.
        f"{'' if call.matches else ' hidden'}>\n"
    )
    emergency = '<p class="emergency-flag">⚠ EMERGENCY</p>' if call.priority == "emergency" else ""
    escalated = ""
    if call.escalated:
        escalated = '<p class="escalated-flag">▲ Escalated: a manager is on it</p>'
    return (
        f"{head}  {emergency}\n  {escalated}\n"
        f'  <h3 class="card-title"><a href="{link}">#{pk} {escape(call.summary)}</a></h3>\n'
        f'  <p class="customer">{escape(call.customer_name)}</p>\n'
        f"{_tags(call, working)}{_times(call, tz, now)}{_risk_line(call, link, team)}</article>\n"
    )


def _booked(column: BoardColumn) -> str:
    booked, shift = column.booked_minutes, column.shift_minutes
    if booked <= shift:
        return f"{booked} / {shift} min booked"
    # More work than the shift holds must read as over, never as a full and healthy day.
    return f'<span class="over">{booked} / {shift} min booked: over by {booked - shift} min</span>'


def column_html(column: BoardColumn, *, board: Board, oob: bool = False) -> SafeString:
    """A technician's column (was templates/dispatch/partials/_column.html)."""
    tech = column.technician
    name = escape(tech.name)
    swap = ' hx-swap-oob="outerHTML"' if oob else ""
    status = _label(_TECH_STATUS_LABELS, tech.status)
    overtime = ""
    if column.overtime:
        overtime = '<p class="overtime" role="note">⚠ Overtime: the day runs past the shift end</p>'
    cards = cards_html(column.calls, calls_prefix=board.calls_prefix, team_id=_team_id(board))
    html = (
        f'<section class="column" id="{escape(column.dom_id)}"{swap} aria-label="{name}">\n'
        f'  <header class="column-head">\n    <h2>{name}</h2>\n'
        f'    <p class="col-meta"><span class="tech-status status-{escape(tech.status)}">{status}'
        f"</span>\n      · {_booked(column)}</p>\n"
        f"    {overtime}\n  </header>\n"
        f'  <div class="cards" data-technician="{tech.pk}">\n    {cards}\n  </div>\n</section>\n'
    )
    return mark_safe(html)  # noqa: S308  # nosec B308 B703 - every value above is escaped or a number


def unassigned_html(board: Board, *, oob: bool = False, focus: int | None = None) -> SafeString:
    """The unassigned column (was templates/dispatch/partials/_unassigned.html); `focus` a call
    to draw highlighted (the timeline's `?focus=`)."""
    swap = ' hx-swap-oob="outerHTML"' if oob else ""
    count = len(board.unassigned)
    cards = cards_html(
        board.unassigned, calls_prefix=board.calls_prefix, team_id=_team_id(board), focus=focus
    )
    html = (
        f'<section class="column unassigned" id="col-unassigned"{swap}'
        ' aria-label="Unassigned calls">\n'
        '  <header class="column-head">\n    <h2>Unassigned</h2>\n'
        f'    <p class="col-meta">{count} call{"" if count == 1 else "s"}</p>\n  </header>\n'
        f'  <div class="cards" data-technician="">\n    {cards}\n  </div>\n</section>\n'
    )
    return mark_safe(html)  # noqa: S308  # nosec B308 B703 - the cards are escaped; the rest is fixed or a number


def _team_id(board: Board) -> int | None:
    return board.team.pk if board.team is not None else None


def cards_html(
    calls: Iterable[BoardCard], *, calls_prefix: str, team_id: int | None, focus: int | None = None
) -> SafeString:
    """A column's cards, as the column partials print them."""
    team = escape(str(team_id)) if team_id else "all"
    calls_prefix = escape(calls_prefix)
    tz, now = timezone.get_current_timezone(), clock.now()
    html = "".join(
        card_html(c, calls_prefix=calls_prefix, team=team, tz=tz, focused=c.pk == focus, now=now)
        for c in calls
    )
    return mark_safe(html)  # noqa: S308  # nosec B308 B703 - card_html escapes every value it prints
