"""The fixed facts the demo company is drawn from: its size, regions, shifts, skills and names.

Kept apart from the code that draws from them, so the rules read without pages of names in the
way and the data can be reviewed on its own; nothing here is random or touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from common import roles

PASSWORD = "demo-pass-2026"


TECHNICIAN_COUNT = 15


MIN_QUEUE, MAX_QUEUE = 2, 8  # calls still queued per technician


MAX_DONE = 5  # calls a technician can have finished by now


CUSTOMER_COUNT = 45


def names(text: str) -> tuple[str, ...]:
    """A tuple from a "; "-separated list: long lists of names stay readable and compact."""
    return tuple(part.strip() for part in text.split(";"))


SKILLS = (
    ("appliance", "Appliance repair"),
    ("electrical", "Electrical"),
    ("gas", "Gas certification"),
    ("hvac", "HVAC"),
    ("plumbing", "Plumbing"),
)


@dataclass(frozen=True)
class Region:
    team: str
    description: str
    lat: tuple[float, float]
    streets: tuple[str, ...]
    zips: tuple[str, ...]
    places: tuple[str, ...]
    area_code: str


REGIONS = (
    Region(
        team="North",
        description="North Side",
        lat=(41.93, 42.02),
        streets=names(
            "N Clark St; N Broadway; N Lincoln Ave; N Western Ave; W Devon Ave; W Lawrence Ave; "
            "W Montrose Ave; W Irving Park Rd; W Belmont Ave; N Milwaukee Ave; N Damen Ave; "
            "W Foster Ave"
        ),
        zips=names("60613; 60618; 60625; 60626; 60640; 60645; 60657; 60659; 60660"),
        places=names(
            "Lakeview; Uptown; Edgewater; Rogers Park; Lincoln Square; Ravenswood; "
            "Andersonville; Roscoe Village"
        ),
        area_code="773",
    ),
    Region(
        team="Central",
        description="Downtown and West Side",
        lat=(41.84, 41.93),
        streets=names(
            "W Madison St; S Halsted St; S Ashland Ave; W Roosevelt Rd; W Jackson Blvd; "
            "W Chicago Ave; W Grand Ave; W Division St; S Wabash Ave; W Randolph St; S Canal St; "
            "N Ogden Ave"
        ),
        zips=names("60605; 60607; 60608; 60610; 60612; 60616; 60622; 60642; 60654"),
        places=names(
            "West Loop; River North; Pilsen; Wicker Park; Ukrainian Village; South Loop; "
            "Fulton Market; Near West"
        ),
        area_code="312",
    ),
    Region(
        team="South",
        description="South Side",
        lat=(41.71, 41.84),
        streets=names(
            "S Cottage Grove Ave; S Stony Island Ave; S King Dr; E 47th St; E 55th St; "
            "W 63rd St; W 79th St; S Kedzie Ave; S Pulaski Rd; S Western Ave; E 87th St; "
            "S Halsted St"
        ),
        zips=names("60609; 60615; 60617; 60619; 60620; 60628; 60629; 60637; 60649"),
        places=names(
            "Hyde Park; Bronzeville; Bridgeport; Beverly; Chatham; South Shore; Kenwood; Woodlawn"
        ),
        area_code="773",
    ),
)


# Lake Michigan's shore, (lat, lng) from south to north: sites and homes stay west of it.
SHORE = ((41.70, -87.53), (41.80, -87.58), (41.88, -87.612), (41.95, -87.64), (42.05, -87.67))


WEST_LNG = -87.86


# Shifts in local time; each team gets one of each, in its own order.
SHIFTS = (
    (time(7, 0), time(15, 30)),
    (time(8, 0), time(17, 0)),
    (time(8, 0), time(17, 0)),
    (time(10, 0), time(19, 0)),
    (time(7, 0), time(15, 30)),
)


# Each team's five technicians between them cover every skill, gas certification twice.
SKILL_SETS = (
    ("gas", "plumbing"),
    ("appliance", "electrical"),
    ("gas", "hvac", "plumbing"),
    ("electrical", "hvac"),
    ("appliance", "plumbing"),
)


FIRST_NAMES = names(
    "Marcus; Elena; DeShawn; Kateryna; Luis; Priya; Tom; Aisha; Brian; Mei; Carlos; Jasmine; "
    "Pete; Olga; Andre; Rosa; Kevin; Fatima; Dwayne; Hannah"
)


LAST_NAMES = names(
    "Kowalski; Hernandez; Washington; Novak; O'Brien; Patel; Jackson; Nguyen; Murphy; Rivera; "
    "Johnson; Sullivan; Okafor; Lindqvist; Brooks; Castillo; Schmidt; Lee; Dombrowski; Greene"
)


CUSTOMER_FIRST_NAMES = names(
    "Linda; James; Gloria; Robert; Sofia; Michael; Yolanda; David; Agnieszka; Terrence; Maria; "
    "Ahmed; Jennifer; Frank; Lakisha; Stanley; Ewa; Gregory; Carmen; Raymond"
)


CUSTOMER_LAST_NAMES = names(
    "Alvarez; Bennett; Czarnecki; Dawson; Esposito; Fitzgerald; Garcia; Hoffman; Ibrahim; "
    "Jablonski; Kim; Lopez; McCarthy; Nowicki; Ortiz; Pierce; Quinn; Ramirez; Stewart; Tran; "
    "Underwood; Vasquez; Wojcik; Young; Zielinski"
)


BUSINESS_KINDS = names(
    "Bakery; Dental Group; Laundromat; Tap Room; Fitness; Pediatrics; Animal Hospital; Deli; "
    "Montessori; Apartments; Coffee Co; Hardware; Florist; Taqueria; Pizza; Day Spa; Hotel; "
    "Condominiums; Public Library; Senior Living"
)


OFFICE_USERS = (
    # username, first, last, role, is_staff, is_superuser
    ("manager", "Maya", "Thompson", roles.MANAGER, True, True),
    ("dispatcher", "Dan", "Kowalczyk", roles.DISPATCHER, False, False),
    ("csr", "Carla", "Mendez", roles.CSR, False, False),
)
