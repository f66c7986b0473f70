"""Booking: offered windows really fit the board; the emergency reserve holds for normal calls
and opens for emergencies; overrides need a reason; turned-away calls are counted."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import transaction

from common.errors import InvalidInput, MoveConflict, NotAllowed
from customers.models import Site
from dispatch.models import CallCategory, CallEvent, ServiceCall, TurnedAwayCall
from dispatch.services.booking import (
    BookingNeed,
    CallDetails,
    NewCustomer,
    NewSite,
    WindowChoice,
    booking_book,
    booking_offers,
    turned_away_record,
)
from dispatch.services.etas import etas_refresh_day
from dispatch.services.risk import RISK_RANK
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db
NOW = local(7, 30)
TOMORROW = DAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def _morning(clock_at):
    clock_at(NOW)


def need(site, *codes, minutes=60, priority="normal") -> BookingNeed:
    return BookingNeed((site.lat, site.lng), frozenset(codes), minutes, priority)


def risks_of(day) -> dict[int, str]:
    return dict(
        ServiceCall.objects.filter(
            scheduled_day=day, status__in=ServiceCall.QUEUED_STATUSES
        ).values_list("id", "risk")
    )


def random_board(rng: random.Random, north, skills, customer, make_call) -> None:
    """Three plumbers with busy, random queues today; some calls tight, some promised."""
    techs = [
        make_technician(
            f"plumber{i}", north, skills=[skills["plumbing"]], home=(41.85 + i / 50, -87.65)
        )
        for i in range(3)
    ]
    for tech in techs:
        for _ in range(rng.randint(2, 6)):
            site = Site.objects.create(
                customer=customer,
                address="x",
                lat=41.8 + rng.random() / 5,
                lng=-87.75 + rng.random() / 5,
            )
            hour = rng.randint(9, 16)
            make_call(
                tech,
                site=site,
                duration_minutes=rng.choice([30, 45, 60, 90]),
                deadline=local(hour, rng.choice([0, 30])),
            )
    etas_refresh_day(day=DAY, now=NOW)
    # Promise each call its current ETA, as a booking would have.
    for call in ServiceCall.objects.filter(scheduled_day=DAY, technician__isnull=False):
        call.promised_eta = call.eta
        call.save(update_fields=["promised_eta"])


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_booking_any_offered_window_never_makes_a_call_late_or_worse(
    seed, csr, north, skills, customer, site, make_call
):
    random_board(random.Random(seed), north, skills, customer, make_call)
    before = risks_of(DAY)
    offers = booking_offers(user=csr, team=north, need=need(site, "plumbing"), now=NOW)
    today = [o for o in offers.offers if o.day == DAY]
    assert today, "a busy board still has room somewhere"
    for offer in offers.offers:
        with transaction.atomic():
            call = booking_book(
                user=csr,
                team=north,
                customer=customer,
                site=site,
                details=CallDetails(
                    summary="Leak", duration_minutes=60, skills=(skills["plumbing"],)
                ),
                choice=WindowChoice(offer_key=offer.key, technician_id=offer.technician.pk),
                now=NOW,
            )
            assert call.technician_id == offer.technician.pk
            assert (call.window_start, call.deadline) == (offer.window_start, offer.window_end)
            assert call.promised_eta == offer.arrival == call.planned_start
            assert call.window_start <= call.planned_start <= call.deadline
            assert call.eta <= call.deadline and call.risk == "ok"
            assert not call.overtime
            after = risks_of(offer.day)
            for other, risk in before.items():
                if offer.day == DAY:
                    assert RISK_RANK[after[other]] <= RISK_RANK[risk], (offer, other)
            transaction.set_rollback(True)


def test_offers_are_earliest_first_with_the_technician_and_skip_the_unskilled(
    csr, north, tom, tina, skills, site
):
    offers = booking_offers(user=csr, team=north, need=need(site, "plumbing"), now=NOW)
    starts = [(o.day, o.window_start) for o in offers.offers]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert {o.technician.name for o in offers.offers} == {"Tom"}  # Tina has no plumbing
    first = offers.offers[0]
    assert first.day == DAY and first.window_start == local(8)
    assert first.window_end == local(10)
    # Free all day, Tom would be early for later windows: the promise is the window's start,
    # when he is at the door, not when he could have been there.
    later = offers.offers[1]
    assert (later.window_start, later.arrival) == (local(10), local(10))
    assert {o.day for o in offers.offers} == {DAY, TOMORROW}


def test_windows_already_over_are_not_offered(csr, north, tom, skills, site):
    offers = booking_offers(user=csr, team=north, need=need(site, "plumbing"), now=local(12, 30))
    today = [o for o in offers.offers if o.day == DAY]
    assert today and all(o.window_end > local(12, 30) for o in today)
    assert all(o.arrival >= local(12, 30) for o in today)


def test_after_hours_today_is_refused_as_over_and_tomorrow_is_offered(
    csr, north, tom, skills, site
):
    night = local(22, 30)
    offers = booking_offers(user=csr, team=north, need=need(site, "plumbing"), now=night)
    # Not "0 min left outside the emergency reserve": there is no shift left to reserve from.
    assert offers.refusals[DAY] == (
        "No shift time left on this team that day: every shift is over or off."
    )
    assert offers.offers and {o.day for o in offers.offers} == {TOMORROW}
    assert offers.offers[0].window_start == local(8, day=TOMORROW)


def _fill_unassigned(make_call, skills, minutes: int) -> None:
    while minutes > 0:
        chunk = min(minutes, 120)
        make_call(duration_minutes=chunk, skills=[skills["plumbing"]])
        minutes -= chunk


def test_the_reserve_holds_for_normal_calls_and_opens_for_emergencies(
    csr, north, tom, skills, site, customer, make_call
):
    # Tom's 540 minutes today; 15% (81 min) is the emergency reserve. 430 min are booked
    # already, so a normal call may take only 29 more.
    _fill_unassigned(make_call, skills, 430)
    normal = booking_offers(user=csr, team=north, need=need(site, "plumbing"), now=NOW)
    assert not [o for o in normal.offers if o.day == DAY]
    assert "emergency reserve" in normal.refusals[DAY]
    assert [o for o in normal.offers if o.day == TOMORROW]  # tomorrow is free
    row = normal.capacity[0].row("plumbing")
    assert (row.available_minutes, row.booked_minutes, row.reserve_minutes) == (540, 430, 81)
    assert (row.normal_free_minutes, row.emergency_free_minutes) == (29, 110)

    emergency = booking_offers(
        user=csr, team=north, need=need(site, "plumbing", priority="emergency"), now=NOW
    )
    assert [o for o in emergency.offers if o.day == DAY]
    # A normal call cannot sneak into today's window by replaying an emergency's offer.
    offer = next(o for o in emergency.offers if o.day == DAY)
    with pytest.raises(MoveConflict):
        booking_book(
            user=csr,
            team=north,
            customer=customer,
            site=site,
            details=CallDetails(summary="Drip", duration_minutes=60, skills=(skills["plumbing"],)),
            choice=WindowChoice(offer_key=offer.key),
            now=NOW,
        )
    # The same window for a gas smell (an emergency by the checklist) is booked.
    call = booking_book(
        user=csr,
        team=north,
        customer=customer,
        site=site,
        details=CallDetails(
            summary="Gas smell",
            hazards=("gas_smell",),
            duration_minutes=60,
            skills=(skills["plumbing"],),
        ),
        choice=WindowChoice(offer_key=offer.key),
        now=NOW,
    )
    assert call.priority == "emergency" and call.technician_id == tom.pk


def test_a_booking_outside_the_windows_needs_an_override_reason_which_is_logged(
    csr, north, tom, skills, customer, site
):
    details = CallDetails(
        summary="Boiler service", duration_minutes=60, skills=(skills["plumbing"],)
    )
    own = WindowChoice(window_start=local(18), window_end=local(19), assign=False)
    with pytest.raises(InvalidInput) as refused:
        booking_book(
            user=csr, team=north, customer=customer, site=site, details=details, choice=own, now=NOW
        )
    assert refused.value.field == "override_reason"
    assert not ServiceCall.objects.exists()
    call = booking_book(
        user=csr,
        team=north,
        customer=customer,
        site=site,
        details=details,
        choice=WindowChoice(
            window_start=local(18),
            window_end=local(19),
            override_reason="Only after work",
            assign=False,
        ),
        now=NOW,
    )
    assert call.status == "new" and call.technician_id is None
    assert (call.window_start, call.deadline) == (local(18), local(19))
    booked = CallEvent.objects.get(call=call, kind="booked")
    assert booked.payload["override_reason"] == "Only after work"


def test_booking_with_a_category_and_a_new_customer_and_site_left_for_the_dispatcher(
    csr, north, tom, skills
):
    leak = CallCategory.objects.create(code="leak", name="Leak", default_duration_minutes=45)
    leak.skills.set([skills["plumbing"]])
    site = NewSite(address="9 Elm St", lat=41.9, lng=-87.64)
    offers = booking_offers(
        user=csr,
        team=north,
        need=BookingNeed((41.9, -87.64), frozenset({"plumbing"}), 45, "normal"),
        now=NOW,
    )
    call = booking_book(
        user=csr,
        team=north,
        customer=NewCustomer(name="Jo Park", contract="time_and_materials", phone="555"),
        site=site,
        details=CallDetails(summary="Leak under sink", category=leak),
        choice=WindowChoice(offer_key=offers.offers[0].key, assign=False),
        now=NOW,
    )
    assert call.customer.name == "Jo Park" and call.site.address == "9 Elm St"
    assert call.duration_minutes == 45 and {s.code for s in call.skills.all()} == {"plumbing"}
    assert call.status == "new" and call.promised_eta == offers.offers[0].arrival
    assert CallEvent.objects.get(call=call, kind="booked").payload["category"] == "leak"
    assert call.category == leak  # its duration is learned as a leak


def test_a_failed_booking_leaves_no_customer_behind(csr, north, tom, skills):
    with pytest.raises(MoveConflict):
        booking_book(
            user=csr,
            team=north,
            customer=NewCustomer(name="Half Applied", contract="full_service"),
            site=NewSite(address="1 A St", lat=41.9, lng=-87.6),
            details=CallDetails(summary="x", duration_minutes=30),
            choice=WindowChoice(offer_key="2020-01-01T08:00:00+00:00|2020-01-01T10:00:00+00:00"),
            now=NOW,
        )
    assert not ServiceCall.objects.exists()
    from customers.models import Customer

    assert not Customer.objects.filter(name="Half Applied").exists()


def test_technicians_cannot_book_or_turn_away(tom, north, site, customer):
    with pytest.raises(NotAllowed):
        booking_offers(user=tom.user, team=north, need=need(site), now=NOW)
    with pytest.raises(NotAllowed):
        turned_away_record(user=tom.user, reason="no_capacity", customer=customer)


def test_turned_away_calls_are_recorded_with_a_reason(csr, customer):
    with pytest.raises(InvalidInput):
        turned_away_record(user=csr, reason="", customer=customer)
    with pytest.raises(InvalidInput):
        turned_away_record(user=csr, reason="other", customer=customer)
    row = turned_away_record(user=csr, reason="no_capacity", customer=customer, windows_offered=0)
    assert TurnedAwayCall.objects.get() == row and row.recorded_by == csr


def test_off_before_the_shift_still_works_today_but_off_during_it_does_not(
    csr, north, tom, skills, site
):
    tom.status = "off"  # the night before his 08:00 start: he will come in
    tom.save()
    early = booking_offers(user=csr, team=north, need=need(site, "plumbing"), now=NOW)
    assert [o for o in early.offers if o.day == DAY]
    # Marked off at 09:00, during his shift: nothing today, tomorrow as usual.
    late = booking_offers(user=csr, team=north, need=need(site, "plumbing"), now=local(9))
    assert not [o for o in late.offers if o.day == DAY]
    assert [o for o in late.offers if o.day == TOMORROW]
    assert late.capacity[0].row("plumbing") is None  # no plumbing minutes left today
