"""The board as a timeline: one row per technician across the day, read from the same board
selector (so the same stored plan, filters and visibility), laid out in steps.

Nothing here plans: every block is the call's stored planned start and finish (what the planning
core wrote), travel is the gap the plan leaves between the previous finish and the arrival, and
waiting the gap between arrival and start. Positions are whole steps of STEP_MINUTES from the
axis start, so the page places them with classes (static/css/timeline-steps.css), never with a
style attribute, which the Content-Security-Policy forbids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.utils import timezone

from dispatch.selectors import calls_visible_to, technicians_visible_to
from dispatch.selectors.board import Board, BoardCard, BoardColumn, board_get
from dispatch.selectors.search import CallFilters
from technicians.models import Team

STEP_MINUTES = 5
DAY_STEPS = 24 * 60 // STEP_MINUTES  # the CSS file has a class for every step of a day
ROWS_PER_PAGE = 25
# The axis runs from an hour before the earliest shift to an hour after the latest one.
AXIS_MARGIN_MINUTES = 60
# With no technician on the page, an ordinary working day.
EMPTY_AXIS = (7 * 60, 19 * 60)


@dataclass(frozen=True, slots=True)
class Span:
    """Something drawn on a row: from step `start` for `length` steps (at least one)."""

    start: int
    length: int


@dataclass(slots=True)
class Block:
    call: BoardCard
    span: Span
    # Travel ends where the work starts; waiting (arrived early) is drawn before the travel.
    travel: Span | None
    travel_minutes: int
    waiting: Span | None
    waiting_minutes: int
    window: Span | None
    deadline_step: int | None
    lane: int  # 0 or 1: neighbours' windows are drawn on alternate lanes so both stay readable
    planned: bool  # False: no plan stored yet (drawn after the previous block, marked)
    runs_over: bool  # part of the work falls after the shift's end


@dataclass(slots=True)
class Row:
    column: BoardColumn
    shift: Span
    overtime: Span | None
    blocks: list[Block] = field(default_factory=list)

    @property
    def technician(self):
        return self.column.technician

    @property
    def dom_id(self) -> str:
        return f"row-{self.technician.pk}"


@dataclass(frozen=True, slots=True)
class Tick:
    step: int
    label: str


@dataclass
class Timeline:
    board: Board  # the rows' columns and the unassigned tray, as the column board reads them
    rows: list[Row]
    start_minute: int  # the axis start, minutes after local midnight
    span_steps: int
    ticks: list[Tick]
    now_step: int | None
    page: int
    pages: int
    technician_count: int
    first_row: int  # 1-based, for "technicians 26-50 of 60"
    teams: list[Team]
    # `?focus=<call id>` (the map's "Show on the timeline"): the call drawn highlighted when it
    # is on this page or in the tray; `focus_missing` names a focus that is not.
    focus: int | None = None
    focus_missing: int | None = None

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _axis(columns: list[BoardColumn], day: date) -> tuple[int, int]:
    if not columns:
        return EMPTY_AXIS
    starts = [_minutes(c.technician.shift_start) for c in columns]
    ends = [_minutes(c.technician.shift_end) for c in columns]
    finishes = [
        _clock_minutes(call.planned_finish, day)
        for c in columns
        for call in c.calls
        if call.planned_finish is not None
    ]
    first = min(starts) - AXIS_MARGIN_MINUTES
    last = max([max(ends) + AXIS_MARGIN_MINUTES, *(f + 15 for f in finishes)])
    # Whole hours, within the day.
    first = max(0, first // 60 * 60)
    last = min(24 * 60, math.ceil(last / 60) * 60)
    return first, max(last, first + 60)


def _clock_minutes(moment: datetime, day: date) -> float:
    """Minutes after the day's local midnight (negative the day before, past 1440 after)."""
    local = timezone.localtime(moment)
    midnight = datetime.combine(day, time(0), local.tzinfo)
    return (local - midnight).total_seconds() / 60.0


class _Axis:
    def __init__(self, day: date, start_minute: int, end_minute: int) -> None:
        self.day, self.start, self.steps = (
            day,
            start_minute,
            (end_minute - start_minute) // STEP_MINUTES,
        )

    def step(self, minute: float) -> int:
        return min(self.steps, max(0, math.floor((minute - self.start) / STEP_MINUTES)))

    def span(self, first: float, last: float) -> Span | None:
        """The steps from minute `first` to `last`; None when it is empty or off the axis."""
        a, b = self.step(first), min(self.steps, math.ceil((last - self.start) / STEP_MINUTES))
        if b <= a and (last <= self.start or first >= self.start + self.steps * STEP_MINUTES):
            return None
        return Span(a, max(1, b - a)) if last > first else None

    def at(self, moment: datetime) -> float:
        return _clock_minutes(moment, self.day)


def _row(column: BoardColumn, axis: _Axis) -> Row:
    tech = column.technician
    shift_start, shift_end = _minutes(tech.shift_start), _minutes(tech.shift_end)
    row = Row(column, axis.span(shift_start, shift_end) or Span(0, 1), None)
    # Where the day starts: the plan sets off at the shift start, or when it was computed if
    # that was later (the planning core's rule: the later of now and the shift start).
    previous_finish: float = shift_start
    latest_finish: float = shift_end
    for index, call in enumerate(column.calls):
        block = _block(call, index, axis, previous_finish, shift_end)
        row.blocks.append(block)
        finish = (block.span.start + block.span.length) * STEP_MINUTES + axis.start
        if call.planned_finish is not None:
            finish = axis.at(call.planned_finish)
        previous_finish = finish
        latest_finish = max(latest_finish, finish)
    if latest_finish > shift_end:
        row.overtime = axis.span(shift_end, latest_finish)
    return row


