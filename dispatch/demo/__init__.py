"""A believable Chicago-area service company for demos: teams, technicians, customers, one day.

``demo_build(seed=..., day=..., now=...)`` wipes the dispatch data (calls, events, escalations,
sites, customers, technicians, teams, skills and the demo logins) and builds it again, in one
transaction. Everything random comes from one ``random.Random(seed)``, so a seed, a day and a
"now" always give the same company and the same day.

The day is built around a reference time: ``now`` when the day is today, else 10:00 of that day.
Queues are planned with the same engine the product uses (``dispatch.selectors.planning``), and
deadlines are then set relative to those planned arrivals, so "a few already late" and "a few at
risk" hold whatever the hour: the stored ETAs are recomputed by ``etas_refresh_day`` at the end.
The later the hour, the more calls are already done and the shorter the queues (at least two
calls each), so an afternoon demo is not a board full of overtime.
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import transaction

from customers.models import Customer, Site
from dispatch import clock, roles
from dispatch.models import (
    BacklogAlert,
    CallCategory,
    CallEvent,
    Escalation,
    ServiceCall,
    TurnedAwayCall,
)
from dispatch.selectors.planning import (
    QueuedCall,
    TechnicianPlace,
    plan_queue,
    shift_bounds,
    travel_provider,
)
from dispatch.services.etas import etas_refresh_day
from dispatch.services.events import jsonable
from technicians.models import Skill, Team, Technician

PASSWORD = "demo-pass-2026"
TECHNICIAN_COUNT = 15
MIN_QUEUE, MAX_QUEUE = 2, 8  # calls still queued per technician
MAX_DONE = 5  # calls a technician can have finished by now
CUSTOMER_COUNT = 45

Location = tuple[float, float]

# --- reference data ------------------------------------------------------------------------------


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


# --- the plan (plain Python, no database) -----------------------------------------------------


@dataclass
class TechSpec:
    username: str
    first: str
    last: str
    team: int
    skills: tuple[str, ...]
    home: Location
    shift: tuple[time, time]
    status: str = "off"
    location: Location | None = None
    seen_at: datetime | None = None


@dataclass
class SiteSpec:
    label: str
    address: str
    lat: float
    lng: float


@dataclass
class CustomerSpec:
    name: str
    contract: str
    phone: str
    email: str
    region: int
    sites: list[SiteSpec]


@dataclass
class CallSpec:
    customer: int
    site: int
    problem: Problem
    priority: str
    duration: int
    description: str
    booked_at: datetime
    status: str = "new"
    tech: int | None = None
    position: int | None = None
    window_start: datetime | None = None
    deadline: datetime | None = None
    promised_eta: datetime | None = None
    assigned_at: datetime | None = None
    en_route_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass
class DemoPlan:
    day: date
    now: datetime
    techs: list[TechSpec]
    customers: list[CustomerSpec]
    calls: list[CallSpec] = field(default_factory=list)
    tech_days: dict[int, list[CallSpec]] = field(default_factory=dict)


def company_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def reference_time(day: date, now: datetime) -> datetime:
    """The "now" the day is built around: now itself when the day is today, else 10:00."""
    tz = company_tz()
    if now.astimezone(tz).date() == day:
        return now.astimezone(tz)
    return datetime.combine(day, time(10, 0), tz)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), company_tz())


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def floor_to(value: datetime, step_minutes: int) -> datetime:
    # Chicago's UTC offsets are whole hours, so rounding the epoch rounds local time too.
    step = step_minutes * 60
    ts = int(value.timestamp())
    return datetime.fromtimestamp(ts - ts % step, tz=company_tz())


def ceil_to(value: datetime, step_minutes: int) -> datetime:
    floored = floor_to(value, step_minutes)
    return floored if floored == value else floored + minutes(step_minutes)


def round_to(value: datetime, step_minutes: int) -> datetime:
    return floor_to(value + minutes(step_minutes / 2), step_minutes)


def shore_lng(lat: float) -> float:
    for (lat1, lng1), (lat2, lng2) in zip(SHORE, SHORE[1:], strict=False):
        if lat <= lat2:
            return lng1 + (lng2 - lng1) * (lat - lat1) / (lat2 - lat1)
    return SHORE[-1][1]


def random_point(rng: random.Random, region: Region) -> Location:
    lat = rng.uniform(*region.lat)
    lng = rng.uniform(WEST_LNG, shore_lng(lat) - 0.012)
    return round(lat, 5), round(lng, 5)


def random_address(rng: random.Random, region: Region) -> str:
    number = rng.randint(1, 79) * 100 + rng.randint(0, 99)
    return f"{number} {rng.choice(region.streets)}, Chicago, IL {rng.choice(region.zips)}"


def build_technicians(rng: random.Random) -> list[TechSpec]:
    """tech1..tech15, five per team in region order (tech1 is in North)."""
    per_team = TECHNICIAN_COUNT // len(REGIONS)
    firsts = rng.sample(FIRST_NAMES, TECHNICIAN_COUNT)
    lasts = rng.sample(LAST_NAMES, TECHNICIAN_COUNT)
    techs = []
    for team, region in enumerate(REGIONS):
        shifts = rng.sample(SHIFTS, len(SHIFTS))
        skill_sets = rng.sample(SKILL_SETS, len(SKILL_SETS))
        for k in range(per_team):
            i = team * per_team + k
            skills = list(skill_sets[k])
            if rng.random() < 0.3:
                skills.append(rng.choice([code for code, _ in SKILLS if code not in skills]))
            techs.append(
                TechSpec(
                    username=f"tech{i + 1}",
                    first=firsts[i],
                    last=lasts[i],
                    team=team,
                    skills=tuple(sorted(skills)),
                    home=random_point(rng, region),
                    shift=shifts[k],
                )
            )
    return techs


def business_name(rng: random.Random, region: Region) -> str:
    return f"{rng.choice(region.places)} {rng.choice(BUSINESS_KINDS)}"


def household_name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(CUSTOMER_FIRST_NAMES)} {rng.choice(CUSTOMER_LAST_NAMES)}"
    return f"{rng.choice(CUSTOMER_LAST_NAMES)} residence"


def slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-").replace("--", "-")


def build_customers(rng: random.Random) -> list[CustomerSpec]:
    """45 customers, 15 per region: businesses (mostly full service) and households."""
    customers: list[CustomerSpec] = []
    names: list[str] = []
    for i in range(CUSTOMER_COUNT):
        region_index = i % len(REGIONS)
        region = REGIONS[region_index]
        business = rng.random() < 0.6
        name = business_name(rng, region) if business else household_name(rng)
        while name in names:
            name = business_name(rng, region) if business else household_name(rng)
        names.append(name)
        full_service = rng.random() < (0.6 if business else 0.2)
        site_count = 2 if business and rng.random() < 0.35 else 1
        labels = ("Main", rng.choice(("Warehouse", "Second location", "Annex")))
        sites = [
            SiteSpec(
                labels[s] if business else "Home",
                random_address(rng, region),
                *random_point(rng, region),
            )
            for s in range(site_count)
        ]
        customers.append(
            CustomerSpec(
                name=name,
                contract="full_service" if full_service else "time_and_materials",
                phone=f"({region.area_code}) 555-01{i:02d}",
                email=f"{slug(name)}@example.com",
                region=region_index,
                sites=sites,
            )
        )
    contracts = [c.contract for c in customers]
    for contract in ("full_service", "time_and_materials"):
        if contract not in contracts:  # one of each, whatever the dice say
            customers[0 if contract == "full_service" else 1].contract = contract
    return customers


# --- the day -------------------------------------------------------------------------------------


def draw_priority(rng: random.Random, problem: Problem) -> str:
    if problem.priority:
        return problem.priority
    roll = rng.random()
    return "high" if roll < 0.1 else "low" if roll < 0.18 else "normal"


def booked_time(rng: random.Random, day: date, now: datetime, *, earlier_day: bool) -> datetime:
    """When the call was booked: on an earlier day, or this morning before now."""
    morning_start, morning_end = at(day, 7), now - minutes(20)
    if earlier_day or rng.random() < 0.65 or morning_end <= morning_start + minutes(10):
        days_before = rng.randint(1, 5)
        return at(day - timedelta(days=days_before), rng.randint(8, 16), rng.randrange(0, 60, 5))
    span = int((morning_end - morning_start).total_seconds() // 60)
    return floor_to(morning_start + minutes(rng.randint(0, span)), 1)


def new_call(
    rng: random.Random,
    plan: DemoPlan,
    problem: Problem,
    customer: int,
    *,
    earlier_day: bool = False,
) -> CallSpec:
    sites = plan.customers[customer].sites
    description = problem.description
    if not description and rng.random() < 0.35:
        description = rng.choice(NOTES)
    return CallSpec(
        customer=customer,
        site=rng.randrange(len(sites)),
        problem=problem,
        priority=draw_priority(rng, problem),
        duration=rng.choice(problem.durations),
        description=description,
        booked_at=booked_time(rng, plan.day, plan.now, earlier_day=earlier_day),
    )


def problems_for(skills: tuple[str, ...]) -> list[Problem]:
    return [p for p in PROBLEMS if all(s in skills for s in p.skills)]


def region_customers(plan: DemoPlan, region: int) -> list[int]:
    return [i for i, c in enumerate(plan.customers) if c.region == region]


def fresh(options: list, used: list) -> list:
    """The options not used yet, or all of them once every one has been."""
    return [o for o in options if o not in used] or options


def tech_call(rng: random.Random, plan: DemoPlan, tech: int, **kw) -> CallSpec:
    """A call this technician is skilled for, in their region; a day rarely repeats itself."""
    spec, day = plan.techs[tech], plan.tech_days.setdefault(tech, [])
    problem = rng.choice(fresh(problems_for(spec.skills), [c.problem for c in day]))
    customers = fresh(region_customers(plan, spec.team), [c.customer for c in day])
    call = new_call(rng, plan, problem, rng.choice(customers), **kw)
    day.append(call)
    return call


def site_of(plan: DemoPlan, call: CallSpec) -> Location:
    site = plan.customers[call.customer].sites[call.site]
    return site.lat, site.lng


def shift_of(plan: DemoPlan, tech: int) -> tuple[datetime, datetime]:
    start, end = plan.techs[tech].shift
    return shift_bounds(plan.day, start, end)


def is_working(plan: DemoPlan, tech: int) -> bool:
    """On shift long enough to have done something today."""
    start, end = shift_of(plan, tech)
    return start + minutes(45) <= plan.now < end


def choose_live(rng: random.Random, plan: DemoPlan) -> dict[int, str]:
    """A few working technicians are en route to, or on site at, their first queued call."""
    eligible = [i for i in range(len(plan.techs)) if is_working(plan, i)]
    chosen = sorted(rng.sample(eligible, min(len(eligible), rng.randint(3, 5))))
    return {tech: ("en_route", "on_site")[k % 2] for k, tech in enumerate(chosen)}


def start_live_call(rng: random.Random, plan: DemoPlan, tech: int, mode: str) -> CallSpec:
    call = tech_call(rng, plan, tech, earlier_day=True)
    call.status = mode
    if mode == "en_route":
        call.en_route_at = plan.now - minutes(rng.randint(5, 20))
    else:
        call.started_at = plan.now - minutes(rng.randint(10, max(10, min(call.duration - 10, 75))))
        call.en_route_at = call.started_at - minutes(rng.randint(12, 30))
    return call


def completed_calls(
    rng: random.Random, plan: DemoPlan, tech: int, until: datetime, limit: int
) -> list[CallSpec]:
    """The calls done since the shift started (at most ``limit``), all finished by ``until``."""
    done: list[CallSpec] = []
    free_at = shift_of(plan, tech)[0]
    while len(done) < limit:
        call = tech_call(rng, plan, tech, earlier_day=True)
        en_route_at = free_at + minutes(rng.randint(0, 10))
        started_at = en_route_at + minutes(rng.randint(12, 30))
        finished_at = started_at + minutes(call.duration)
        if finished_at > until:
            break
        call.status, call.en_route_at = "completed", en_route_at
        call.started_at, call.completed_at = started_at, finished_at
        call.window_start = floor_to(started_at, 60)
        call.deadline = call.window_start + minutes(180)
        done.append(call)
        free_at = finished_at
    return done


def between(a: Location, b: Location, fraction: float) -> Location:
    return (
        round(a[0] + (b[0] - a[0]) * fraction, 5),
        round(a[1] + (b[1] - a[1]) * fraction, 5),
    )


def place_technician(
    rng: random.Random,
    plan: DemoPlan,
    tech: int,
    first: CallSpec | None,
    done: list[CallSpec],
) -> None:
    """Status and last known location at "now", matching what the technician is doing."""
    spec, now = plan.techs[tech], plan.now
    start, end = shift_of(plan, tech)
    if not start <= now < end:
        spec.status, spec.location, spec.seen_at = "off", None, None
        return
    here = site_of(plan, done[-1]) if done else spec.home
    if first is not None and first.status == "en_route":
        spec.status = "en_route"
        spec.location = between(here, site_of(plan, first), rng.uniform(0.3, 0.7))
        spec.seen_at = now - minutes(rng.randint(1, 3))
    elif first is not None:
        spec.status, spec.location = "on_site", site_of(plan, first)
        spec.seen_at = now - minutes(rng.randint(1, 5))
    else:
        spec.status, spec.location = "available", here
        spec.seen_at = now - minutes(rng.randint(1, 15))


def remaining_minutes(plan: DemoPlan, tech: int) -> float:
    start, end = shift_of(plan, tech)
    return max(0.0, (end - max(start, plan.now)).total_seconds() / 60)


def queue_sizes(rng: random.Random, plan: DemoPlan, total: int) -> list[int]:
    """Queues adding up to ``total``: 4 to 8 calls each while the day is young, at least 2
    later on; the longer queues go to those with the most of their shift still ahead."""
    techs = len(plan.techs)
    smallest = max(MIN_QUEUE, min(4, total // techs))
    sizes = [smallest] * techs
    # A little weight even for a shift that is over: its calls just wait for a rescue.
    weights = [remaining_minutes(plan, tech) + 30 for tech in range(techs)]
    extra = max(0, min(total - smallest * techs, (MAX_QUEUE - smallest) * techs))
    while extra:
        i = rng.choices(range(techs), weights=weights)[0]
        if sizes[i] < MAX_QUEUE:
            sizes[i] += 1
            extra -= 1
    return sizes


def insert_emergency(
    rng: random.Random, plan: DemoPlan, queues: list[list[CallSpec]], call: CallSpec
) -> bool:
    """Put an emergency at the front of a qualified, on-shift technician's queue."""
    qualified = [
        i
        for i, t in enumerate(plan.techs)
        if t.status != "off" and all(s in t.skills for s in call.problem.skills) and queues[i]
    ]
    if not qualified:
        return False
    idle = [i for i in qualified if queues[i][0].status not in ServiceCall.QUEUED_STATUSES]
    tech = rng.choice(idle or qualified)
    queue = queues[tech]
    front = 1 if queue[0].status in ServiceCall.QUEUED_STATUSES else 0
    if len(queue) > 1:
        queue.pop()  # keep the queue's size: the last call waits for another day
    queue.insert(front, call)
    return True


