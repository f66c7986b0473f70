"""Travel-time providers for the ETA engine: ``travel(a, b) -> float``.

Pure like the engine: settings (circuity, speed) are passed in by the Django side,
which builds the default provider once and hands it to the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable

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
