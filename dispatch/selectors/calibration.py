"""Is "72% on time" true? The forecasts against what happened, and the durations learned.

Read-only, for the dashboard. A completed call's forecast is its ``p_late_planned`` (p_late as
first computed once it was queued); it arrived on time when work started by its deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.models import CallCategory, DurationModel, ServiceCall
from dispatch.selectors.durations import learned_durations

CALIBRATION_DAYS = 90
Z90 = 1.2815516  # the standard normal's 90th percentile


@dataclass(frozen=True)
class Decile:
    label: str  # "70-80%": the forecast chance of being on time
    calls: int
    predicted: float  # mean forecast chance of being on time
    observed: float  # share that arrived on time


@dataclass(frozen=True)
class LearnedRow:
    name: str
    calls: int
    median_ratio: float  # the typical real / estimated length
    p90_ratio: float  # 9 in 10 jobs take at most this times the estimate
    sigma: float


def calibration(*, now: datetime) -> list[Decile]:
    """Completed calls of the last CALIBRATION_DAYS by forecast decile (non-empty only)."""
    rows = ServiceCall.objects.filter(
        status=ServiceCall.Status.COMPLETED,
        p_late_planned__isnull=False,
        deadline__isnull=False,
        started_at__isnull=False,
        completed_at__gte=now - timedelta(days=CALIBRATION_DAYS),
    ).values_list("p_late_planned", "started_at", "deadline")
    bins: dict[int, list[tuple[float, bool]]] = {}
    for p_late, started, deadline in rows:
        on_time = 1.0 - p_late
        bins.setdefault(min(9, int(on_time * 10)), []).append((on_time, started <= deadline))
    return [
        Decile(
            f"{k * 10}-{k * 10 + 10}%",
            len(group),
            sum(p for p, _ in group) / len(group),
            sum(1 for _, ok in group if ok) / len(group),
        )
        for k, group in sorted(bins.items())
    ]


def durations_by_category() -> list[LearnedRow]:
    """The spread learned per active category (one with no history yet: what it is planned with,
    the fleet's or the defaults, with 0 calls), then every job and the drives."""
    learned = learned_durations()
    fitted = {
        category_id: calls
        for category_id, calls in DurationModel.objects.filter(
            kind="job", technician=None
        ).values_list("category_id", "calls")
    }
    rows = []
    for category in CallCategory.objects.filter(active=True).order_by("name"):
        spread = learned.job(category.pk, None)
        calls = fitted.get(category.pk, 0)
        rows.append(
            LearnedRow(category.name, calls, spread.median, spread.quantile(Z90), spread.sigma)
        )
    for name, spread in (("Every job", learned.job(None, None)), ("Drives", learned.travel)):
        rows.append(
            LearnedRow(name, spread.calls, spread.median, spread.quantile(Z90), spread.sigma)
        )
    return rows
