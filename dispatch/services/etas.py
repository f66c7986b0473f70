"""Recomputing stored ETAs: one technician's queue, or every open queue of a day.

Only rows whose computed values changed are written, and the ETA fields never bump a call's
version: the version guards what people decide (who, in what order), not what time it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import groupby

from django.conf import settings
from django.db import transaction

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
from technicians.models import Technician

_TECH_COLUMNS = ("id", "home_lat", "home_lng", "last_lat", "last_lng", "last_seen_at")
_CALL_COLUMNS = (*QUEUED_COLUMNS, "category_id", "risk_since", "p_late_planned", *ETA_FIELDS)


def stored_fields(row: dict) -> EtaFields:
    return EtaFields(**{name: row[name] for name in ETA_FIELDS})


def _write_changed(changes: dict[int, EtaFields], rows: Iterable[dict], now: datetime) -> int:
    """Write the changed ETA fields and record the risk transitions among them."""
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
    risk_transitions_record(transitions)
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


def _technician_batches(batch_size: int, tech_ids: list[int] | None) -> Iterator[list[int]]:
    # Keyset pagination: the fleet is streamed in id order, never loaded at once.
    base = Technician.objects.order_by("id")
    if tech_ids is not None:
        base = base.filter(id__in=tech_ids)
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


def etas_refresh_technicians(
    *, technician_ids: list[int] | None, day: date, now: datetime | None = None
) -> int:
    """Recompute the queues of these technicians (None: all) for a day; returns rows written."""
    now = now or clock.now()
    written = 0
    learned = None  # read once, and only when there is a queue to plan
    for ids in _technician_batches(settings.RECOMPUTE_BATCH_SIZE, technician_ids):
        learned = learned or learned_durations()
        with transaction.atomic():
            written += _refresh_technicians(_lock_technicians(ids), day, now, learned)
    return written


def etas_refresh_unassigned(*, day: date, now: datetime | None = None) -> int:
    """Risk of unassigned calls from their deadlines: time passing makes them late too."""
    now = now or clock.now()
    rows = list(
        ServiceCall.objects.filter(scheduled_day=day, status=ServiceCall.Status.NEW).values(
            "id", "deadline", "risk_since", "p_late_planned", *ETA_FIELDS
        )
    )
    planned = {row["id"]: unassigned_fields(row["deadline"], now) for row in rows}
    with transaction.atomic():
        return _write_changed(_changed(planned, rows), rows, now)


def etas_refresh_day(*, day: date, now: datetime | None = None) -> int:
    """Every open queue of a day, and the day's unassigned calls; returns rows written."""
    now = now or clock.now()
    return etas_refresh_technicians(
        technician_ids=None, day=day, now=now
    ) + etas_refresh_unassigned(day=day, now=now)
