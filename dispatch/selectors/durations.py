"""The durations learned, as the planning core's ``Learned`` (one query)."""

from __future__ import annotations

from dispatch.models import DurationModel
from dispatch.planning.durations import Learned, Spread
from dispatch.selectors.queue_fields import default_durations


def learned_durations() -> Learned:
    """Every learned spread; the settings' defaults for whatever has none (no rows at all: the
    defaults only)."""
    defaults = default_durations()
    travel, jobs = defaults.travel, {}
    for row in DurationModel.objects.values_list(
        "kind", "category_id", "technician_id", "mu", "sigma", "calls"
    ):
        kind, category, technician, mu, sigma, calls = row
        if kind == DurationModel.Kind.TRAVEL:
            travel = Spread(mu, sigma, calls)
        else:
            jobs[(category, technician)] = Spread(mu, sigma, calls)
    return Learned(defaults.default, travel, jobs)