def _block(
    call: BoardCard, index: int, axis: _Axis, previous_finish: float, shift_end: int
) -> Block:
    planned = call.planned_start is not None and call.planned_finish is not None
    if planned:
        start, finish = axis.at(call.planned_start), axis.at(call.planned_finish)
        arrival = axis.at(call.eta) if call.eta is not None else start
    else:
        start = arrival = previous_finish
        finish = start + call.duration_minutes
    set_off = previous_finish
    if index == 0 and planned and call.eta_computed_at is not None:
        # The first call's travel starts when the plan set off: not before it was computed.
        set_off = max(previous_finish, min(arrival, axis.at(call.eta_computed_at)))
    travel_for = max(0.0, arrival - set_off) if planned else 0.0
    waiting_for = max(0.0, start - arrival) if planned else 0.0
    travel = axis.span(start - travel_for, start) if travel_for >= 1 else None
    waiting = None
    if waiting_for >= 1:
        waiting = axis.span(start - travel_for - waiting_for, start - travel_for)
    window = None
    if call.window_start is not None and call.deadline is not None:
        window = axis.span(axis.at(call.window_start), axis.at(call.deadline))
    deadline_step = None
    if call.deadline is not None:
        due = axis.at(call.deadline)
        if axis.start <= due <= axis.start + axis.steps * STEP_MINUTES:
            deadline_step = axis.step(due)
    return Block(
        call=call,
        span=axis.span(start, max(finish, start + 1)) or Span(axis.step(start), 1),
        travel=travel,
        travel_minutes=round(travel_for),
        waiting=waiting,
        waiting_minutes=round(waiting_for),
        window=window,
        deadline_step=deadline_step,
        lane=index % 2,
        planned=planned,
        runs_over=finish > shift_end,
    )


def _ticks(axis: _Axis) -> list[Tick]:
    first_hour = math.ceil(axis.start / 60)
    last_hour = (axis.start + axis.steps * STEP_MINUTES) // 60
    return [
        Tick(axis.step(hour * 60), f"{hour % 24:02d}:00") for hour in range(first_hour, last_hour)
    ]


def timeline_technician_ids(*, user, team: Team | None) -> list[int]:
    """Every technician the timeline pages through, in the order it shows them: by team, then
    by name (so a page holds whole teams where it can)."""
    techs = technicians_visible_to(user).select_related(None).prefetch_related(None)
    if team is not None:
        techs = techs.filter(team=team)
    return list(techs.order_by("team__name", "name", "pk").values_list("pk", flat=True))


def timeline_get(
    *,
    user,
    day: date,
    team: Team | None,
    now: datetime,
    page: int | None = 1,
    filters: CallFilters | None = None,
    focus: int | None = None,
) -> Timeline:
    """One page of the day's timeline (ROWS_PER_PAGE technicians) and every unassigned call, in
    a fixed number of queries whatever its size. With `focus` (a call id) and no page named
    (`page=None`), the page is the one holding the focused call's technician (one query more)."""
    ids = timeline_technician_ids(user=user, team=team)
    pages = max(1, math.ceil(len(ids) / ROWS_PER_PAGE))
    if page is None:
        page = _focus_page(user=user, day=day, focus=focus, ids=ids) if focus else 1
    page = min(max(1, page), pages)
    shown = ids[(page - 1) * ROWS_PER_PAGE : page * ROWS_PER_PAGE]
    board = board_get(user=user, day=day, team=team, technician_ids=shown, filters=filters, now=now)
    order = {pk: i for i, pk in enumerate(shown)}
    board.columns.sort(key=lambda c: order[c.technician.pk])
    first, last = _axis(board.columns, day)
    axis = _Axis(day, first, last)
    now_minute = _clock_minutes(now, day)
    now_step = axis.step(now_minute) if first <= now_minute <= last else None
    shown_calls = {c.pk for c in board.unassigned} | {
        c.pk for column in board.columns for c in column.calls
    }
    found = focus is not None and focus in shown_calls
    return Timeline(
        board=board,
        rows=[_row(c, axis) for c in board.columns],
        start_minute=first,
        span_steps=axis.steps,
        ticks=_ticks(axis),
        now_step=now_step,
        page=page,
        pages=pages,
        technician_count=len(ids),
        first_row=(page - 1) * ROWS_PER_PAGE + 1,
        teams=list(Team.objects.order_by("name")),
        focus=focus if found else None,
        focus_missing=focus if focus is not None and not found else None,
    )


def _focus_page(*, user, day: date, focus: int, ids: list[int]) -> int:
    """The page whose rows hold the focused call's technician (1: unassigned, not this day's,
    not visible to the user, or no such call)."""
    technician_id = (
        calls_visible_to(user)
        .select_related(None)
        .prefetch_related(None)
        .filter(pk=focus, scheduled_day=day)
        .values_list("technician_id", flat=True)
        .first()
    )
    if technician_id is None or technician_id not in ids:
        return 1
    return ids.index(technician_id) // ROWS_PER_PAGE + 1


def minute_label(start_minute: int, step: int) -> str:
    minute = start_minute + step * STEP_MINUTES
    return f"{minute // 60 % 24:02d}:{minute % 60:02d}"
