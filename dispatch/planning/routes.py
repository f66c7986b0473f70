"""A technician's queue as the planner sees it, and the one rule for where their day starts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from dispatch.planning.eta import Leg, Location, Stop, Travel, plan_route

# Calls a technician has already set out for or started: they stay first in the queue, and
# nothing new is put ahead of them.
WORKING_STATUSES = ("en_route", "on_site")


@dataclass(frozen=True, slots=True)
class Route:
    """One technician's queue as the engine sees it, plus where new work may go."""

    start_at: float
    origin: Location
    stops: Sequence[Stop]
    shift_end: float
    floor: int = 0  # first position a new call may take: after work under way
    first_on_site_since: float | None = None

    def plan(self, travel: Travel) -> list[Leg]:
        return plan_route(
            self.start_at,
            self.origin,
            self.stops,
            travel,
            first_on_site_since=self.first_on_site_since,
        )

    def with_stops(self, stops: Sequence[Stop]) -> Route:
        return replace(self, stops=stops)

    def starting_by(self, now: float) -> Route:
        """The queue planned from ``now`` at the latest: an on-call technician called out before
        their shift starts sets off now, not at the shift start (from where the day starts)."""
        return self if self.start_at <= now else replace(self, start_at=now)

    def index_of(self, stop_id: object) -> int | None:
        return next((i for i, s in enumerate(self.stops) if s.id == stop_id), None)

    def without(self, stop_id: object) -> Route:
        """The queue with one call taken out. Taking out work under way (the call on site, or
        one set out for) frees the technician from it: the next call is then planned from the
        start, not as on site, and the floor drops by one."""
        index = self.index_of(stop_id)
        if index is None:
            return self
        stops = [s for s in self.stops if s.id != stop_id]
        if index >= self.floor:
            return self.with_stops(stops)
        on_site = None if index == 0 else self.first_on_site_since
        return replace(self, stops=stops, floor=self.floor - 1, first_on_site_since=on_site)


@dataclass(frozen=True, slots=True)
class Start:
    """Where and when a technician's day is planned from (times in seconds)."""

    home: Location
    last: Location | None  # last reported position
    last_seen_at: float | None
    shift_start: float
    shift_end: float


def route_start(start: Start, now: float, fresh_for: float) -> tuple[float, Location]:
    """Start time and place: the later of now and the shift start; the last known position if
    it is fresh and the technician is on shift, else home base."""
    on_shift = start.shift_start <= now <= start.shift_end
    fresh = start.last_seen_at is not None and start.last_seen_at >= now - fresh_for
    origin = start.last if start.last is not None and fresh and on_shift else start.home
    return max(now, start.shift_start), origin


def first_free_position(statuses: Sequence[str]) -> int:
    """The first place a new call may take: after the work already under way."""
    floor = 0
    while floor < len(statuses) and statuses[floor] in WORKING_STATUSES:
        floor += 1
    return floor


def route_build(
    start: Start,
    stops: Sequence[Stop],
    statuses: Sequence[str],
    *,
    now: float,
    fresh_for: float,
    on_site_since: float | None,
) -> Route:
    """A queue in order with its statuses; ``on_site_since`` when the first call is on site."""
    start_at, origin = route_start(start, now, fresh_for)
    return Route(
        start_at=start_at,
        origin=origin,
        stops=stops,
        shift_end=start.shift_end,
        floor=first_free_position(statuses),
        first_on_site_since=on_site_since,
    )
