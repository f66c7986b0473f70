"""The offline fallback: "1200 N Halsted St" to a point on Halsted St, from streets.py alone.

An address is a house number, a direction (N, S, E or W; optional when only one side of the
grid has that number on the street) and a street name, with or without its suffix ("Halsted",
"Halsted St", "Halsted Street"); ", Chicago, IL 60642" after it is ignored. A number beyond the
street's ends, a direction across the street (W on a north-south street) or a street not in the
list matches nothing.
"""

from __future__ import annotations

import re

from customers.geocoding.matches import Match
from customers.geocoding.streets import (
    LAT_PER_MILE,
    LNG_PER_MILE,
    ORIGIN_LAT,
    ORIGIN_LNG,
    PER_MILE,
    STREETS,
    Street,
)

CITY = "Chicago, IL"
_DIRECTIONS = {"N": "N", "NORTH": "N", "S": "S", "SOUTH": "S", "E": "E", "EAST": "E"}
_DIRECTIONS |= {"W": "W", "WEST": "W"}
_SUFFIXES = {
    "ST": "ST", "STREET": "ST", "AVE": "AVE", "AV": "AVE", "AVENUE": "AVE", "RD": "RD",
    "ROAD": "RD", "BLVD": "BLVD", "BOULEVARD": "BLVD", "DR": "DR", "DRIVE": "DR",
    "PKWY": "PKWY", "PARKWAY": "PKWY",
}  # fmt: skip
_PLACE_WORDS = {"CHICAGO", "IL", "ILLINOIS", "USA", "US"}
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_NUMBER = re.compile(r"^(\d{1,6})$")
# Where each direction points in the grid (x east, y north).
_SIGN = {"N": 1, "S": -1, "E": 1, "W": -1}
_AXIS_OF = {"N": "ns", "S": "ns", "E": "ew", "W": "ew"}


def _words(text: str) -> list[str]:
    words = re.sub(r"[^A-Za-z0-9 ]+", " ", text.replace("'", "")).upper().split()
    words = [_SUFFIXES.get(w, w) for w in words if w not in _PLACE_WORDS and not _ZIP.match(w)]
    if words[-2:] == ["MARTIN", "LUTHER"] or "MLK" in words:
        words = [w for w in words if w not in ("MARTIN", "LUTHER", "MLK", "JR")] + ["KING"]
    return words


def _key(street: Street) -> tuple[list[str], list[str]]:
    words = _words(street.name)
    base = words[:-1] if words[-1] in _SUFFIXES.values() and len(words) > 1 else words
    return words, base


def _streets_named(words: list[str]) -> list[Street]:
    exact, prefix = [], []
    for street in STREETS:
        full, base = _key(street)
        if words in (full, base):
            exact.append(street)
        elif words[: len(full)] == full:
            prefix.append(street)  # "Halsted St Apt 3": the unit is not ours to place
    return exact or prefix


def _point(street: Street, along: int) -> tuple[float, float] | None:
    """The grid point at number `along` (signed) on the street; None off its ends."""
    k = 1 if street.axis == "ns" else 0
    for a, b in zip(street.points, street.points[1:], strict=False):
        if a[k] <= along <= b[k]:
            t = 0.0 if b[k] == a[k] else (along - a[k]) / (b[k] - a[k])
            return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
    return None


def grid_to_lat_lng(x: float, y: float) -> tuple[float, float]:
    lat = ORIGIN_LAT + y / PER_MILE * LAT_PER_MILE
    lng = ORIGIN_LNG + x / PER_MILE * LNG_PER_MILE
    return round(lat, 6), round(lng, 6)


def _parse(text: str) -> tuple[int, str | None, list[str]] | None:
    words = _words(text)
    if len(words) < 2 or not _NUMBER.match(words[0]):
        return None
    number, rest = int(words[0]), words[1:]
    direction = _DIRECTIONS.get(rest[0]) if len(rest) > 1 else None
    if direction:
        rest = rest[1:]
    return number, direction, rest


def search(text: str, *, limit: int = 5) -> list[Match]:
    parsed = _parse(text)
    if parsed is None:
        return []
    number, direction, name = parsed
    matches = []
    for street in _streets_named(name):
        sides = [direction] if direction else (["N", "S"] if street.axis == "ns" else ["W", "E"])
        for side in sides:
            if _AXIS_OF[side] != street.axis:
                continue
            point = _point(street, _SIGN[side] * number)
            if point is None:
                continue
            lat, lng = grid_to_lat_lng(*point)
            label = f"{number} {side} {street.name}, {CITY}"
            matches.append(Match(label=label, lat=lat, lng=lng, source="offline"))
    return matches[:limit]
