"""How long the simulated day's jobs really take: a log-normal ratio to the estimate per kind of
job, the very model the product learns (``planning.durations``), so a simulated day tests the
loop: its completed calls are fitted back, and the fit should find these numbers.

Kinds by estimate: a 30-minute call is a filter or a check (steady, a little quicker than
booked), 45 and 60 minutes a repair (overruns by a sixth on average), 90 minutes an install
(long, and the most uncertain). The ratio's draw takes exactly one uniform from the day's random
stream, as the old uniform spread did, so the rest of a seed's day is unchanged.
"""

from __future__ import annotations

import math
from statistics import NormalDist

# category: (mu, sigma) of log(real / estimate)
JOB_KINDS = {"check": (-0.05, 0.15), "repair": (0.1, 0.3), "install": (0.15, 0.45)}
_NORMAL = NormalDist()


def category_of(estimate_seconds: float) -> str:
    minutes = round(estimate_seconds / 60.0)
    if minutes <= 30:
        return "check"
    return "install" if minutes >= 90 else "repair"


def real_duration(estimate_seconds: float, u: float) -> float:
    """The estimate x the kind's log-normal ratio at quantile ``u`` (one uniform draw)."""
    mu, sigma = JOB_KINDS[category_of(estimate_seconds)]
    z = _NORMAL.inv_cdf(min(max(u, 1e-12), 1.0 - 1e-12))
    return estimate_seconds * math.exp(mu + sigma * z)


def words() -> str:
    return "; ".join(f"{kind} x logN({mu:g}, {sigma:g})" for kind, (mu, sigma) in JOB_KINDS.items())
