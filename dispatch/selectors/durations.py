"""The durations learned, as the planning core's ``Learned`` (one query, then the cache).

Every move, preview, booking offer and recompute asks for them, but they change once a night
(`services.durations` refits them and drops the cached copy when its transaction commits), so
they are kept in the shared cache rather than read on every request. The key names the
settings' default spreads it was built with, so a changed default is never answered from an
old copy; a Redis that is down is a miss (common/cache.py) and the table is read as before.
"""

from __future__ import annotations

from django.core.cache import cache

from dispatch.models import DurationModel
from dispatch.planning.durations import Learned, Spread
from dispatch.selectors.queue_fields import default_durations

LEARNED_CACHE_KEY = "learned-durations"
# A refit drops the copy at once; the timeout only bounds a copy whose drop was lost.
LEARNED_CACHE_SECONDS = 600


def learned_durations() -> Learned:
    """Every learned spread; the settings' defaults for whatever has none (no rows at all: the
    defaults only)."""
    defaults = default_durations()
    cached = cache.get(LEARNED_CACHE_KEY)
    if cached is not None and cached[0] == defaults:
        return cached[1]
    travel, jobs = defaults.travel, {}
    for row in DurationModel.objects.values_list(
        "kind", "category_id", "technician_id", "mu", "sigma", "calls"
    ):
        kind, category, technician, mu, sigma, calls = row
        if kind == DurationModel.Kind.TRAVEL:
            travel = Spread(mu, sigma, calls)
        else:
            jobs[(category, technician)] = Spread(mu, sigma, calls)
    learned = Learned(defaults.default, travel, jobs)
    cache.set(LEARNED_CACHE_KEY, (defaults, learned), LEARNED_CACHE_SECONDS)
    return learned


def learned_cache_drop() -> None:
    """Forget the cached copy: the next reader reads the table."""
    cache.delete(LEARNED_CACHE_KEY)
