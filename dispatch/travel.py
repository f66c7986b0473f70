"""Travel-time providers, kept importable here; they live in ``dispatch.planning.travel``."""

from dispatch.planning.travel import (  # noqa: F401
    EARTH_RADIUS_KM,
    Location,
    Travel,
    euclidean,
    euclidean_trunc1,
    great_circle,
    haversine_km,
)
