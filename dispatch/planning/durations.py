"""How long jobs and drives really take, learned from what they took before.

Pure: ratios in, a fitted spread out. A job's real length is its estimate times a ratio, and a
drive's real time is the planned travel times a ratio; both ratios are modelled as log-normal
(a ratio is positive, overruns are longer than underruns are short, and the log of a product of
small independent delays is roughly normal). ``Spread`` is that log-normal, by the mean and
standard deviation of the log ratio.

Fitting: the log ratios, clamped to ``[RATIO_FLOOR, RATIO_CEIL]`` first (a job left "on site"
overnight, or closed by mistake after a minute, would otherwise decide the spread), then the
sample mean and variance shrunk toward a prior by ``prior_calls`` pseudo-observations. The
category is shrunk toward the defaults (no history gives exactly the defaults); a technician
toward their category, so three quick jobs do not make anyone "fast".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Outliers are clamped, not dropped: a job that really took five times the estimate still says
# "this kind runs long", but not that it runs 40 times long.
RATIO_FLOOR = 0.2
RATIO_CEIL = 5.0


@dataclass(frozen=True, slots=True)
class Spread:
    """A log-normal ratio: real = planned x ratio, log(ratio) ~ Normal(mu, sigma)."""

    mu: float = 0.0
    sigma: float = 0.0
    calls: int = 0  # how many completed calls it was fitted from (0: the defaults)

    @property
    def median(self) -> float:
        return math.exp(self.mu)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma * self.sigma / 2.0)

    @property
    def variance(self) -> float:
        s2 = self.sigma * self.sigma
        return (math.exp(s2) - 1.0) * math.exp(2.0 * self.mu + s2)

    def quantile(self, z: float) -> float:
        return math.exp(self.mu + self.sigma * z)


def clamp_ratio(ratio: float) -> float:
    return min(RATIO_CEIL, max(RATIO_FLOOR, ratio))


def fit(ratios: Iterable[float], prior: Spread, prior_calls: float) -> Spread:
    """The log-normal of these ratios (each clamped), shrunk toward ``prior``.

    With n ratios whose logs have mean m and (unbiased) variance s2, and k = ``prior_calls``:
    mu = (n m + k prior.mu) / (n + k) and sigma2 = ((n - 1) s2 + k prior.sigma2) / (n - 1 + k),
    the posterior means of a normal with a conjugate prior worth k observations. No ratios give
    the prior itself."""
    logs = [math.log(clamp_ratio(r)) for r in ratios if r > 0]
    n = len(logs)
    if n == 0:
        return Spread(prior.mu, prior.sigma, 0)
    m = sum(logs) / n
    ss = sum((x - m) ** 2 for x in logs)
    k = max(0.0, prior_calls)
    mu = (n * m + k * prior.mu) / (n + k)
    dof = (n - 1) + k
    s2 = (ss + k * prior.sigma**2) / dof if dof > 0 else prior.sigma**2
    return Spread(mu, math.sqrt(max(0.0, s2)), n)


@dataclass(frozen=True, slots=True)
class Learned:
    """Every spread learned, and the defaults for whatever has no history.

    ``jobs`` is keyed by (category, technician): (category, None) is the category's, (None,
    None) the whole fleet's; a technician's own is kept only inside a category."""

    default: Spread
    travel: Spread
    jobs: Mapping[tuple[object, object], Spread] = field(default_factory=dict)

    def job(self, category: object, technician: object) -> Spread:
        jobs = self.jobs
        return (
            jobs.get((category, technician))
            or jobs.get((category, None))
            or jobs.get((None, None))
            or self.default
        )
