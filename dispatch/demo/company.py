"""The company's people and customers: technicians per team, customers and their sites.

Everything is placed on land inside its team's region (west of the lake shore), so travel times
and the map look like Chicago; names are unique so the demo reads like real records.
"""

from __future__ import annotations

import random

from dispatch.demo.plan import CustomerSpec, Location, SiteSpec, TechSpec
from dispatch.demo.reference import (
    BUSINESS_KINDS,
    CUSTOMER_COUNT,
    CUSTOMER_FIRST_NAMES,
    CUSTOMER_LAST_NAMES,
    FIRST_NAMES,
    LAST_NAMES,
    REGIONS,
    SHIFTS,
    SHORE,
    SKILL_SETS,
    SKILLS,
    TECHNICIAN_COUNT,
    WEST_LNG,
    Region,
)


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
