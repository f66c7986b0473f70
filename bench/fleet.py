"""A synthetic fleet for the benchmarks, and the dedicated database they run in.

``build_fleet(techs=60, calls=600, day=..., seed=1)`` writes one team (``teams=N``: N teams
sharing the technicians in equal blocks of ids), its technicians (with logins), a dispatcher,
customers and sites around Chicago, and one day of calls: about 90% queued in dense positions (a
few technicians already en route or on site), the rest unassigned. Every write is a
``bulk_create``, so 2,000 x 20,000 takes seconds, not minutes. Everything random comes from one
``random.Random(seed)``: a seed and a day always give the same fleet. ETAs are left empty;
callers run ``etas_refresh_day`` when they need them.

Importing this module needs ``django.setup()`` first (the bench scripts do it at the top).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg2
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection

from common import roles
from customers.models import Customer, Site
from dispatch.models import ServiceCall
from technicians.models import Skill, Team, Technician

LAT = (41.70, 42.05)
LNG = (-87.95, -87.55)
ASSIGNED_SHARE = 0.9
BATCH = 2000
# Local wall-clock shifts; the latest starts at 10:00, so from noon every queue is under way.
SHIFTS = (
    (time(7, 0), time(15, 30)),
    (time(8, 0), time(17, 0)),
    (time(8, 0), time(17, 0)),
    (time(10, 0), time(19, 0)),
)
SKILLS = ("appliance", "electrical", "gas", "hvac", "plumbing")
STREETS = (
    "N Clark St; N Broadway; N Lincoln Ave; W Devon Ave; W Madison St; S Halsted St; "
    "S Ashland Ave; W Roosevelt Rd; S Cottage Grove Ave; E 55th St; W 63rd St; S Kedzie Ave"
).split("; ")
SUMMARIES = (
    "No hot water; Kitchen sink clogged; Breaker keeps tripping; AC not cooling; "
    "Furnace blowing cold air; Dryer not heating; Ice machine down; Gas fireplace won't ignite; "
    "Thermostat not responding; Leak under bathroom sink; Outlets dead in kitchen"
).split("; ")
SURNAMES = (
    "Alvarez; Bennett; Czarnecki; Dawson; Esposito; Garcia; Hoffman; Ibrahim; Kim; Lopez; "
    "Nowicki; Ortiz; Patel; Quinn; Ramirez; Tran; Wojcik; Young"
).split("; ")


@dataclass(frozen=True)
class Fleet:
    day: date
    team: Team  # the first team (the only one unless teams > 1)
    dispatcher: User
    technician_ids: list[int]
    assigned: int
    unassigned: int
    teams: tuple[Team, ...] = ()


def build_fleet(*, techs: int, calls: int, day: date, seed: int = 1, teams: int = 1) -> Fleet:
    """Write a fleet of `techs` technicians and `calls` calls for `day` (see the module doc)."""
    rng = random.Random(seed)
    skills = Skill.objects.bulk_create([Skill(code=c, name=c.title()) for c in SKILLS])
    name = f"Bench {techs}x{calls}"
    made = Team.objects.bulk_create(
        [
            Team(name=name if teams == 1 else f"{name} #{i + 1}", region="Chicago")
            for i in range(teams)
        ]
    )
    team = made[0]
    dispatcher, tech_users = _users(techs)
    for each in made:
        each.staff.add(dispatcher)
    technicians, working = _technicians(rng, made, tech_users, skills, day)
    sites = _sites(rng, max(10, calls // 3))
    assigned = round(calls * ASSIGNED_SHARE)
    rows = [_queued_call(rng, day, sites, technicians) for _ in range(assigned)]
    _number_queues(rows, working)
    rows += [_unassigned_call(rng, day, sites) for _ in range(calls - assigned)]
    created = ServiceCall.objects.bulk_create(rows, batch_size=BATCH)
    ServiceCall.skills.through.objects.bulk_create(
        [
            ServiceCall.skills.through(servicecall_id=c.pk, skill_id=rng.choice(skills).pk)
            for c in created
        ],
        batch_size=BATCH,
    )
    return Fleet(
        day, team, dispatcher, [t.pk for t in technicians], assigned, calls - assigned, tuple(made)
    )


def _users(techs: int) -> tuple[User, list[User]]:
    password = make_password("bench-pass")  # noqa: S106 - hashed once, shared by every login
    users = User.objects.bulk_create(
        [User(username="bench-dispatcher", first_name="Dana", password=password)]
        + [User(username=f"bench-tech-{i:04d}", password=password) for i in range(techs)],
        batch_size=BATCH,
    )
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in roles.ALL_ROLES}
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=users[0].pk, group_id=groups[roles.DISPATCHER].pk)]
        + [
            User.groups.through(user_id=u.pk, group_id=groups[roles.TECHNICIAN].pk)
            for u in users[1:]
        ],
        batch_size=BATCH,
    )
    return users[0], users[1:]


def _point(rng: random.Random) -> tuple[float, float]:
    return round(rng.uniform(*LAT), 5), round(rng.uniform(*LNG), 5)


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, ZoneInfo(settings.TIME_ZONE))


def _technicians(rng, teams, users, skills, day) -> tuple[list[Technician], dict[int, str]]:
    rows = []
    for i, user in enumerate(users):
        home = _point(rng)
        shift = SHIFTS[i % len(SHIFTS)]
        status = rng.choices(("available", "en_route", "on_site"), weights=(80, 10, 10))[0]
        rows.append(
            Technician(
                user=user,
                name=f"{rng.choice(SURNAMES)} {i:04d}",
                team=teams[i * len(teams) // len(users)],
                home_lat=home[0],
                home_lng=home[1],
                shift_start=shift[0],
                shift_end=shift[1],
                status=status,
            )
        )
    technicians = Technician.objects.bulk_create(rows, batch_size=BATCH)
    Technician.skills.through.objects.bulk_create(
        [
            Technician.skills.through(technician_id=t.pk, skill_id=s.pk)
            for t in technicians
            for s in rng.sample(skills, 2)
        ],
        batch_size=BATCH,
    )
    working = {t.pk: t.status for t in technicians if t.status != "available"}
    return technicians, working


def _sites(rng: random.Random, count: int) -> list[Site]:
    customers = Customer.objects.bulk_create(
        [
            Customer(
                name=f"{rng.choice(SURNAMES)} {rng.choice(('Household', 'Bakery', 'Apartments'))}",
                contract=rng.choice(("time_and_materials", "full_service")),
                phone=f"773-555-{rng.randrange(10000):04d}",
            )
            for _ in range(count)
        ],
        batch_size=BATCH,
    )
    sites = []
    for customer in customers:
        for _ in range(2 if rng.random() < 0.2 else 1):
            lat, lng = _point(rng)
            address = f"{rng.randint(100, 9999)} {rng.choice(STREETS)}, Chicago, IL"
            sites.append(Site(customer=customer, address=address, lat=lat, lng=lng))
    return Site.objects.bulk_create(sites, batch_size=BATCH)


def _call(rng: random.Random, day: date, site: Site, **fields) -> ServiceCall:
    return ServiceCall(
        customer_id=site.customer_id,
        site=site,
        summary=rng.choice(SUMMARIES),
        priority=rng.choices(("emergency", "high", "normal", "low"), weights=(2, 15, 68, 15))[0],
        duration_minutes=rng.choice((30, 45, 60, 60, 90)),
        scheduled_day=day,
        tracking_token=f"bench{rng.getrandbits(96):024x}",
        **fields,
    )


def _window(rng: random.Random, day: date) -> dict:
    kind = rng.random()
    if kind < 0.4:  # a booked window: arrive from its start, finish by its deadline
        start = _local(day, time(rng.randint(8, 15)))
        return {"window_start": start, "deadline": start + timedelta(hours=rng.choice((2, 3, 4)))}
    if kind < 0.8:
        return {"deadline": _local(day, time(rng.randint(11, 18), rng.choice((0, 30))))}
    return {}


def _queued_call(rng, day, sites, technicians) -> ServiceCall:
    tech = rng.choice(technicians)
    return _call(
        rng, day, rng.choice(sites), technician=tech, status="assigned", **_window(rng, day)
    )


def _number_queues(rows: list[ServiceCall], working: dict[int, str]) -> None:
    """Dense positions per technician; a working technician's first call is under way."""
    seen: dict[int, int] = {}
    for call in rows:
        position = seen.get(call.technician_id, 0)
        seen[call.technician_id] = position + 1
        call.position = position
        state = working.get(call.technician_id)
        if position == 0 and state:
            # Started 10 minutes into the shift: by noon every job on site is overrunning.
            started = _local(call.scheduled_day, call.technician.shift_start) + timedelta(
                minutes=10
            )
            call.status = state
            call.en_route_at = started - timedelta(minutes=25)
            call.started_at = started if state == "on_site" else None