def planned_arrivals(plan: DemoPlan, tech: int, queue: list[CallSpec]) -> list[datetime]:
    """Arrivals the ETA engine will compute for this queue (windows not yet set)."""
    spec = plan.techs[tech]
    place = TechnicianPlace(
        id=tech,
        home=spec.home,
        last=spec.location,
        last_seen_at=spec.seen_at,
        shift_start=spec.shift[0],
        shift_end=spec.shift[1],
    )
    queued = [
        QueuedCall(
            id=pos,
            location=site_of(plan, call),
            duration_minutes=call.duration,
            window_start=call.window_start,
            deadline=None,
            status=call.status,
            started_at=call.started_at,
        )
        for pos, call in enumerate(queue)
    ]
    fields = plan_queue(place, queued, plan.day, plan.now, travel_provider())
    return [fields[pos].eta for pos in range(len(queue))]


def window_before(
    rng: random.Random, plan: DemoPlan, deadline: datetime, latest: datetime
) -> datetime | None:
    """An arrival window that closes at ``deadline`` and opens no later than ``latest``."""
    opens = min(floor_to(deadline - minutes(60 * rng.choice((2, 3, 4))), 30), floor_to(latest, 30))
    day_start = at(plan.day, 7)
    if opens >= day_start:
        return opens
    return day_start if day_start <= min(deadline, latest) else None


