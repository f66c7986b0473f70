"""The demo city's streets (Chicago) for the offline fallback, in the city's own address grid.

Chicago numbers every address from two base lines: State St (0 east/west) and Madison St
(0 north/south), 800 numbers to the mile. A grid street is its line in that grid plus the span
of numbers it carries ("Halsted St" is the line 800 W, from 12000 S to 4000 N, so 1200 N Halsted
St is 1.5 miles north of Madison on it). A diagonal street (Lincoln, Milwaukee, Clark north of
North Ave ...) is a few points of the grid it passes through, and a number along it is placed
between them. offline.py turns grid points into latitude and longitude; good to a block or two,
which is what routing and travel times need.

Grid units: x grows to the east (W 800 is x = -800), y to the north (S 1200 is y = -1200).
"""

from __future__ import annotations

from dataclasses import dataclass

# Where the grid's origin (State and Madison) is, and degrees per 800 numbers (one mile).
ORIGIN_LAT = 41.88195
ORIGIN_LNG = -87.62780
LAT_PER_MILE = 0.014482
LNG_PER_MILE = 0.019417
PER_MILE = 800


@dataclass(frozen=True)
class Street:
    name: str  # as written after the direction: "Halsted St"
    axis: str  # "ns": runs north-south, numbered N/S; "ew": runs east-west, numbered E/W
    points: tuple[tuple[int, int], ...]  # grid (x, y) along the street, in numbering order

    @property
    def numbers(self) -> tuple[int, int]:
        k = 1 if self.axis == "ns" else 0
        values = [p[k] for p in self.points]
        return min(values), max(values)


def _ns(name: str, x: int, south: int, north: int) -> Street:
    return Street(name, "ns", ((x, -south), (x, north)))


def _ew(name: str, y: int, west: int, east: int) -> Street:
    return Street(name, "ew", ((-west, y), (east, y)))


def _diagonal(name: str, axis: str, *points: tuple[int, int]) -> Street:
    k = 1 if axis == "ns" else 0
    return Street(name, axis, tuple(sorted(points, key=lambda p: p[k])))


# North-south streets: (name, line: negative = west of State, south end, north end).
_NORTH_SOUTH = (
    ("State St", 0, 13000, 1500),
    ("Dearborn St", -36, 2600, 1500),
    ("LaSalle St", -140, 2200, 1600),
    ("Wells St", -200, 2200, 2000),
    ("Franklin St", -300, 2200, 1600),
    ("Canal St", -500, 3000, 600),
    ("Clinton St", -540, 2000, 600),
    ("Jefferson St", -600, 2400, 500),
    ("Desplaines St", -650, 1600, 900),
    ("Halsted St", -800, 12000, 4000),
    ("Sheffield Ave", -1000, 0, 4000),
    ("Morgan St", -1000, 3900, 900),
    ("Racine Ave", -1200, 8700, 4000),
    ("Southport Ave", -1400, 0, 4000),
    ("Loomis St", -1400, 11900, 1000),
    ("Ashland Ave", -1600, 11900, 7600),
    ("Paulina St", -1700, 7900, 7600),
    ("Wood St", -1800, 7900, 5000),
    ("Wolcott Ave", -1900, 2400, 6400),
    ("Damen Ave", -2000, 11900, 7600),
    ("Leavitt St", -2200, 3800, 6400),
    ("Oakley Ave", -2300, 3800, 6400),
    ("Western Ave", -2400, 11900, 7600),
    ("California Ave", -2800, 11900, 7600),
    ("Sacramento Ave", -3000, 6300, 7600),
    ("Kedzie Ave", -3200, 11900, 7600),
    ("Homan Ave", -3400, 7900, 3600),
    ("Central Park Ave", -3600, 7900, 6400),
    ("Hamlin Ave", -3800, 7900, 6400),
    ("Pulaski Rd", -4000, 11900, 7600),
    ("Keeler Ave", -4200, 7900, 6400),
    ("Kostner Ave", -4400, 7900, 6400),
    ("Cicero Ave", -4800, 11900, 7600),
    ("Laramie Ave", -5200, 2400, 6400),
    ("Central Ave", -5600, 6300, 7600),
    ("Austin Ave", -6000, 2400, 7600),
    ("Narragansett Ave", -6400, 6300, 7600),
    ("Harlem Ave", -7200, 6300, 7600),
    ("Wabash Ave", 45, 13000, 300),
    ("Michigan Ave", 100, 13000, 1000),
    ("Indiana Ave", 200, 13000, 0),
    ("Prairie Ave", 300, 13000, 1200),
    ("King Dr", 400, 11500, 2200),
    ("Cottage Grove Ave", 800, 13000, 2200),
    ("Ellis Ave", 1000, 9500, 3900),
    ("Woodlawn Ave", 1200, 9500, 4700),
    ("Dorchester Ave", 1400, 9500, 4700),
    ("Stony Island Ave", 1600, 13000, 5600),
    ("Jeffery Blvd", 2000, 9500, 6700),
    ("Yates Blvd", 2400, 10300, 7100),
)

