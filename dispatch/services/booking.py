"""Booking a call: through an offered window (the search is ``dispatch.selectors.booking``).

`booking_book` books through one of those windows (checked again, under lock, inside the
booking's transaction) or, with an override reason, through a window of the CSR's own; then it
assigns through the move service or leaves the call for the dispatcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from common import clock, roles
from common.errors import InvalidInput, MoveConflict, NotAllowed
from customers.models import Customer, Site
from dispatch.models import CallCategory, ServiceCall, TurnedAwayCall
from dispatch.selectors.booking import BookingNeed, Offer, Offers, booking_offers  # noqa: F401
from dispatch.services.calls import call_book
from dispatch.services.moves import call_move_within, with_retries
from technicians.models import Skill, Team, Technician

HAZARDS = {
    "live_wire": "Live wire or sparking",
    "gas_smell": "Smell of gas",
    "flooding": "Flooding",
}


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
        category=details.category,
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
        category=details.category,
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
