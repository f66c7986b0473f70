"""The timeline's rows and blocks, rendered in Python as the column board's cards are (see
cards.py: a template include per block is most of a big board's time).

Every value that comes from a person goes through `escape`; positions are step classes
(`t-start-N`, `t-len-N`, static/css/timeline-steps.css), never style attributes.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from dispatch.pages.cards import _CLASS_WORDS, _PRIORITY_LABELS, _TECH_STATUS_LABELS, _label
from dispatch.pages.risk_words import (
    duration_words,
    risk_words,
    short_standing,
    standing_class,
    standing_of,
)
from dispatch.selectors.timeline import DAY_STEPS, STEP_MINUTES, Block, Row, Span, Timeline

# A block too short for its words shows its id and the risk in one short word (the tooltip and
# the screen-reader text still say everything).
NARROW_STEPS = 16
_WORKING = ("en_route", "on_site")


def _hm(value: datetime | None, tz) -> str:
    if value is None:
        return "—"
    local = value.astimezone(tz)
    return f"{local.hour:02d}:{local.minute:02d}"


def _at(span: Span) -> str:
    return f"t-start-{span.start} t-len-{span.length}"


def _facts(block: Block, tz) -> list[str]:
    """What the block says in words: the same for its tooltip and for a screen reader."""
    call = block.call
    facts = [f"#{call.pk} {call.summary}", call.customer_name]
    if block.planned:
        facts.append(f"planned {_hm(call.planned_start, tz)}–{_hm(call.planned_finish, tz)}")
    else:
        facts.append(f"not planned yet ({call.duration_minutes} min)")
    if block.travel_minutes:
        facts.append(f"travel {duration_words(block.travel_minutes)}")
    if block.waiting_minutes:
        facts.append(f"waiting {duration_words(block.waiting_minutes)}")
    if call.window_start and call.deadline:
        facts.append(f"window {_hm(call.window_start, tz)}–{_hm(call.deadline, tz)}")
    elif call.deadline:
        facts.append(f"due {_hm(call.deadline, tz)}")
    facts.append(risk_words(standing_of(call), call.slack_minutes, call.p_late))
    if block.runs_over:
        facts.append("runs past the shift end")
    if call.escalated:
        facts.append("escalated")
    return facts


def block_html(block: Block, *, calls_prefix: str, team: str, tz, focus: int | None = None) -> str:
    call = block.call
    pk = call.pk
    risk = _CLASS_WORDS.get(call.risk) or escape(call.risk or "ok")
    priority = _CLASS_WORDS.get(call.priority) or escape(call.priority)
    classes = [f"tl-block risk-{risk} prio-{priority} lane-{block.lane}", _at(block.span)]
    if call.status in _WORKING:
        classes.append("working")
    if not block.planned:
        classes.append("unplanned")
    if block.span.length < NARROW_STEPS:
        classes.append("tl-short")  # not "narrow": the sign-in box's class
    if not call.matches:
        classes.append("filtered-out")  # kept in place (the time is still taken), dimmed
    focused = ""
    if pk == focus:
        classes.append("tl-focus")  # the call the map's "Show on the timeline" asked for
        focused = ' aria-current="true"'
    facts = escape(" · ".join(_facts(block, tz)))
    link = f"{calls_prefix}{pk}/"
    risk_word = standing_of(call)
    standing = standing_class(risk_word)
    short = short_standing(risk_word)
    when = _hm(call.planned_start, tz) if block.planned else "no plan yet"
    flags = ""
    if call.priority == "emergency":
        flags += '<span class="tl-flag">⚠ Emergency</span> '
    if block.runs_over:
        flags += '<span class="tl-over">Overtime</span> '
    pieces = []
    if block.waiting:
        title = f"Waiting {duration_words(block.waiting_minutes)} before #{pk}"
        pieces.append(f'<span class="tl-wait {_at(block.waiting)}" title="{title}"></span>')
    if block.travel:
        title = f"Travel {duration_words(block.travel_minutes)} to #{pk}"
        pieces.append(f'<span class="tl-travel {_at(block.travel)}" title="{title}"></span>')
    if block.window:
        span = f"{_hm(call.window_start, tz)}–{_hm(call.deadline, tz)}"
        pieces.append(
            f'<span class="tl-window lane-{block.lane} {_at(block.window)}"'
            f' title="Window {span} for #{pk}"></span>'
        )
    if block.deadline_step is not None:
        due = f"Due {_hm(call.deadline, tz)} for #{pk}"
        pieces.append(
            f'<span class="tl-due lane-{block.lane} t-start-{block.deadline_step}"'
            f' title="{due}"></span>'
        )
    prio = _label(_PRIORITY_LABELS, call.priority)
    pieces.append(
        f'<article class="{" ".join(classes)}" id="call-{pk}" data-call="{pk}"'
        f' data-version="{call.version}" data-step="{block.span.start}"'
        f' data-len="{block.span.length}" tabindex="0"{focused} title="{facts}">'
        f'<a class="tl-title" href="{link}">#{pk}<span class="tl-sum"> {escape(call.summary)}'
        "</span></a>"
        f'<span class="tl-line"><span class="tl-risk{" " + standing if standing else ""}">'
        f"{risk_word}</span>"
        f'<span class="tl-risk-short{" " + standing if standing else ""}" aria-hidden="true">'
        f"{short}</span> {flags}"
        f'<span class="tl-when">{when}</span> <span class="tl-prio">{prio}</span></span>'
        f'<span class="visually-hidden">{facts}</span>'
        f'<span class="tl-actions"><a class="move-link" href="{link}move/?team={team}"'
        f' hx-get="{link}move/?team={team}" hx-target="#panel">Move…</a>'
        f' <a class="suggest-link" href="{link}suggest/?team={team}"'
        f' hx-get="{link}suggest/?team={team}" hx-target="#panel">Suggest</a></span>'
        "</article>"
    )
    return "".join(pieces)


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours}h{rest:02d}" if rest else f"{hours}h"


def _booked(row: Row) -> str:
    booked, shift = row.column.booked_minutes, row.column.shift_minutes
    if booked <= shift:
        return f"{_hours(booked)} of {_hours(shift)} booked"
    return f'<span class="over">{_hours(booked)} of {_hours(shift)}: over</span>'


def _booked_words(row: Row) -> str:
    booked, shift = row.column.booked_minutes, row.column.shift_minutes
    return f"{duration_words(booked)} booked of a {duration_words(shift)} shift"


def row_html(row: Row, *, timeline: Timeline, tz) -> str:
    tech = row.technician
    name = escape(tech.name)
    status = _label(_TECH_STATUS_LABELS, tech.status)
    team_id = timeline.board.team.pk if timeline.board.team else None
    team = escape(str(team_id)) if team_id else "all"
    prefix = escape(timeline.board.calls_prefix)
    shift = f"{tech.shift_start:%H:%M}–{tech.shift_end:%H:%M}"
    count = f"{len(row.blocks)} call{'' if len(row.blocks) == 1 else 's'}"
    # The summary wraps between its phrases, never inside one ("Overtime · 3 calls ·" over
    # "4h of 8h30 booked"): the name column is 11rem wide (static/css/app.css .tl-phrase).
    phrases = [count, _booked(row)]
    if row.overtime:
        phrases.insert(0, '<span class="tl-overtime-word">Overtime</span>')
    summary = " ".join(
        f'<span class="tl-phrase">{p}{" ·" if i < len(phrases) - 1 else ""}</span>'
        for i, p in enumerate(phrases)
    )
    pieces = [f'<div class="tl-shift {_at(row.shift)}" title="Shift {shift}"></div>']
    if row.overtime:
        pieces.append(f'<div class="tl-overtime {_at(row.overtime)}" title="Overtime"></div>')
    if timeline.now_step is not None:
        pieces.append(f'<div class="tl-now t-start-{timeline.now_step}"></div>')
    pieces += [
        block_html(b, calls_prefix=prefix, team=team, tz=tz, focus=timeline.focus)
        for b in row.blocks
    ]
    return (
        f'<section class="tl-row" id="{row.dom_id}" data-technician="{tech.pk}"'
        f' aria-label="{name}">'
        f'<div class="tl-name"><h2>{name}</h2>'
        f'<p><span class="tech-status status-{escape(tech.status)}">{status}</span>'
        f" · {shift}</p>"
        f'<p class="tl-booked" title="{count} · {_booked_words(row)}">{summary}</p></div>'
        f'<div class="tl-track">{"".join(pieces)}</div></section>'
    )


def axis_html(timeline: Timeline) -> str:
    ticks = "".join(
        f'<span class="tl-tick t-start-{t.step}">{t.label}</span>' for t in timeline.ticks
    )
    now = ""
    if timeline.now_step is not None:
        now = f'<span class="tl-now-label t-start-{timeline.now_step}">now</span>'
    return (
        '<div class="tl-axis" aria-hidden="true"><div class="tl-corner">Technician</div>'
        f'<div class="tl-axis-track">{ticks}{now}</div></div>'
    )


def timeline_rows_html(timeline: Timeline) -> SafeString:
    """The sticky axis and the page's rows."""
    tz = timezone.get_current_timezone()
    rows = "".join(row_html(r, timeline=timeline, tz=tz) for r in timeline.rows)
    html = axis_html(timeline) + rows
    return mark_safe(html)  # noqa: S308  # nosec B308 B703 - every value above is escaped or a number


def steps_css() -> str:
    """static/css/timeline-steps.css: one class per step of a day for where a piece starts,
    how long it is and how long the axis is. tests/dispatch/test_timeline.py keeps the file
    equal to this; after changing STEP_MINUTES, write it again with write_steps_css() (from
    `python manage.py shell`)."""
    lines = [
        "/* Generated by dispatch/pages/timeline_html.py steps_css(): do not edit by hand. */",
        f"/* One step is {STEP_MINUTES} minutes; a piece sits at --s steps, --l steps long, "
        "on an axis of --span steps. */",
    ]
    lines += [f".t-start-{n}{{--s:{n}}}" for n in range(DAY_STEPS + 1)]
    lines += [f".t-len-{n}{{--l:{n}}}" for n in range(1, DAY_STEPS + 1)]
    lines += [f".t-span-{n}{{--span:{n}}}" for n in range(1, DAY_STEPS + 1)]
    return "\n".join(lines) + "\n"


STEPS_CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "timeline-steps.css"


def write_steps_css() -> None:
    STEPS_CSS.write_text(steps_css())
