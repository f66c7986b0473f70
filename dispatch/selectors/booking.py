"""Booking windows the honest way: arrival windows that really fit the board (read-only).

`booking_offers` tries the new call in every qualified technician's queue on today's and
tomorrow's board, once per arrival window, and keeps a window only where the planning core
(``dispatch.planning.booking``) says it fits: the new call arrives inside it with the risk margin
to spare and inside the shift, and its ripple is harmless (no other call turns at risk or late,
no promise breaks, nobody is pushed into overtime). Normal calls may not eat the emergency
reserve (capacity); emergencies may.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from common import clock, roles
from common.errors import InvalidInput, NotAllowed
from dispatch.models import ServiceCall
from dispatch.planning.booking import QueueOdds, window_fit
from dispatch.planning.eligibility import unable
from dispatch.planning.eta import Stop
from dispatch.planning.odds import queue_odds
from dispatch.selectors.capacity import DayCapacity, capacity_days, reserve_refusal, team_load
from dispatch.selectors.durations import learned_durations
from dispatch.selectors.planning import (
    place_of,
    planning_rules,
    promises_of,
    queued_from,
    route_of,
    shift_bounds,
    travel_provider,
    utc_datetime,
    worker_of,
)
from technicians.models import Team, Technician

NEW = 0  # the id the call being booked has in the engine (real ids are positive)


@dataclass(frozen=True)
class BookingNeed:
    """What the new call needs, as the engine and the capacity rules see it."""

    location: tuple[float, float]
    skills: frozenset[str]
    duration_minutes: int
    priority: str


@dataclass(frozen=True)
class Offer:
    day: date
    window_start: datetime
    window_end: datetime
    technician: Technician
    position: int  # 0-based, as the move service takes it
    arrival: datetime  # planned arrival at the door (after any wait): what is promised
    travel_added_minutes: float

    @property
    def key(self) -> str:
        """How a form names this window (the technician is re-checked, not trusted)."""
        return f"{self.window_start.isoformat()}|{self.window_end.isoformat()}"


@dataclass
class Offers:
    offers: list[Offer]
    capacity: list[DayCapacity]
    # Days with no offer and why, in words: "Wed 11 Mar: only 20 min left outside the reserve".
    refusals: dict[date, str] = field(default_factory=dict)

    def find(self, key: str) -> Offer | None:
        return next((o for o in self.offers if o.key == key), None)


# --- the window search ------------------------------------------------------------------------


def booking_days(now: datetime) -> list[date]:
    today = timezone.localdate(now)
    return [today, today + timedelta(days=1)]


def booking_offers(*, user, team: Team | None, need: BookingNeed, now: datetime | None = None):
    """Feasible arrival windows on today's and tomorrow's board, best (earliest) first."""
    if not roles.can_book(user):
        raise NotAllowed("Only CSRs, dispatchers and managers can book calls.")
    _check_need(need)
    now = now or clock.now()
    if team is None:
        raise InvalidInput("Choose the team whose board the call goes on.", field="team")
    days = booking_days(now)
    load = team_load(team=team, days=days)
    techs, calls = load.technicians, load.calls
    result = Offers(offers=[], capacity=[])
    for day, capacity in zip(days, capacity_days(load=load, days=days, now=now), strict=True):
        result.capacity.append(capacity)
        refusal = reserve_refusal(
            capacity,
            skills=need.skills,
            duration_minutes=need.duration_minutes,
            priority=need.priority,
        )
        day_offers = [] if refusal else _offers_for_day(day, techs, calls, need, now)
        if not refusal and not day_offers:
            refusal = "no window fits the board without making a call late or into overtime."
        if refusal:
            result.refusals[day] = refusal
        result.offers.extend(day_offers)
    return result


def _check_need(need: BookingNeed) -> None:
    if not 0 < need.duration_minutes <= 24 * 60:
        raise InvalidInput("Duration must be 1 to 1440 minutes.", field="duration_minutes")


def _qualified(tech: Technician, need: BookingNeed, day: date, now: datetime) -> bool:
    # The eligibility rule: every skill, and still working (not marked off, shift not over).
    worker = worker_of(tech, {s.code for s in tech.skills.all()}, day, now)
    return not unable(worker, need.skills, now=now.timestamp())


def _windows(day: date, techs: list[Technician], now: datetime) -> list[tuple[datetime, datetime]]:
    """Back-to-back windows from the earliest shift start to the latest shift end."""
    if not techs:
        return []
    length = timedelta(minutes=settings.BOOKING_WINDOW_MINUTES)
    start = min(shift_bounds(day, t.shift_start, t.shift_end)[0] for t in techs)
    end = max(shift_bounds(day, t.shift_start, t.shift_end)[1] for t in techs)
    windows = []
    while start < end:
        if start + length > now:
            windows.append((start, start + length))
        start += length
    return windows


def _offers_for_day(day, techs, calls, need: BookingNeed, now: datetime) -> list[Offer]:
    queues: dict[int, list[ServiceCall]] = defaultdict(list)
    for call in calls:
        if call.scheduled_day == day and call.technician_id and call.position is not None:
            queues[call.technician_id].append(call)
    qualified = [t for t in techs if _qualified(t, need, day, now)]
    travel, rules, learned = travel_provider(), planning_rules(), learned_durations()
    promises = promises_of((c.pk, c.promised_eta) for c in calls)
    best: dict[tuple[datetime, datetime], Offer] = {}
    windows = _windows(day, qualified, now)  # one grid for the team, so offers never overlap
    for tech in qualified:
        route = route_of(place_of(tech), [queued_from(c) for c in queues[tech.pk]], day, now)
        base = route.plan(travel)
        spreads = [learned.job(c.category_id, tech.pk) for c in queues[tech.pk]]
        odds = QueueOdds(
            queue_odds(
                route.start_at, base, route.stops, spreads, learned.travel,
                now=now.timestamp(), first_on_site_since=route.first_on_site_since,
            ),
            learned.travel,
        )  # fmt: skip
        for window in windows:
            new = Stop(
                NEW,
                need.location,
                need.duration_minutes * 60.0,
                window[0].timestamp(),
                window[1].timestamp(),
            )
            fit = window_fit(
                route, new, travel, rules=rules, promises=promises, base=base, odds=odds
            )
            if fit is None:
                continue
            offer = Offer(
                day=day,
                window_start=window[0],
                window_end=window[1],
                technician=tech,
                position=fit.position,
                # At the door: a technician early for the window waits for it (the leg's start).
                arrival=utc_datetime(fit.leg.start),
                travel_added_minutes=round(fit.travel_added / 60.0, 1),
            )
            if window not in best or _rank(offer) < _rank(best[window]):
                best[window] = offer
    return sorted(best.values(), key=lambda o: (o.window_start, _rank(o)))


def _rank(offer: Offer) -> tuple:
    return (offer.travel_added_minutes, offer.arrival, offer.technician.name)