def _unassigned_call(rng, day, sites) -> ServiceCall:
    # Always a deadline: time passing changes an unassigned call's slack too.
    window = _window(rng, day)
    if "deadline" not in window:
        window["deadline"] = _local(day, time(rng.randint(12, 18)))
    return _call(rng, day, rng.choice(sites), status="new", **window)


# --- the bench database --------------------------------------------------------------------------

# Kept across wipes: migration state and the role groups a data migration made.
KEEP_TABLES = {"django_content_type", "auth_permission", "auth_group", "auth_group_permissions"}


def database_prepare() -> str:
    """Create the bench database if missing and migrate it; refuses any non-bench database."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql" or "bench" not in db["NAME"]:
        raise SystemExit(f"refusing to benchmark in {db['NAME']!r}: it must be a *bench* database")
    admin = psycopg2.connect(
        dbname="postgres",
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
    admin.close()
    call_command("migrate", verbosity=0, interactive=False)
    return db["NAME"]


def data_wipe() -> None:
    """Every row the product and the benches write, in one TRUNCATE; ids restart at 1."""
    tables = [
        t
        for t in connection.introspection.django_table_names(only_existing=True)
        if t not in KEEP_TABLES
    ]
    with connection.cursor() as cursor:
        quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
        cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")  # noqa: S608 - table names
