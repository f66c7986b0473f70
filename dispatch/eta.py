"""The ETA engine's public contract (``Stop``, ``Leg``, ``plan_route``), kept importable here.

The engine lives in ``dispatch.planning.eta``; outside scripts import it from this path.
"""

from dispatch.planning.eta import (  # noqa: F401
    AT_RISK,
    LATE,
    OK,
    Leg,
    Location,
    Stop,
    Travel,
    classify_risk,
    leg_overtime,
    overtime,
    plan_route,
)
