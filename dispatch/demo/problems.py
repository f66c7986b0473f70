"""What customers call about: the problems a demo call can be, and the notes a CSR might add.

Each problem carries the skills it needs and its plausible durations, so a drawn call always fits
some technician and the board's skill matching has something real to do. Emergencies are a
separate list: the day gets one or two on purpose, never by chance.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.demo.reference import names

NOTES = names(
    "Call 30 minutes ahead.; Gate code 2417.; Dog on premises.; Access through the alley.; "
    "Ask for the building engineer.; Park in the loading zone out front.; "
    "Repeat visit: same issue last month.; Tenant will let you in; the owner pays."
)


@dataclass(frozen=True)
class Problem:
    summary: str
    skills: tuple[str, ...]
    durations: tuple[int, ...]
    priority: str | None = None  # None: drawn (mostly normal)
    description: str = ""


PROBLEMS = (
    Problem("No hot water", ("plumbing",), (60, 90, 120)),
    Problem("Water heater leaking", ("plumbing",), (90, 120), "high"),
    Problem("Kitchen sink clogged", ("plumbing",), (45, 60)),
    Problem("Toilet running constantly", ("plumbing",), (30, 45)),
    Problem("Low water pressure upstairs", ("plumbing",), (60, 90)),
    Problem("Sump pump not running", ("plumbing",), (60, 90), "high"),
    Problem("Leak under bathroom sink", ("plumbing",), (45, 60)),
    Problem("Breaker keeps tripping", ("electrical",), (60, 90)),
    Problem("Outlets dead in kitchen", ("electrical",), (45, 60, 90)),
    Problem("Flickering lights in dining room", ("electrical",), (45, 60)),
    Problem("Install GFCI outlets in bathroom", ("electrical",), (60, 90), "low"),
    Problem("Parking lot lights out", ("electrical",), (90, 120)),
    Problem("EV charger installation", ("electrical",), (150, 180), "low"),
    Problem("AC not cooling", ("hvac",), (60, 90, 120)),
    Problem("Thermostat not responding", ("hvac",), (30, 45)),
    Problem("Furnace blowing cold air", ("hvac",), (60, 90), "high"),
    Problem("Rooftop unit making grinding noise", ("hvac",), (90, 120)),
    Problem("Walk-in cooler not holding temperature", ("hvac",), (90, 120), "high"),
    Problem("Seasonal maintenance visit", ("hvac",), (60,), "low"),
    Problem("Dishwasher leaking", ("appliance",), (45, 60)),
    Problem("Dryer not heating", ("appliance",), (45, 60)),
    Problem("Refrigerator not cold", ("appliance",), (60, 90), "high"),
    Problem("Washer won't drain", ("appliance",), (45, 60)),
    Problem("Ice machine down", ("appliance",), (60, 90)),
    Problem("Oven temperature off", ("appliance",), (45, 60), "low"),
    Problem("Gas range burner won't light", ("appliance", "gas"), (45, 60)),
    Problem("Water heater pilot keeps going out", ("gas", "plumbing"), (45, 60)),
    Problem("Furnace short cycling", ("gas", "hvac"), (60, 90)),
    Problem("Gas line for new dryer", ("gas",), (90, 120), "low"),
    Problem("Gas fireplace won't ignite", ("gas",), (45, 60)),
)


EMERGENCIES = (
    Problem(
        "Gas smell near furnace",
        ("gas",),
        (60, 90),
        "emergency",
        "Strong gas smell in the basement. Customer told to leave, not to use switches, "
        "and to call the gas utility.",
    ),
    Problem(
        "Sparking outlet, burning smell",
        ("electrical",),
        (45, 60),
        "emergency",
        "Outlet sparked and smells burnt. Customer turned the breaker off.",
    ),
    Problem(
        "Burst pipe, basement flooding",
        ("plumbing",),
        (90, 120),
        "emergency",
        "Water pouring from a pipe in the basement; main shut-off is stuck.",
    ),
    Problem(
        "CO alarm going off",
        ("gas", "hvac"),
        (60,),
        "emergency",
        "Carbon monoxide alarm near the furnace. Household is outside; fire department called.",
    ),
)
