"""Recomputing stored ETAs: one technician's queue, one team's part of a day, or a whole day.

Only rows whose computed values changed are written, and the ETA fields never bump a call's
version: the version guards what people decide (who, in what order), not what time it is.

A day is recomputed in parts, one per team (`recompute_units`): the team's technicians' queues
and its share of the unassigned calls, plus one part for the unassigned calls no team has had
yet. The whole-day form runs the parts one after another; the beat's task sends one Celery task
per part, so several workers share the day (dispatch/tasks.py). A part is safe to run twice at
once: technicians are locked in id order before their calls are read (like every move:
technician, then call), and unassigned calls are locked in id order before they are read, so
two runs serialize row by row, never deadlock, and the second writes only what is still stale.
Only ETA columns are written, never who has a call or where: a concurrent move cannot be lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import groupby

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from common import clock
from dispatch.models import ServiceCall
from dispatch.planning.durations import Learned
from dispatch.selectors.durations import learned_durations
from dispatch.selectors.planning import (
    QUEUED_COLUMNS,
    place_of_row,
    queued_of_row,
    travel_provider,
)
from dispatch.selectors.queue_fields import (
    ETA_FIELDS,
    EtaFields,
    plan_queues,
    unassigned_fields,
)
from dispatch.services.bulk import rows_update
from dispatch.services.risk import RiskChange, risk_since_after, risk_transitions_record
from technicians.models import Team, Technician

_TECH_COLUMNS = ("id", "home_lat", "home_lng", "last_lat", "last_lng", "last_seen_at")
_CALL_COLUMNS = (*QUEUED_COLUMNS, "category_id", "risk_since", "p_late_planned", *ETA_FIELDS)


def stored_fields(row: dict) -> EtaFields:
    return EtaFields(**{name: row[name] for name in ETA_FIELDS})


def _write_changed(
    changes: dict[int, EtaFields], rows: Iterable[dict], now: datetime, locked: bool = False
) -> int:
    """Write the changed ETA fields and record the risk transitions among them (`locked`: the
    caller holds every row FOR UPDATE already)."""
    if not changes:
        return 0
    stored = {row["id"]: row for row in rows}
    rows, transitions = [], []
    for pk, f in changes.items():
        old = stored[pk]
        since = risk_since_after(old["risk"], f.risk, old["risk_since"], now)
        planned = old.get("p_late_planned")
        rows.append(
            (pk, f.eta, f.planned_start, f.planned_finish, f.slack_minutes, f.risk, f.overtime)
            + (f.p_late, f.eta_p10, f.eta_p80, f.eta_p90, now, since)
            + (f.p_late if planned is None else planned,)
        )
        if old["risk"] != f.risk:
            transitions.append(RiskChange(pk, old["risk"], f.risk, f.slack_minutes, f.eta))
    rows_update(ServiceCall, [*ETA_FIELDS, "eta_computed_at", "risk_since", "p_late_planned"], rows)
    risk_transitions_record(transitions, locked=[t.call_id for t in transitions] if locked else ())
    return len(rows)


def _changed(planned: dict[int, EtaFields], rows: Iterable[dict]) -> dict[int, EtaFields]:
    stored = {row["id"]: row for row in rows}
    # A queued call's first p_late is kept as its forecast (the dashboard's calibration): a row
    # that has none yet is written even when nothing else changed.
    return {
        pk: f
        for pk, f in planned.items()
        if pk not in stored
        or stored_fields(stored[pk]) != f
        or (f.p_late is not None and stored[pk].get("p_late_planned", 0.0) is None)
    }


def _refresh_technicians(tech_rows: list[dict], day: date, now: datetime, learned: Learned) -> int:
    """Plan and store the queues of a batch of (locked) technicians: 2 queries + the writes."""
    calls = list(
        ServiceCall.objects.filter(
            technician_id__in=[t["id"] for t in tech_rows],
            scheduled_day=day,
            status__in=ServiceCall.QUEUED_STATUSES,
        )
        .order_by("technician_id", "position")
        .values(*_CALL_COLUMNS)
    )
    techs = {t["id"]: place_of_row(t) for t in tech_rows}
    travel_fn = travel_provider()
    queues = [
        (techs[tech_id], [queued_of_row(row) for row in queue])
        for tech_id, queue in groupby(calls, key=lambda row: row["technician_id"])
    ]
    planned = plan_queues(queues, day, now, travel_fn, learned)
    return _write_changed(_changed(planned, calls), calls, now)


def _technician_batches(batch_size: int, technicians: QuerySet) -> Iterator[list[int]]:
    # Keyset pagination: the fleet is streamed in id order, never loaded at once.
    base = technicians.order_by("id")
    last_id = 0
    while True:
        ids = list(base.filter(id__gt=last_id).values_list("id", flat=True)[:batch_size])
        if not ids:
            return
        yield ids
        last_id = ids[-1]


def _lock_technicians(ids: list[int]) -> list[dict]:
    # Locked in id order, like every move, so a recompute never writes ETAs for a queue that a
    # concurrent move has just rearranged, and never deadlocks with it.
    return list(
        Technician.objects.select_for_update()
        .filter(id__in=ids)
        .order_by("id")
        .values(*_TECH_COLUMNS, "shift_start", "shift_end")
    )


def _refresh_queues(technicians: QuerySet, day: date, now: datetime) -> int:
    """Plan and store the queues of these technicians, a batch per transaction."""
    written = 0
    learned = None  # read once, and only when there is a queue to plan
    for ids in _technician_batches(settings.RECOMPUTE_BATCH_SIZE, technicians):
        learned = learned or learned_durations()
        with transaction.atomic():
            written += _refresh_technicians(_lock_technicians(ids), day, now, learned)
    return written


def _refresh_unassigned(calls: QuerySet, now: datetime) -> int:
    """Risk of unassigned calls from their deadlines: time passing makes them late too. The
    rows are locked in id order first, so two runs at once wait for each other row by row."""
    with transaction.atomic():
        rows = list(
            calls.filter(status=ServiceCall.Status.NEW)
            .select_for_update()
            .order_by("id")
            .values("id", "deadline", "risk_since", "p_late_planned", *ETA_FIELDS)
        )
        planned = {row["id"]: unassigned_fields(row["deadline"], now) for row in rows}
        return _write_changed(_changed(planned, rows), rows, now, locked=True)


def etas_refresh_technicians(
    *, technician_ids: list[int] | None, day: date, now: datetime | None = None
) -> int:
    """Recompute the queues of these technicians (None: all) for a day; returns rows written."""
    technicians = Technician.objects.all()
    if technician_ids is not None:
        technicians = technicians.filter(id__in=technician_ids)
    return _refresh_queues(technicians, day, now or clock.now())


# The part of a day that belongs to no team: unassigned calls nobody has had yet.
NO_TEAM = None


def recompute_units() -> list[int | None]:
    """The parts a day is recomputed in: every team (by id), then NO_TEAM."""
    return [*Team.objects.order_by("id").values_list("id", flat=True), NO_TEAM]


def etas_refresh_team(*, team_id: int | None, day: date, now: datetime | None = None) -> int:
    """One part of a day: the queues of the team's technicians and the team's unassigned calls
    (those its technicians last had); NO_TEAM: the unassigned calls no team has had yet. The
    statements it runs do not depend on how many other teams there are. Returns rows written."""
    now = now or clock.now()
    written = 0
    if team_id is not NO_TEAM:
        written += _refresh_queues(Technician.objects.filter(team_id=team_id), day, now)
    unassigned = ServiceCall.objects.filter(scheduled_day=day, team_id=team_id)
    return written + _refresh_unassigned(unassigned, now)


def etas_refresh_day(
    *, day: date, now: datetime | None = None, team_ids: Iterable[int | None] | None = None
) -> int:
    """Every open queue of a day, and the day's unassigned calls, one team after another
    (`team_ids`: only those parts, NO_TEAM among them for calls of no team); rows written."""
    now = now or clock.now()
    units = recompute_units() if team_ids is None else list(team_ids)
    return sum(etas_refresh_team(team_id=team_id, day=day, now=now) for team_id in units)