def set_queued_deadline(
    rng: random.Random, plan: DemoPlan, call: CallSpec, kind: str, arrival: datetime
) -> None:
    """Window, deadline and promise for a queued call, relative to its planned arrival.

    The window always opens by the planned arrival, so it never adds waiting and the planned
    arrivals stay exactly what the engine will compute.
    """
    if kind == "late":
        deadline = floor_to(arrival - minutes(rng.randint(10, 50)), 5)
    elif kind == "at_risk":
        deadline = floor_to(arrival + minutes(rng.randint(10, 25)), 5)
    elif kind == "tight":
        deadline = floor_to(arrival + minutes(rng.randint(36, 50)), 5)
    elif kind == "ok":
        deadline = ceil_to(arrival + minutes(rng.randint(45, 150)), 30)
    else:
        deadline = None
    if deadline is None:
        if rng.random() < 0.5:
            call.window_start = floor_to(arrival, 60) - minutes(60 * rng.randint(0, 2))
        return
    call.deadline = deadline
    if call.priority != "emergency" and rng.random() < 0.8:
        call.window_start = window_before(rng, plan, deadline, arrival)
    if kind == "late" and rng.random() < 0.6:
        call.promised_eta = floor_to(deadline - minutes(rng.randint(15, 45)), 15)
    elif kind != "late" and rng.random() < 0.35:
        call.promised_eta = round_to(arrival + minutes(rng.choice((-15, 0, 0, 15))), 15)


