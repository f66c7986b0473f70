"""Booking a call the honest way: arrival windows that really fit the board, then the booking.

`booking_offers` tries the new call in every place of every qualified technician's queue on
today's and tomorrow's board, once per arrival window, and keeps a window only when the engine
says it fits: the new call arrives inside it with the risk margin to spare, no other call turns
at risk or late, no promise to another customer breaks, nobody is pushed into overtime. Normal
calls may not eat the emergency reserve (capacity.py); emergencies may.

`booking_book` books through one of those windows (checked again, under lock, inside the
booking's transaction) or, with an override reason, through a window of the CSR's own; then it
assigns through the move service or leaves the call for the dispatcher.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from customers.models import Customer, Site
from dispatch import clock, roles
from dispatch.errors import InvalidInput, MoveConflict, NotAllowed
from dispatch.models import CallCategory, ServiceCall, TurnedAwayCall
from dispatch.services.calls import call_book
from dispatch.services.capacity import (
    DayCapacity,
    capacity_days,
    reserve_refusal,
    team_load,
    works_rest_of_today,
)
from dispatch.services.moves import call_move_within, with_retries
from dispatch.services.queues import (
    EtaFields,
    QueuedCall,
    first_free_position,
    place_of,
    plan_queue,
    queued_from,
    shift_bounds,
    starting_point,
    travel_provider,
)
from dispatch.services.risk import RISK_RANK
from technicians.models import Skill, Team, Technician

HAZARDS = {
    "live_wire": "Live wire or sparking",
    "gas_smell": "Smell of gas",
    "flooding": "Flooding",
}
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
    if not need.skills <= {s.code for s in tech.skills.all()}:
        return False
    if day == timezone.localdate(now):
        # Marked off during the shift, or the shift is over: nobody to promise a window with.
        return works_rest_of_today(tech, now)
    return True


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
    travel = travel_provider()
    best: dict[tuple[datetime, datetime], Offer] = {}
    windows = _windows(day, qualified, now)  # one grid for the team, so offers never overlap
    for tech in qualified:
        queue = queues[tech.pk]
        before = plan_queue(place_of(tech), [queued_from(c) for c in queue], day, now, travel)
        for window in windows:
            offer = _best_place(tech, queue, before, window, need, day, now, travel)
            if offer and (window not in best or _rank(offer) < _rank(best[window])):
                best[window] = offer
    return sorted(best.values(), key=lambda o: (o.window_start, _rank(o)))


def _rank(offer: Offer) -> tuple:
    return (offer.travel_added_minutes, offer.arrival, offer.technician.name)


def _best_place(tech, queue, before, window, need, day, now, travel) -> Offer | None:
    """The least-travel place in one queue where the call fits this window, if any."""
    found: Offer | None = None
    for position in range(first_free_position(queue), len(queue) + 1):
        if position and before[queue[position - 1].pk].planned_finish > window[1]:
            break  # the stop before already finishes after the window: later places do too
        offer = _try_place(tech, queue, before, position, window, need, day, now, travel)
        if offer and (found is None or _rank(offer) < _rank(found)):
            found = offer
    return found


def _try_place(tech, queue, before, position, window, need, day, now, travel) -> Offer | None:
    new = QueuedCall(
        NEW, need.location, need.duration_minutes, window[0], window[1], "assigned", None
    )
    order = [queued_from(c) for c in queue]
    order.insert(position, new)
    after = plan_queue(place_of(tech), order, day, now, travel)
    if not _fits(after, before, queue):
        return None
    prev = order[position - 1].location if position else _origin(tech, day, now)
    nxt = order[position + 1].location if position + 1 < len(order) else None
    added = travel(prev, need.location)
    if nxt is not None:
        added += travel(need.location, nxt) - travel(prev, nxt)
    return Offer(
        day=day,
        window_start=window[0],
        window_end=window[1],
        technician=tech,
        position=position,
        # At the door: a technician early for the window waits for it (the engine's `start`).
        arrival=after[NEW].planned_start,
        travel_added_minutes=round(added / 60.0, 1),
    )


def _origin(tech, day, now):
    return starting_point(place_of(tech), now, shift_bounds(day, tech.shift_start, tech.shift_end))


def _fits(after: dict[int, EtaFields], before: dict[int, EtaFields], queue) -> bool:
    """The new call on time with margin, and nobody else any worse off."""
    mine = after[NEW]
    if mine.risk != "ok" or mine.overtime:
        return False
    for call in queue:
        old, new = before[call.pk], after[call.pk]
        if RISK_RANK[new.risk] > RISK_RANK[old.risk] or (new.overtime and not old.overtime):
            return False
        if _breaks_promise(call, old, new):
            return False
    return True


def _breaks_promise(call: ServiceCall, before: EtaFields, after: EtaFields) -> bool:
    if call.promised_eta is None or before.eta is None or after.eta is None:
        return False
    tolerance = timedelta(minutes=settings.PROMISE_TOLERANCE_MINUTES)
    kept = abs(before.eta - call.promised_eta) <= tolerance
    return kept and abs(after.eta - call.promised_eta) > tolerance


# --- booking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCustomer:
    name: str
    contract: str
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class NewSite:
    address: str
    lat: float
    lng: float
    label: str = ""


@dataclass(frozen=True)
class CallDetails:
    summary: str
    description: str = ""
    priority: str = "normal"
    hazards: tuple[str, ...] = ()
    category: CallCategory | None = None
    duration_minutes: int | None = None  # None: the category's usual length
    skills: tuple[Skill, ...] | None = None  # None: the category's skills

    @property
    def effective_priority(self) -> str:
        return "emergency" if self.hazards else self.priority


@dataclass(frozen=True)
class WindowChoice:
    """An offered window (`offer_key`), or the CSR's own window with an override reason."""

    offer_key: str = ""
    technician_id: int | None = None  # the technician the CSR saw with the offer
    window_start: datetime | None = None
    window_end: datetime | None = None
    override_reason: str = ""
    assign: bool = True