# East-west streets: (name, line: positive = north of Madison, west end, east end).
_EAST_WEST = (
    ("Howard St", 7600, 7200, 1200),
    ("Touhy Ave", 7200, 7200, 1200),
    ("Devon Ave", 6400, 7200, 1200),
    ("Peterson Ave", 6000, 7200, 1200),
    ("Bryn Mawr Ave", 5600, 7200, 1000),
    ("Foster Ave", 5200, 7200, 800),
    ("Lawrence Ave", 4800, 7200, 800),
    ("Wilson Ave", 4600, 7200, 800),
    ("Montrose Ave", 4400, 7200, 800),
    ("Irving Park Rd", 4000, 7200, 600),
    ("Addison St", 3600, 7200, 400),
    ("Belmont Ave", 3200, 7200, 400),
    ("Diversey Ave", 2800, 7200, 400),
    ("Fullerton Ave", 2400, 7200, 400),
    ("Armitage Ave", 2000, 7200, 0),
    ("North Ave", 1600, 7200, 0),
    ("Division St", 1200, 7200, 100),
    ("Oak St", 1000, 1000, 100),
    ("Chicago Ave", 800, 7200, 200),
    ("Superior St", 732, 1800, 300),
    ("Huron St", 700, 1800, 300),
    ("Erie St", 660, 2400, 300),
    ("Ontario St", 628, 800, 300),
    ("Ohio St", 600, 2400, 300),
    ("Grand Ave", 530, 7200, 600),
    ("Kinzie St", 400, 4800, 300),
    ("Lake St", 200, 7200, 300),
    ("Randolph St", 150, 2400, 300),
    ("Washington Blvd", 100, 7200, 100),
    ("Madison St", 0, 7200, 100),
    ("Monroe St", -100, 7200, 300),
    ("Adams St", -200, 7200, 100),
    ("Jackson Blvd", -300, 7200, 100),
    ("Van Buren St", -400, 7200, 100),
    ("Congress Pkwy", -500, 1000, 100),
    ("Harrison St", -600, 7200, 0),
    ("Polk St", -800, 4800, 0),
    ("Taylor St", -1000, 2400, 0),
    ("Roosevelt Rd", -1200, 7200, 400),
    ("16th St", -1600, 4800, 0),
    ("Cermak Rd", -2200, 7200, 400),
    ("26th St", -2600, 7200, 400),
    ("31st St", -3100, 7200, 400),
    ("35th St", -3500, 7200, 800),
    ("Pershing Rd", -3900, 7200, 1000),
    ("43rd St", -4300, 7200, 1400),
    ("47th St", -4700, 7200, 1600),
    ("51st St", -5100, 7200, 1600),
    ("Garfield Blvd", -5500, 2400, 800),
    ("55th St", -5500, 7200, 1800),
    ("59th St", -5900, 7200, 1800),
    ("63rd St", -6300, 7200, 2000),
    ("67th St", -6700, 7200, 2400),
    ("71st St", -7100, 7200, 3000),
    ("75th St", -7500, 7200, 3000),
    ("79th St", -7900, 7200, 3000),
    ("83rd St", -8300, 7200, 3000),
    ("87th St", -8700, 7200, 3200),
    ("95th St", -9500, 7200, 3800),
    ("103rd St", -10300, 7200, 3800),
    ("111th St", -11100, 7200, 3800),
)

# Diagonals: grid points they pass through (approximate, a few per street).
_DIAGONALS = (
    _diagonal(
        "Clark St",
        "ns",
        (-100, -2200),
        (-100, 1600),
        (-400, 2400),
        (-700, 3200),
        (-1060, 3600),
        (-1500, 4800),
        (-1600, 5200),
        (-1700, 6400),
        (-1900, 7600),
    ),
    _diagonal(
        "Lincoln Ave",
        "ns",
        (-200, 1800),
        (-800, 2400),
        (-1600, 3200),
        (-2400, 4600),
        (-2600, 4800),
        (-3200, 6400),
        (-3600, 7600),
    ),
    _diagonal(
        "Milwaukee Ave",
        "ns",
        (-500, 200),
        (-1400, 800),
        (-1600, 1200),
        (-2000, 1600),
        (-3200, 2600),
        (-4000, 4000),
        (-4800, 4800),
        (-6200, 6400),
        (-7200, 7600),
    ),
    _diagonal(
        "Broadway",
        "ns",
        (-600, 2800),
        (-600, 3200),
        (-700, 3600),
        (-800, 4000),
        (-1200, 4800),
        (-1200, 6400),
    ),
    _diagonal(
        "Ogden Ave",
        "ns",
        (-1400, 800),
        (-1800, 0),
        (-2400, -1200),
        (-3200, -2400),
        (-4000, -3100),
    ),
    _diagonal(
        "Archer Ave",
        "ns",
        (0, -2000),
        (-1000, -2600),
        (-2400, -3100),
        (-4000, -3900),
        (-5600, -5100),
        (-7200, -5900),
    ),
    _diagonal(
        "Elston Ave",
        "ns",
        (-1400, 1200),
        (-2000, 1800),
        (-3200, 3200),
        (-4000, 4000),
        (-4800, 4800),
        (-5600, 5600),
    ),
    _diagonal(
        "Clybourn Ave",
        "ns",
        (-800, 1200),
        (-1600, 2000),
        (-2400, 2800),
        (-2800, 3100),
    ),
    _diagonal(
        "Blue Island Ave",
        "ns",
        (-800, -1000),
        (-1600, -1800),
        (-2400, -2600),
        (-2800, -3100),
    ),
)

STREETS: tuple[Street, ...] = (
    tuple(_ns(name, x, south, north) for name, x, south, north in _NORTH_SOUTH)
    + tuple(_ew(name, y, west, east) for name, y, west, east in _EAST_WEST)
    + _DIAGONALS
)