def deadline_kinds(rng: random.Random, queues: list[list[CallSpec]]) -> dict[tuple[int, int], str]:
    """Which queued calls are late, at risk, tight, comfortable or without a deadline."""
    keys = [(t, p) for t, queue in enumerate(queues) for p in range(len(queue))]
    plain = [(t, p) for t, p in keys if queues[t][p].priority != "emergency"]
    # Late calls sit deeper in a queue (the day has slipped); short queues late in the day
    # leave fewer places to choose from.
    deep = [k for k in plain if k[1] >= 2] or [k for k in plain if k[1] >= 1]
    late = rng.sample(deep, min(len(deep), rng.randint(2, 4)))
    behind = [k for k in plain if k[1] >= 1 and k not in late]
    at_risk = rng.sample(behind, min(len(behind), rng.randint(3, 5)))
    kinds = {k: "late" for k in late} | {k: "at_risk" for k in at_risk}
    for key in keys:
        if key in kinds:
            continue
        if queues[key[0]][key[1]].priority == "emergency":
            kinds[key] = "tight"
        else:
            kinds[key] = rng.choices(("ok", "none", "tight"), weights=(65, 25, 10))[0]
    return kinds


def set_unassigned_deadline(rng: random.Random, plan: DemoPlan, call: CallSpec, kind: str) -> None:
    """Unassigned calls' risk runs from now; their deadlines are set around the working day."""
    base = min(max(plan.now, at(plan.day, 8)), at(plan.day, 16))
    if kind == "late":
        call.deadline = floor_to(base - minutes(rng.randint(10, 40)), 5)
    elif kind == "at_risk":
        call.deadline = floor_to(base + minutes(rng.randint(10, 25)), 5)
    elif kind == "ok":
        call.deadline = ceil_to(base + minutes(rng.randint(120, 300)), 30)
    elif rng.random() < 0.5:  # no deadline, but the customer is only home later
        call.window_start = ceil_to(base + minutes(rng.randint(60, 180)), 30)
    if call.deadline is not None and rng.random() < 0.8:
        call.window_start = window_before(rng, plan, call.deadline, call.deadline)


