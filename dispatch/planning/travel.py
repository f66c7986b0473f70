"""Travel-time providers for the ETA engine: ``travel(a, b) -> float``.

Pure like the engine: settings (circuity, speed) are passed in by the Django side,
which builds the default provider once and hands it to the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

Location = tuple[float, float]
Travel = Callable[[Location, Location], float]

# Mean radius: the circuity factor dwarfs the error of ignoring the ellipsoid.
EARTH_RADIUS_KM = 6371.0


def haversine_km(a: Location, b: Location) -> float:
    """Great-circle distance in km between two (lat, lng) points in degrees."""
    lat1, lng1 = math.radians(a[0]), math.radians(a[1])
    lat2, lng2 = math.radians(b[0]), math.radians(b[1])
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    # min() keeps asin defined when rounding pushes h past 1 near antipodal points.
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def great_circle(circuity: float, speed_kmh: float) -> Travel:
    """Seconds from a to b: great-circle km x circuity (roads wind) / average speed."""
    if speed_kmh <= 0:
        raise ValueError(f"speed_kmh must be positive, got {speed_kmh!r}")
    if circuity < 1:
        raise ValueError(f"circuity must be at least 1, got {circuity!r}")
    seconds_per_km = circuity / speed_kmh * 3600.0  # folded once, not per call

    def travel(a: Location, b: Location) -> float:
        return haversine_km(a, b) * seconds_per_km

    travel.symmetric = True  # type: ignore[attr-defined]  # a to b takes as long as b to a
    travel.matrix = lambda points: _haversine_matrix(points) * seconds_per_km  # type: ignore[attr-defined]
    return travel


def euclidean(a: Location, b: Location) -> float:
    """Straight-line distance; in Solomon data travel time equals distance."""
    return math.dist(a, b)


def euclidean_trunc1(a: Location, b: Location) -> float:
    """Euclidean distance cut to one decimal, as exact Solomon methods count arcs."""
    return math.floor(10 * math.dist(a, b)) / 10


# Both are symmetric: callers that price many positions may ask each pair once.
euclidean.symmetric = True  # type: ignore[attr-defined]
euclidean_trunc1.symmetric = True  # type: ignore[attr-defined]


def plane(seconds_per_unit: float) -> Travel:
    """Seconds from a to b on a flat plane: straight-line distance x ``seconds_per_unit``.

    For coordinates that are not the Earth's (the published Solomon benchmarks, where travel
    time equals distance): with 60, one unit of distance is one minute of driving."""
    if seconds_per_unit <= 0:
        raise ValueError(f"seconds_per_unit must be positive, got {seconds_per_unit!r}")

    def travel(a: Location, b: Location) -> float:
        return math.dist(a, b) * seconds_per_unit

    travel.symmetric = True  # type: ignore[attr-defined]
    travel.matrix = lambda points: _plane_matrix(points) * seconds_per_unit  # type: ignore[attr-defined]
    return travel


# --- one matrix per plan --------------------------------------------------------------------------
# A day plan asks every pair of places at once (thousands squared): done in numpy when the
# provider says how, else pair by pair through the provider itself, so both give the same numbers.


def travel_matrix(travel: Travel, points: Sequence[Location]):
    """Seconds between every ordered pair of ``points`` (a square numpy array of floats)."""
    import numpy as np

    fast = getattr(travel, "matrix", None)
    if fast is not None:
        return np.asarray(fast(points), dtype=float)
    n = len(points)
    out = np.zeros((n, n))
    for i, a in enumerate(points):
        for j, b in enumerate(points):
            if i != j:
                out[i, j] = travel(a, b)
    return out


def _plane_matrix(points: Sequence[Location]):
    import numpy as np

    p = np.asarray(points, dtype=float).reshape(-1, 2)
    return np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(axis=2))


def _haversine_matrix(points: Sequence[Location]):
    import numpy as np

    p = np.radians(np.asarray(points, dtype=float).reshape(-1, 2))
    lat, lng = p[:, 0], p[:, 1]
    h = (
        np.sin((lat[None, :] - lat[:, None]) / 2) ** 2
        + np.cos(lat[:, None])
        * np.cos(lat[None, :])
        * np.sin((lng[None, :] - lng[:, None]) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
