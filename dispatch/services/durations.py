"""Learning how long jobs and drives really take, from the calls completed (issue 18).

Every completed call with an actual length gives a job ratio (actual / estimated minutes); every
one whose technician said "on my way" and then "arrived" gives a drive ratio (that drive / the
drive planned when they set out). The fitting is the planning core's (``durations.fit``); here
the history is read and the spreads replaced, all in one transaction, so a recompute reads either
last night's spreads or tonight's, never half of each. Run nightly by the beat
(``dispatch.tasks.learn_durations``) and on demand (``manage.py learn_durations``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from common import clock
from dispatch.models import DurationModel, ServiceCall
from dispatch.planning.durations import Spread, fit
from dispatch.selectors.durations import learned_cache_drop

# Older work says little about today's vans and crews.
HISTORY_DAYS = 180
# A technician's own spread is kept from this many calls of a category on (shrunk toward the
# category's, so a few calls move it only a little).
TECHNICIAN_MIN_CALLS = 3
# A drive planned shorter than this gives no ratio worth keeping (a minute's drive doubled is
# noise, not traffic).
MIN_PLANNED_DRIVE_MINUTES = 3.0


@dataclass(frozen=True)
class Learning:
    calls: int
    drives: int
    categories: int
    technicians: int

    def words(self) -> str:
        return (
            f"learned from {self.calls} completed calls and {self.drives} drives: "
            f"{self.categories} categories, {self.technicians} technician spreads"
        )


def _history(since: datetime):
    return ServiceCall.objects.filter(
        status=ServiceCall.Status.COMPLETED,
        actual_minutes__isnull=False,
        completed_at__gte=since,
    ).values_list(
        "category_id",
        "technician_id",
        "duration_minutes",
        "actual_minutes",
        "en_route_at",
        "started_at",
        "planned_travel_minutes",
    )


def _drive_ratio(en_route_at, started_at, planned_minutes) -> float | None:
    if en_route_at is None or started_at is None or planned_minutes is None:
        return None
    if planned_minutes < MIN_PLANNED_DRIVE_MINUTES or started_at <= en_route_at:
        return None
    return (started_at - en_route_at).total_seconds() / 60.0 / planned_minutes


@transaction.atomic
def durations_learn(*, now: datetime | None = None) -> Learning:
    """Fit every spread from the last HISTORY_DAYS of completed calls and replace the stored
    ones. No history leaves no rows: the recompute then uses the settings' defaults."""
    now = now or clock.now()
    prior_calls = settings.DURATION_PRIOR_CALLS
    jobs: list[float] = []
    by_category: dict[int, list[float]] = defaultdict(list)
    by_technician: dict[tuple[int, int], list[float]] = defaultdict(list)
    drives: list[float] = []
    for category, technician, estimate, actual, set_out, arrived, planned in _history(
        now - timedelta(days=HISTORY_DAYS)
    ):
        ratio = actual / estimate
        jobs.append(ratio)
        if category is not None:
            by_category[category].append(ratio)
            if technician is not None:
                by_technician[(category, technician)].append(ratio)
        drive = _drive_ratio(set_out, arrived, planned)
        if drive is not None:
            drives.append(drive)
    fleet = fit(jobs, Spread(0.0, settings.DURATION_DEFAULT_SIGMA), prior_calls)
    rows = []
    if jobs:
        rows.append(_row("job", None, None, fleet, now))
    category_spread = {c: fit(r, fleet, prior_calls) for c, r in by_category.items()}
    rows += [_row("job", c, None, s, now) for c, s in category_spread.items()]
    own = {
        key: fit(r, category_spread[key[0]], prior_calls)
        for key, r in by_technician.items()
        if len(r) >= TECHNICIAN_MIN_CALLS
    }
    rows += [_row("job", c, t, s, now) for (c, t), s in own.items()]
    if drives:
        travel = fit(drives, Spread(0.0, settings.TRAVEL_DEFAULT_SIGMA), prior_calls)
        rows.append(_row("travel", None, None, travel, now))
    DurationModel.objects.all().delete()
    DurationModel.objects.bulk_create(rows)
    transaction.on_commit(learned_cache_drop)
    return Learning(len(jobs), len(drives), len(category_spread), len(own))


def _row(kind: str, category, technician, spread: Spread, now: datetime) -> DurationModel:
    return DurationModel(
        kind=kind,
        category_id=category,
        technician_id=technician,
        mu=spread.mu,
        sigma=spread.sigma,
        calls=spread.calls,
        fitted_at=now,
    )