def emergency_call(rng: random.Random, plan: DemoPlan, problem: Problem) -> CallSpec:
    call = new_call(rng, plan, problem, rng.randrange(len(plan.customers)))
    call.booked_at = floor_to(plan.now - minutes(rng.randint(8, 30)), 1)
    call.deadline = floor_to(plan.now + minutes(rng.randint(60, 90)), 5)
    return call


def assign(rng: random.Random, plan: DemoPlan, call: CallSpec, tech: int, position: int) -> None:
    call.tech = tech
    if call.status == "new":
        call.status = "assigned"
    if call.status != "completed":
        call.position = position
    latest = min(plan.now, call.en_route_at or plan.now) - minutes(1)
    call.assigned_at = max(
        call.booked_at, min(call.booked_at + minutes(rng.randint(3, 180)), latest)
    )


def build_day(rng: random.Random, plan: DemoPlan) -> None:
    """About 100 calls: queued (a few under way), done earlier today, the rest waiting."""
    total = rng.randint(96, 104)
    unassigned_count = rng.randint(16, 22)
    live = choose_live(rng, plan)
    firsts: list[CallSpec | None] = []
    done: list[list[CallSpec]] = []
    # Whatever the hour, every technician keeps a queue of at least MIN_QUEUE calls.
    completed_budget = total - unassigned_count - MIN_QUEUE * len(plan.techs)
    for tech in range(len(plan.techs)):
        mode = live.get(tech)
        first = start_live_call(rng, plan, tech, mode) if mode else None
        finished: list[CallSpec] = []
        start, end = shift_of(plan, tech)
        if start + minutes(45) <= plan.now and completed_budget > 0:
            until = first.en_route_at if first else min(plan.now, end) - minutes(10)
            limit = min(MAX_DONE, completed_budget)
            finished = completed_calls(rng, plan, tech, until, limit)
            completed_budget -= len(finished)
        place_technician(rng, plan, tech, first, finished)
        firsts.append(first)
        done.append(finished)

    completed_count = sum(len(d) for d in done)
    sizes = queue_sizes(rng, plan, total - unassigned_count - completed_count)
    queues: list[list[CallSpec]] = []
    for tech, size in enumerate(sizes):
        queue = [firsts[tech]] if firsts[tech] else []
        queue += [tech_call(rng, plan, tech) for _ in range(size - len(queue))]
        queues.append(queue)

    waiting: list[CallSpec] = []
    emergencies = [emergency_call(rng, plan, p) for p in rng.sample(EMERGENCIES, rng.randint(1, 2))]
    if not insert_emergency(rng, plan, queues, emergencies[0]):
        waiting.append(emergencies[0])
    waiting += emergencies[1:]

    kinds = deadline_kinds(rng, queues)
    for tech, queue in enumerate(queues):
        arrivals = planned_arrivals(plan, tech, queue)
        for position, (call, arrival) in enumerate(zip(queue, arrivals, strict=True)):
            set_queued_deadline(rng, plan, call, kinds[(tech, position)], arrival)
            assign(rng, plan, call, tech, position)
        for call in done[tech]:
            assign(rng, plan, call, tech, 0)

    others = [
        new_call(rng, plan, rng.choice(PROBLEMS), rng.randrange(len(plan.customers)))
        for _ in range(max(0, unassigned_count - len(waiting)))
    ]
    late, at_risk = rng.randint(1, 2), rng.randint(1, 2)
    for i, call in enumerate(others):
        if i < late + at_risk:  # booked on an earlier day, now running out of time
            call.booked_at = booked_time(rng, plan.day, plan.now, earlier_day=True)
            set_unassigned_deadline(rng, plan, call, "late" if i < late else "at_risk")
        else:
            kind = rng.choices(("ok", "none"), weights=(65, 35))[0]
            set_unassigned_deadline(rng, plan, call, kind)
    waiting += others

    for tech in range(len(plan.techs)):
        plan.calls += done[tech]
    for queue in queues:
        plan.calls += queue
    plan.calls += waiting