def call_details_resolved(details: CallDetails) -> tuple[int, list[Skill]]:
    """Duration and skills: what the CSR typed, else the category's defaults."""
    category = details.category
    duration = details.duration_minutes
    if duration is None:
        if category is None:
            raise InvalidInput("Give the duration or choose a category.", "duration_minutes")
        duration = category.default_duration_minutes
    if details.skills is not None:
        skills = list(details.skills)
    else:
        skills = list(category.skills.all()) if category else []
    return duration, skills


def booking_need_for(site: Site, details: CallDetails) -> tuple[BookingNeed, list[Skill]]:
    """What the window search needs to know of a call at `site`, and the skills it brings."""
    duration, skills = call_details_resolved(details)
    need = BookingNeed(
        (site.lat, site.lng),
        frozenset(s.code for s in skills),
        duration,
        details.effective_priority,
    )
    return need, skills


def booking_book(**kwargs: Any) -> ServiceCall:
    """Book a call through an offered window (or an override) and, if asked, assign it."""
    return with_retries(lambda: _booking_book(**kwargs))


@transaction.atomic
def _booking_book(
    *,
    user,
    team: Team | None,
    customer: Customer | NewCustomer,
    site: Site | NewSite,
    details: CallDetails,
    choice: WindowChoice,
    now: datetime | None = None,
) -> ServiceCall:
    if not roles.can_book(user):
        raise NotAllowed("Only CSRs, dispatchers and managers can book calls.")
    now = now or clock.now()
    _check_details(details)
    customer = _customer(customer)
    site = _site(site, customer)
    need, skills = booking_need_for(site, details)
    if choice.offer_key:
        return _book_offer(user, team, customer, site, details, need, skills, choice, now)
    return _book_override(user, customer, site, details, need, skills, choice, now)


def _check_details(details: CallDetails) -> None:
    if not details.summary.strip():
        raise InvalidInput("Say in a few words what the problem is.", field="summary")
    unknown = set(details.hazards) - set(HAZARDS)
    if unknown:
        raise InvalidInput(f"Unknown hazard: {', '.join(sorted(unknown))}.", field="hazards")
    if details.priority not in ServiceCall.PRIORITY_RANK:
        raise InvalidInput(f"Unknown priority '{details.priority}'.", field="priority")


def _customer(customer: Customer | NewCustomer) -> Customer:
    if isinstance(customer, Customer):
        return customer
    if not customer.name.strip():
        raise InvalidInput("Give the customer's name.", field="customer_name")
    if customer.contract not in Customer.Contract.values:
        raise InvalidInput("Choose the customer's contract.", field="contract")
    return Customer.objects.create(
        name=customer.name.strip(),
        contract=customer.contract,
        phone=customer.phone.strip(),
        email=customer.email.strip(),
    )


def _site(site: Site | NewSite, customer: Customer) -> Site:
    if isinstance(site, Site):
        if site.customer_id != customer.pk:
            raise InvalidInput(f"Site {site.pk} does not belong to {customer.name}.", "site")
        return site
    if not site.address.strip():
        raise InvalidInput("Give the site's address.", field="address")
    if not (-90 <= site.lat <= 90 and -180 <= site.lng <= 180):
        raise InvalidInput("The site's latitude and longitude are out of range.", field="lat")
    return Site.objects.create(
        customer=customer,
        address=site.address.strip(),
        lat=site.lat,
        lng=site.lng,
        label=site.label,
    )


def _lock_team(team: Team) -> None:
    # In id order, like every move: two CSRs taking the last window of a team queue up here, and
    # the second one sees the board the first one left.
    list(Technician.objects.select_for_update().filter(team=team).order_by("id").values_list("id"))


