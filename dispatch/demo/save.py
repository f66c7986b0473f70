"""Clearing out the old demo and saving the new company: logins, skills, teams, customers, sites.

Rows are written in bulk (the demo is re-seeded often, and in tests), children deleted before
their parents because calls and sites protect what they point at.
"""

from __future__ import annotations

import functools

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import transaction

from common import roles
from customers.models import Customer, CustomerMessage, Site
from dispatch.demo.plan import DemoPlan
from dispatch.demo.reference import (
    OFFICE_USERS,
    PASSWORD,
    REGIONS,
    SKILLS,
    TECHNICIAN_COUNT,
)
from dispatch.models import (
    BacklogAlert,
    CallCategory,
    CallEvent,
    DayPlan,
    Escalation,
    ServiceCall,
    TurnedAwayCall,
)
from dispatch.services.events import audit_wipe_allowed
from technicians.models import HandoffOffer, OnCallShift, Skill, Team, TechAsk, Technician


def demo_usernames() -> list[str]:
    return [u[0] for u in OFFICE_USERS] + [f"tech{i + 1}" for i in range(TECHNICIAN_COUNT)]


def wipe() -> None:
    """Everything the demo builds, children first (calls and sites are PROTECTed). Call events
    are append-only: the wipe is the one place allowed to delete them, for this transaction."""
    with transaction.atomic(savepoint=False):  # SET LOCAL needs the transaction
        audit_wipe_allowed(True)
        CallEvent.objects.all().delete()
        audit_wipe_allowed(False)
    Escalation.objects.all().delete()
    TurnedAwayCall.objects.all().delete()
    BacklogAlert.objects.all().delete()
    CallCategory.objects.all().delete()
    # What a running demo adds (messages to customers, hand-offs, asks, day plans) protects
    # the calls and the logins: without these a second `make run` stopped at the wipe.
    CustomerMessage.objects.all().delete()
    HandoffOffer.objects.all().delete()
    TechAsk.objects.all().delete()
    DayPlan.objects.all().delete()  # plans of the old calls, made by demo logins
    ServiceCall.objects.all().delete()
    Site.objects.all().delete()
    Customer.objects.all().delete()
    OnCallShift.objects.all().delete()
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