def plan_demo(*, seed: int, day: date, now: datetime) -> DemoPlan:
    """The whole demo as plain data; nothing touches the database."""
    rng = random.Random(seed)
    plan = DemoPlan(
        day=day,
        now=reference_time(day, now),
        techs=build_technicians(rng),
        customers=build_customers(rng),
    )
    build_day(rng, plan)
    return plan


# --- writing -----------------------------------------------------------------------------------


def demo_usernames() -> list[str]:
    return [u[0] for u in OFFICE_USERS] + [f"tech{i + 1}" for i in range(TECHNICIAN_COUNT)]


def wipe() -> None:
    """Everything the demo builds, children first (calls and sites are PROTECTed)."""
    CallEvent.objects.all().delete()
    Escalation.objects.all().delete()
    TurnedAwayCall.objects.all().delete()
    BacklogAlert.objects.all().delete()
    CallCategory.objects.all().delete()
    ServiceCall.objects.all().delete()
    Site.objects.all().delete()
    Customer.objects.all().delete()
    Technician.objects.all().delete()
    Team.objects.all().delete()
    Skill.objects.all().delete()
    User.objects.filter(username__in=demo_usernames()).delete()


@functools.cache
def password_hash() -> str:
    # Hashing is deliberately slow: once per process, shared by every demo login.
    return make_password(PASSWORD)


def save_users(plan: DemoPlan) -> dict[str, User]:
    rows = [*OFFICE_USERS] + [
        (t.username, t.first, t.last, roles.TECHNICIAN, False, False) for t in plan.techs
    ]
    users = User.objects.bulk_create(
        [
            User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                password=password_hash(),
                is_staff=staff,
                is_superuser=superuser,
            )
            for username, first, last, _, staff, superuser in rows
        ]
    )
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in roles.ALL_ROLES}
    User.groups.through.objects.bulk_create(
        [
            User.groups.through(user_id=user.pk, group_id=groups[row[3]].pk)
            for user, row in zip(users, rows, strict=True)
        ]
    )
    return {user.username: user for user in users}


