"""How a plan is judged and told: the figures of a day (before and after), and every call a
plan changes. The same rules as a single move: the engine's legs, the risk margin, the promise
rule; travel counted as the engine drives it (plus the drive home when the plan pays for it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.planning.eta import Location, Stop, classify_risk, overtime
from dispatch.planning.ripple import at_door
from dispatch.planning.routes import Route


@dataclass(frozen=True, slots=True)
class Figures:
    late: int = 0
    at_risk: int = 0
    travel_minutes: float = 0.0
    overtime_minutes: float = 0.0
    calls_moved: int = 0
    promises_broken: int = 0
    waiting: int = 0  # calls nobody has (before: the unassigned list; after: nobody able)

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Change:
    call: object
    from_technician: object | None
    to_technician: object | None
    eta_before: float | None
    eta_after: float | None
    position_before: int | None
    position_after: int | None
    promise_broken: bool = False
    risk_before: str = ""
    risk_after: str = ""


def figures(day, routes, legs_of, waiting: Sequence[Stop], *, moved: int) -> Figures:
    world = day.world
    margin = world.rules.risk_margin
    late = at_risk = broken = 0
    travel = over = 0.0
    for t, legs in legs_of.items():
        route = routes[t]
        for leg in legs:
            risk = classify_risk(leg, margin)
            late += risk == "late"
            at_risk += risk == "at_risk"
            broken += leg.id in world.promises.at and not world.promises.kept(leg.id, at_door(leg))
        travel += route_travel(route, day.homes.get(t), world.travel, day.costs.drive_home)
        over += overtime(legs, route.shift_end)
    for stop in waiting:  # waiting calls: judged from now, as the board does
        if stop.deadline is not None:
            slack = stop.deadline - world.now
            late += slack < 0
            at_risk += 0 <= slack < margin
    minutes = round(travel / 60.0, 1), round(over / 60.0, 1)
    return Figures(late, at_risk, *minutes, moved, broken, len(waiting))


def route_travel(route: Route, home: Location | None, travel, drive_home: bool) -> float:
    stops = list(route.stops)
    if route.first_on_site_since is not None and stops:  # already there: the day goes on from it
        here, rest = stops[0].location, stops[1:]
    else:
        here, rest = route.origin, stops
    total = 0.0
    for stop in rest:
        total += travel(here, stop.location)
        here = stop.location
    if drive_home and home is not None and stops:
        total += travel(here, home)
    return total


def changes(day, routes, before, after) -> list[Change]:
    """Every call whose technician, place in the queue or ETA (by a minute or more) changes."""
    world, margin = day.world, day.world.rules.risk_margin
    was = {leg.id: (t, i, leg) for t, legs in before.items() for i, leg in enumerate(legs)}
    found = []
    for t, legs in after.items():
        for i, leg in enumerate(legs):
            old_t, old_i, old = was.get(leg.id, (None, None, None))
            eta_before = old.arrival if old else None
            moved_eta = old is None or abs(leg.arrival - old.arrival) >= 60
            if old_t == t and old_i == i and not moved_eta:
                continue
            found.append(
                Change(
                    leg.id, old_t, t, eta_before, leg.arrival, old_i, i,
                    world.promises.broken(leg.id, at_door(old), at_door(leg)),
                    classify_risk(old, margin) if old else "", classify_risk(leg, margin),
                )
            )  # fmt: skip
    return found
