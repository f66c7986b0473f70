"""The CSR's booking page (`/book/`): thin; the booking service decides.

One form, four buttons: "Find address" (matches for a new site's address from the geocoder,
customers/geocoding/, as radio buttons; picking one fills latitude and longitude, which stay
typeable), "Find windows" (offers and the capacity meter), "Book" (through an offered window, or
the CSR's own window with an override reason) and "Turn away" (recorded with a reason, at any
point of the call, before windows are found too). Customer search is a plain GET on the same
page.
"""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from common import clock, roles
from common.errors import DispatchError, InvalidInput
from customers.geocoding import Lookup, geocode, pick_coordinates
from customers.models import Customer, Site
from dispatch import selectors
from dispatch.models import CallCategory, ServiceCall, TurnedAwayCall
from dispatch.pages.form_errors import first_error
from dispatch.selectors.capacity import capacity_get, reserve_percent
from dispatch.selectors.search import customers_matching, search_text
from dispatch.services.booking import (
    HAZARDS,
    CallDetails,
    NewCustomer,
    NewSite,
    Offers,
    WindowChoice,
    booking_book,
    booking_need_for,
    booking_offers,
    turned_away_record,
)
from technicians.models import Team

FORBIDDEN = "Booking is for CSRs, dispatchers and managers."
SEARCH_LIMIT = 20
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format=LOCAL_INPUT)