# What a CSR picks on the booking page: (code, name, usual minutes, skills).
CATEGORIES = (
    ("no-heat", "No heat / furnace", 90, ("hvac",)),
    ("ac-repair", "Air conditioning repair", 90, ("hvac",)),
    ("leak", "Leak or burst pipe", 60, ("plumbing",)),
    ("drain", "Blocked drain", 45, ("plumbing",)),
    ("water-heater", "Water heater", 120, ("plumbing", "gas")),
    ("outlet", "Outlet, switch or breaker", 45, ("electrical",)),
    ("gas-appliance", "Gas appliance", 60, ("gas", "appliance")),
    ("appliance", "Appliance repair", 60, ("appliance",)),
)


def save_categories(skills: dict[str, Skill]) -> None:
    rows = CallCategory.objects.bulk_create(
        [CallCategory(code=c, name=n, default_duration_minutes=m) for c, n, m, _ in CATEGORIES]
    )
    CallCategory.skills.through.objects.bulk_create(
        [
            CallCategory.skills.through(callcategory_id=row.pk, skill_id=skills[code].pk)
            for row, (*_, codes) in zip(rows, CATEGORIES, strict=True)
            for code in codes
        ]
    )


def save_company(
    plan: DemoPlan, users: dict[str, User]
) -> tuple[dict[str, Skill], list[Technician], list[Customer], list[list[Site]]]:
    skills = {
        s.code: s for s in Skill.objects.bulk_create([Skill(code=c, name=n) for c, n in SKILLS])
    }
    save_categories(skills)
    teams = Team.objects.bulk_create(
        [Team(name=region.team, region=region.description) for region in REGIONS]
    )
    Team.staff.through.objects.bulk_create(
        [Team.staff.through(team_id=teams[0].pk, user_id=users[u].pk) for u, *_ in OFFICE_USERS]
    )
    techs = Technician.objects.bulk_create(
        [
            Technician(
                user=users[t.username],
                name=f"{t.first} {t.last}",
                team=teams[t.team],
                home_lat=t.home[0],
                home_lng=t.home[1],
                shift_start=t.shift[0],
                shift_end=t.shift[1],
                last_lat=t.location[0] if t.location else None,
                last_lng=t.location[1] if t.location else None,
                last_seen_at=t.seen_at,
                status=t.status,
            )
            for t in plan.techs
        ]
    )
    Technician.skills.through.objects.bulk_create(
        [
            Technician.skills.through(technician_id=tech.pk, skill_id=skills[code].pk)
            for tech, spec in zip(techs, plan.techs, strict=True)
            for code in spec.skills
        ]
    )
    customers = Customer.objects.bulk_create(
        [
            Customer(name=c.name, contract=c.contract, phone=c.phone, email=c.email)
            for c in plan.customers
        ]
    )
    flat_sites = Site.objects.bulk_create(
        [
            Site(customer=customer, label=s.label, address=s.address, lat=s.lat, lng=s.lng)
            for customer, spec in zip(customers, plan.customers, strict=True)
            for s in spec.sites
        ]
    )
    sites, offset = [], 0
    for spec in plan.customers:
        sites.append(flat_sites[offset : offset + len(spec.sites)])
        offset += len(spec.sites)
    return skills, techs, customers, sites


def call_events(
    call: ServiceCall, spec: CallSpec, users: dict[str, User], tech_user: User | None
) -> list[CallEvent]:
    """The history a call of this shape would have: booked, assigned, then its statuses."""
    events = [
        CallEvent(
            call=call,
            actor=users["csr"],
            kind="booked",
            created_at=spec.booked_at,
            payload=jsonable(
                {
                    "after": {
                        "summary": call.summary,
                        "description": call.description,
                        "priority": call.priority,
                        "duration_minutes": call.duration_minutes,
                        "window_start": call.window_start,
                        "deadline": call.deadline,
                        "promised_eta": call.promised_eta,
                        "scheduled_day": call.scheduled_day,
                        "site": call.site_id,
                    }
                }
            ),
        )
    ]
    if spec.tech is None:
        return events
    events.append(
        CallEvent(
            call=call,
            actor=users["dispatcher"],
            kind="assigned",
            created_at=spec.assigned_at,
            payload={
                "reason": "",
                "before": {"technician": None, "position": None, "status": "new", "eta": None},
                "after": {
                    "technician": call.technician_id,
                    "position": call.position if call.position is not None else 0,
                    "status": "assigned",
                    "eta": None,
                },
            },
        )
    )
    steps = [
        ("assigned", "en_route", spec.en_route_at),
        ("en_route", "on_site", spec.started_at),
        ("on_site", "completed", spec.completed_at),
    ]
    for before, after, when in steps:
        if when is not None:
            events.append(
                CallEvent(
                    call=call,
                    actor=tech_user,
                    kind="status",
                    created_at=when,
                    payload={"before": {"status": before}, "after": {"status": after}},
                )
            )
    return events