def _book_offer(user, team, customer, site, details, need, skills, choice, now) -> ServiceCall:
    if team is None:
        raise InvalidInput("Choose the team whose board the call goes on.", field="team")
    _lock_team(team)
    offers = booking_offers(user=user, team=team, need=need, now=now)
    offer = offers.find(choice.offer_key)
    if offer is None:
        raise MoveConflict(
            "That window is no longer free: the board changed while you were booking. "
            "Here are the windows as they are now."
        )
    if choice.assign and choice.technician_id and choice.technician_id != offer.technician.pk:
        raise MoveConflict(
            f"That window now goes to {offer.technician.name}, not the technician you saw. "
            "Check the windows again and pick one."
        )
    call = call_book(
        user=user,
        customer=customer,
        site=site,
        summary=details.summary.strip(),
        description=details.description,
        scheduled_day=offer.day,
        duration_minutes=need.duration_minutes,
        priority=need.priority,
        skills=skills,
        window_start=offer.window_start,
        deadline=offer.window_end,
        promised_eta=offer.arrival,
        now=now,
        booking=_booking_payload(details, offers, offer=offer, assign=choice.assign),
    )
    if choice.assign:
        call_move_within(
            user=user,
            call_id=call.pk,
            technician_id=offer.technician.pk,
            position=offer.position,
            expected_version=call.version,
            now=now,
        )
        call.refresh_from_db()
    return call


def _book_override(user, customer, site, details, need, skills, choice, now) -> ServiceCall:
    if not choice.override_reason.strip():
        raise InvalidInput(
            "A window outside the offered ones needs an override reason (it is logged).",
            field="override_reason",
        )
    start, end = choice.window_start, choice.window_end
    if start is None or end is None:
        raise InvalidInput("Give the window's start and end.", field="window_start")
    if end <= start:
        raise InvalidInput("The window must end after it starts.", field="window_end")
    if end <= now:
        raise InvalidInput("That window is already over.", field="window_end")
    # Nobody was planned for this window, so nothing is promised beyond the window itself and
    # the call waits, unassigned, for the dispatcher to place it.
    return call_book(
        user=user,
        customer=customer,
        site=site,
        summary=details.summary.strip(),
        description=details.description,
        scheduled_day=timezone.localdate(start),
        duration_minutes=need.duration_minutes,
        priority=need.priority,
        skills=skills,
        window_start=start,
        deadline=end,
        now=now,
        booking=_booking_payload(
            details, None, override_reason=choice.override_reason.strip()[:500], assign=False
        ),
    )


def _booking_payload(details, offers, *, offer=None, override_reason="", assign=False) -> dict:
    payload: dict[str, Any] = {
        "category": details.category.code if details.category else None,
        "hazards": list(details.hazards),
        "assign": assign,
    }
    if offers is not None:
        payload["windows_offered"] = len(offers.offers)
    if offer is not None:
        payload["offer"] = {
            "window_start": offer.window_start,
            "window_end": offer.window_end,
            "technician": offer.technician.pk,
            "position": offer.position,
            "arrival": offer.arrival,
        }
    if override_reason:
        payload["override_reason"] = override_reason
    return payload


# --- turned away ------------------------------------------------------------------------------


@transaction.atomic
def turned_away_record(
    *,
    user,
    reason: str,
    note: str = "",
    customer: Customer | None = None,
    caller_name: str = "",
    summary: str = "",
    category: CallCategory | None = None,
    priority: str = "normal",
    team: Team | None = None,
    windows_offered: int = 0,
    now: datetime | None = None,
) -> TurnedAwayCall:
    """Record a caller we could not book, with the reason: the dashboard counts them."""
    if not roles.can_book(user):
        raise NotAllowed("Only CSRs, dispatchers and managers record turned-away calls.")
    if reason not in TurnedAwayCall.Reason.values:
        raise InvalidInput("Choose why the call was turned away.", field="reason")
    if reason == TurnedAwayCall.Reason.OTHER and not note.strip():
        raise InvalidInput("Say why in the note when the reason is 'other'.", field="note")
    if customer is None and not caller_name.strip():
        raise InvalidInput("Give the caller's name or choose the customer.", field="caller_name")
    if priority not in ServiceCall.PRIORITY_RANK:
        raise InvalidInput(f"Unknown priority '{priority}'.", field="priority")
    return TurnedAwayCall.objects.create(
        reason=reason,
        note=note.strip()[:2000],
        customer=customer,
        caller_name=caller_name.strip()[:200],
        summary=summary.strip()[:200],
        category=category,
        priority=priority,
        team=team,
        windows_offered=windows_offered,
        recorded_by=user,
        created_at=now or clock.now(),
    )