class BookingForm(forms.Form):
    team = forms.ModelChoiceField(Team.objects.order_by("name"), required=False)
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    site = forms.IntegerField(required=False)
    customer_name = forms.CharField(max_length=200, required=False)
    contract = forms.ChoiceField(choices=Customer.Contract.choices, required=False)
    phone = forms.CharField(max_length=40, required=False)
    email = forms.EmailField(required=False)
    address = forms.CharField(max_length=300, required=False)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180)
    summary = forms.CharField(max_length=200, required=False)
    description = forms.CharField(
        required=False,
        max_length=ServiceCall.MAX_DESCRIPTION_CHARS,
        error_messages={"max_length": ServiceCall.DESCRIPTION_TOO_LONG},
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    hazards = forms.MultipleChoiceField(
        choices=list(HAZARDS.items()), required=False, widget=forms.CheckboxSelectMultiple
    )
    priority = forms.ChoiceField(
        choices=[(p, ServiceCall.Priority(p).label) for p in ("normal", "high", "low")],
        required=False,
    )
    category = forms.ModelChoiceField(
        CallCategory.objects.filter(active=True).order_by("name"), required=False
    )
    duration_minutes = forms.IntegerField(required=False, min_value=1, max_value=1440)
    offer = forms.CharField(required=False)
    assign_to = forms.ChoiceField(
        choices=[("technician", "technician"), ("dispatcher", "dispatcher")], required=False
    )
    window_start = forms.DateTimeField(
        required=False, input_formats=[LOCAL_INPUT], widget=LocalDateTimeInput
    )
    window_end = forms.DateTimeField(
        required=False, input_formats=[LOCAL_INPUT], widget=LocalDateTimeInput
    )
    override_reason = forms.CharField(max_length=500, required=False)
    turn_away_reason = forms.ChoiceField(
        choices=[("", "—"), *TurnedAwayCall.Reason.choices], required=False
    )
    turn_away_note = forms.CharField(max_length=2000, required=False)


def _team(request: HttpRequest, form: BookingForm | None) -> Team | None:
    if form is not None and form.is_valid() and form.cleaned_data["team"]:
        return form.cleaned_data["team"]
    raw = request.GET.get("team", "")
    if raw.isascii() and raw.isdigit():
        team = Team.objects.filter(pk=raw).first()
        if team:
            return team
    return selectors.board_team_default(request.user)


def _customer(request: HttpRequest, customer_id) -> Customer | None:
    if customer_id in (None, ""):
        return None
    try:
        return selectors.customers_visible_to(request.user).get(pk=customer_id)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise InvalidInput(f"Customer {customer_id} was not found.", "customer") from None


def _site_of(customer: Customer | None, data: dict) -> Site | NewSite:
    if customer is not None and data["site"]:
        site = Site.objects.filter(pk=data["site"], customer=customer).first()
        if site is None:
            raise InvalidInput(f"That site is not one of {customer.name}'s.", "site")
        return site
    if data["lat"] is None or data["lng"] is None or not data["address"].strip():
        raise InvalidInput(
            "Choose one of the customer's sites, or give a new site's address and press "
            "“Find address” to pick its match (or type its latitude and longitude).",
            "address",
        )
    return NewSite(address=data["address"], lat=data["lat"], lng=data["lng"])


def _new_or_existing_customer(customer: Customer | None, data: dict) -> Customer | NewCustomer:
    if customer is not None:
        return customer
    return NewCustomer(
        name=data["customer_name"],
        contract=data["contract"],
        phone=data["phone"],
        email=data["email"],
    )


def _details(data: dict) -> CallDetails:
    return CallDetails(
        summary=data["summary"],
        description=data["description"],
        priority=data["priority"] or "normal",
        hazards=tuple(data["hazards"]),
        category=data["category"],
        duration_minutes=data["duration_minutes"],
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


def _choice(data: dict, *, override: bool) -> WindowChoice:
    # The override button ignores whichever offer happens to be selected.
    key, _, tech = ("" if override else data["offer"] or "").rpartition("@")
    return WindowChoice(
        offer_key=key,
        technician_id=int(tech) if tech.isdigit() else None,
        window_start=_aware(data["window_start"]),
        window_end=_aware(data["window_end"]),
        override_reason=data["override_reason"],
        assign=data["assign_to"] != "dispatcher",
    )


def _offers(request, team, customer, data) -> Offers:
    site = _site_of(customer, data)
    details = _details(data)
    need, _ = booking_need_for(site, details)
    return booking_offers(user=request.user, team=team, need=need, now=clock.now())


def _page(
    request, form, team, customer, *, offers=None, lookup=None, error=None, status=200
) -> HttpResponse:
    search = search_text(request.GET.get("q"))
    found = []
    if search:
        # Name, phone or address: the same rule as "Find a call" (dispatch.selectors.search).
        customers = selectors.customers_visible_to(request.user)
        found = list(customers_matching(customers, search).order_by("name", "id")[:SEARCH_LIMIT])
    context = {
        "form": form,
        "team": team,
        "teams": Team.objects.order_by("name"),
        "customer": customer,
        "sites": list(customer.sites.all()) if customer else [],
        "search": search,
        "found": found,
        "offers": offers,
        "lookup": lookup,
        "capacity": offers.capacity
        if offers
        else (capacity_get(team=team, now=clock.now()) if team else []),
        "reserve_percent": reserve_percent(),
        "hazards": HAZARDS,
        "checked_hazards": form.data.getlist("hazards") if form.is_bound else [],
        "turn_away_reasons": TurnedAwayCall.Reason.choices,
        "error": error,
    }
    return render(request, "booking/book.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    if not roles.can_book(request.user):
        return HttpResponse(FORBIDDEN, status=403, content_type="text/plain; charset=utf-8")
    if request.method == "GET":
        customer = _customer_or_none(request, request.GET.get("customer"))
        team = _team(request, None)
        form = BookingForm(initial={"customer": customer.pk if customer else None, "team": team})
        return _page(request, form, team, customer)
    return _book_post(request)


def _customer_or_none(request, raw) -> Customer | None:
    try:
        return _customer(request, raw)
    except InvalidInput:
        return None


def _with_pick(post) -> tuple[object, InvalidInput | None]:
    """The form's data with a picked address match's coordinates in latitude and longitude."""
    post = post.copy()
    pick = post.pop("geo_pick", [""])[-1]
    if not pick:
        return post, None  # no match picked, or "use the coordinates typed"
    coordinates = pick_coordinates(pick)
    if coordinates is None:
        return post, InvalidInput(
            "The picked address match is not a latitude and longitude: press “Find address” "
            "again and pick one.",
            "address",
        )
    post["lat"], post["lng"] = (f"{value:.6f}" for value in coordinates)
    return post, None


def _book_post(request: HttpRequest) -> HttpResponse:
    post, pick_error = _with_pick(request.POST)
    form = BookingForm(post)
    team = _team(request, form)
    customer = None
    try:
        if pick_error is not None:
            raise pick_error
        if not form.is_valid():
            raise first_error(form)
        data = form.cleaned_data
        customer = _customer(request, data["customer"])
        action = request.POST.get("action", "offers")
        if action == "geocode":
            return _find_address(request, form, team, customer, data)
        if action == "turn_away":
            return _turn_away(request, team, customer, data)
        if action in ("book", "override"):
            return _book(request, team, customer, data, override=action == "override")
        return _page(request, form, team, customer, offers=_offers(request, team, customer, data))
    except DispatchError as exc:
        offers = _offers_quietly(request, team, customer, form)
        return _page(
            request, form, team, customer, offers=offers, error=exc.message, status=exc.status_code
        )


def _find_address(request, form, team, customer, data) -> HttpResponse:
    lookup: Lookup = geocode(data["address"])
    error = None
    if not lookup.matches:
        error = (
            f"No address matches “{lookup.text}”. Check the street's spelling and give the "
            "house number and direction (like “1200 N Halsted St”), or type the latitude and "
            "longitude."
        )
    return _page(request, form, team, customer, lookup=lookup, error=error)


def _offers_quietly(request, team, customer, form) -> Offers | None:
    """Fresh windows beside an error, when the form has enough to find them."""
    if not form.is_valid():
        return None
    try:
        return _offers(request, team, customer, form.cleaned_data)
    except DispatchError:
        return None


def _book(request, team, customer, data, *, override: bool) -> HttpResponse:
    call = booking_book(
        user=request.user,
        team=team,
        customer=_new_or_existing_customer(customer, data),
        site=_site_of(customer, data),
        details=_details(data),
        choice=_choice(data, override=override),
    )
    start, end = timezone.localtime(call.window_start), timezone.localtime(call.deadline)
    who = f"assigned to {call.technician.name}" if call.technician else "left for the dispatcher"
    messages.success(
        request,
        f"Booked call #{call.pk} for {start:%a %d %b}, arriving {start:%H:%M}–{end:%H:%M}; {who}.",
    )
    return redirect("pages:call-page", call_id=call.pk)


def _turn_away(request, team, customer, data) -> HttpResponse:
    offered = request.POST.get("windows_offered", "0")
    turned_away_record(
        user=request.user,
        reason=data["turn_away_reason"],
        note=data["turn_away_note"],
        customer=customer,
        caller_name=data["customer_name"],
        summary=data["summary"],
        category=data["category"],
        priority="emergency" if data["hazards"] else data["priority"] or "normal",
        team=team,
        windows_offered=int(offered) if offered.isdigit() else 0,
    )
    messages.success(request, "Recorded as turned away. It counts on the dashboard.")
    return redirect("pages:book")