def save_calls(plan: DemoPlan, users: dict[str, User], company) -> None:
    skills, techs, customers, sites = company
    calls = ServiceCall.objects.bulk_create(
        [
            ServiceCall(
                customer=customers[s.customer],
                site=sites[s.customer][s.site],
                summary=s.problem.summary,
                description=s.description,
                priority=s.priority,
                duration_minutes=s.duration,
                window_start=s.window_start,
                deadline=s.deadline,
                scheduled_day=plan.day,
                status=s.status,
                technician=techs[s.tech] if s.tech is not None else None,
                position=s.position,
                promised_eta=s.promised_eta,
                en_route_at=s.en_route_at,
                started_at=s.started_at,
                completed_at=s.completed_at,
                booked_by=users["csr"],
            )
            for s in plan.calls
        ]
    )
    # auto_now_add stamps "now" on insert; the demo's history goes back days.
    for call, spec in zip(calls, plan.calls, strict=True):
        call.created_at = spec.booked_at
    ServiceCall.objects.bulk_update(calls, ["created_at"], batch_size=500)
    ServiceCall.skills.through.objects.bulk_create(
        [
            ServiceCall.skills.through(servicecall_id=call.pk, skill_id=skills[code].pk)
            for call, spec in zip(calls, plan.calls, strict=True)
            for code in spec.problem.skills
        ]
    )
    tech_users = [users[t.username] for t in plan.techs]
    events = [
        event
        for call, spec in zip(calls, plan.calls, strict=True)
        for event in call_events(
            call, spec, users, tech_users[spec.tech] if spec.tech is not None else None
        )
    ]
    stamps = [e.created_at for e in events]
    events = CallEvent.objects.bulk_create(events, batch_size=500)
    for event, stamp in zip(events, stamps, strict=True):
        event.created_at = stamp
    CallEvent.objects.bulk_update(events, ["created_at"], batch_size=500)


@dataclass(frozen=True)
class DemoResult:
    seed: int
    day: date
    now: datetime  # the reference time the day was built and its ETAs computed at


def demo_build(
    *, seed: int = 1, day: date | None = None, now: datetime | None = None
) -> DemoResult:
    """Wipe the dispatch data and build the demo company and its day, in one transaction."""
    now = now or clock.now()
    day = day or now.astimezone(company_tz()).date()
    plan = plan_demo(seed=seed, day=day, now=now)
    with transaction.atomic():
        wipe()
        users = save_users(plan)
        company = save_company(plan, users)
        save_calls(plan, users, company)
        etas_refresh_day(day=day, now=plan.now)
    return DemoResult(seed=seed, day=day, now=plan.now)


# --- reporting ---------------------------------------------------------------------------------


def counted(values) -> str:
    counts = Counter(values)
    return ", ".join(f"{key} {counts[key]}" for key in sorted(counts)) or "none"


def summary_lines(result: DemoResult) -> list[str]:
    calls = list(
        ServiceCall.objects.filter(scheduled_day=result.day).values_list(
            "status", "risk", "priority"
        )
    )
    open_calls = [c for c in calls if c[0] in ServiceCall.OPEN_STATUSES]
    teams = list(Team.objects.order_by("name").values_list("name", flat=True))
    techs = list(Technician.objects.values_list("status", flat=True))
    contracts = list(Customer.objects.values_list("contract", flat=True))
    local = result.now.astimezone(company_tz())
    return [
        f"Demo company for {result.day:%A %Y-%m-%d} (seed {result.seed}, as of {local:%H:%M %Z}):",
        f"  teams: {len(teams)} ({', '.join(teams)})",
        f"  technicians: {len(techs)} ({counted(techs)})",
        f"  customers: {len(contracts)} ({counted(contracts)}), sites: {Site.objects.count()}",
        f"  calls: {len(calls)}, emergencies: {sum(c[2] == 'emergency' for c in calls)}",
        f"    by status: {counted(c[0] for c in calls)}",
        f"    by risk (open calls): {counted(c[1] for c in open_calls)}",
        f"Logins (password {PASSWORD}):",
        "  manager      manager; staff and superuser, so /admin/ too",
        "  dispatcher   dispatcher, team North",
        "  csr          CSR, team North",
        f"  tech1..tech{TECHNICIAN_COUNT}  technicians (tech1-5 North, tech6-10 Central, "
        "tech11-15 South)",
    ]
