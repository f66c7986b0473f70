"""The booking page: who may use it, the offers, booking through them, overrides, turn-aways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from dispatch.models import CallCategory, CallEvent, ServiceCall, TurnedAwayCall
from dispatch.selectors.durations import learned_durations
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db
NOW = local(7, 30)
URL = "/book/"


@pytest.fixture(autouse=True)
def _morning(clock_at):
    clock_at(NOW)


@pytest.fixture
def leak(skills):
    category = CallCategory.objects.create(code="leak", name="Leak", default_duration_minutes=60)
    category.skills.set([skills["plumbing"]])
    return category


def form(customer, site, leak, north, **extra) -> dict:
    data = {
        "customer": customer.pk,
        "site": site.pk,
        "summary": "Leak under the sink",
        "category": leak.pk,
        "team": north.pk,
        "priority": "normal",
    }
    return data | extra


def offer_values(html: str) -> list[str]:
    marker = 'name="offer" value="'
    values, at = [], html.find(marker)
    while at >= 0:
        start = at + len(marker)
        values.append(html[start : html.index('"', start)])
        at = html.find(marker, start)
    return values


def test_technicians_get_403_and_strangers_the_login_page(tom, client):
    assert client.get(URL).status_code == 302
    client.force_login(tom.user)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "offers"}).status_code == 403


@pytest.mark.parametrize("persona", ["csr", "dispatcher", "manager"])
def test_office_staff_may_book(persona, request, north, client):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 200


def test_a_user_without_a_role_gets_403(client):
    from tests.conftest import make_user

    client.force_login(make_user("nobody", None))
    assert client.get(URL).status_code == 403


def test_posting_without_the_csrf_token_is_refused(csr):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(csr)
    assert strict.post(URL, {"action": "offers"}).status_code == 403


def test_csr_finds_a_customer_and_sees_capacity(csr, north, tom, customer, site, client):
    Customer.objects.create(name="<script>alert(1)</script> Ltd", contract="full_service")
    client.force_login(csr)
    html = client.get(URL, {"q": "ltd"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ltd" in html and "<script>alert" not in html
    html = client.get(URL, {"customer": customer.pk}).content.decode()
    assert 'id="book-customer">Acme Bakery<' in html
    assert 'class="capacity" data-day="2026-03-10"' in html
    assert 'class="capacity" data-day="2026-03-11"' in html
    assert "15% of each day is kept for emergencies" in html


def test_csr_books_through_an_offered_window_and_assigns(
    csr, north, tom, customer, site, leak, client
):
    client.force_login(csr)
    page = client.post(URL, form(customer, site, leak, north, action="offers"))
    assert page.status_code == 200
    offers = offer_values(page.content.decode())
    assert offers, "Tom is free all day"
    response = client.post(
        URL,
        form(customer, site, leak, north, action="book", offer=offers[0], assign_to="technician"),
    )
    call = ServiceCall.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "pages:call-page", args=[call.pk]
    )
    assert call.technician_id == tom.pk and call.status == "assigned"
    assert (call.window_start, call.deadline) == (local(8), local(10))
    assert call.duration_minutes == 60 and call.promised_eta == call.planned_start
    kinds = list(CallEvent.objects.filter(call=call).values_list("kind", flat=True))
    assert kinds == ["booked", "assigned"]


def test_a_hazard_on_the_checklist_makes_an_emergency(
    csr, north, tom, customer, site, leak, client
):
    client.force_login(csr)
    data = form(customer, site, leak, north, hazards=["gas_smell"])
    page = client.post(URL, data | {"action": "offers"})
    assert 'id="emergency-note"' in page.content.decode()
    offers = offer_values(page.content.decode())
    assert client.post(URL, data | {"action": "book", "offer": offers[0]}).status_code == 302
    call = ServiceCall.objects.get()
    assert call.priority == "emergency"
    assert CallEvent.objects.get(call=call, kind="booked").payload["hazards"] == ["gas_smell"]


def test_a_stale_offer_is_refused_with_the_windows_as_they_are_now(
    csr, north, tom, customer, site, leak, client
):
    client.force_login(csr)
    stale = "2026-03-10T06:00:00-06:00|2026-03-10T08:00:00-06:00@" + str(tom.pk)
    response = client.post(URL, form(customer, site, leak, north, action="book", offer=stale))
    assert response.status_code == 409
    html = response.content.decode()
    assert "no longer free" in html and offer_values(html)
    assert not ServiceCall.objects.exists()


def test_booking_outside_the_windows_needs_the_override_reason(
    csr, north, tom, customer, site, leak, client
):
    client.force_login(csr)
    own = {"window_start": "2026-03-10T18:00", "window_end": "2026-03-10T19:00"}
    response = client.post(URL, form(customer, site, leak, north, action="override", **own))
    assert response.status_code == 400
    assert "needs an override reason" in response.content.decode()
    assert not ServiceCall.objects.exists()
    response = client.post(
        URL,
        form(
            customer, site, leak, north, action="override", override_reason="Only after work", **own
        )
        | {"offer": "ignored|offer@1"},
    )
    assert response.status_code == 302
    call = ServiceCall.objects.get()
    assert call.status == "new" and (call.window_start, call.deadline) == (local(18), local(19))
    assert CallEvent.objects.get(call=call).payload["override_reason"] == "Only after work"


def test_bad_input_is_a_400_with_a_message_never_a_500(
    csr, north, tom, customer, site, leak, client
):
    client.force_login(csr)
    bad = form(customer, site, leak, north, action="offers", duration_minutes="-5")
    response = client.post(URL, bad)
    assert response.status_code == 400 and "Duration minutes" in response.content.decode()
    no_site = form(customer, site, leak, north, action="offers") | {"site": ""}
    response = client.post(URL, no_site)
    assert response.status_code == 400 and "new site" in response.content.decode()
    other = Customer.objects.create(name="Other", contract="full_service")
    response = client.post(URL, form(other, site, leak, north, action="offers"))
    assert response.status_code == 400 and "not one of Other" in response.content.decode()


def test_a_new_customer_and_site_are_created_with_the_booking(csr, north, tom, leak, client):
    client.force_login(csr)
    data = {
        "customer_name": "Jo Park",
        "contract": "time_and_materials",
        "address": "9 Elm St",
        "lat": "41.9",
        "lng": "-87.64",
        "summary": "Drip",
        "category": leak.pk,
        "team": north.pk,
    }
    offers = offer_values(client.post(URL, data | {"action": "offers"}).content.decode())
    response = client.post(
        URL, data | {"action": "book", "offer": offers[0], "assign_to": "dispatcher"}
    )
    assert response.status_code == 302
    call = ServiceCall.objects.get()
    assert call.customer.name == "Jo Park" and call.site.address == "9 Elm St"
    assert call.status == "new" and call.window_start == local(8)


def test_turning_a_caller_away_is_recorded(csr, north, tom, customer, site, leak, client):
    client.force_login(csr)
    data = form(customer, site, leak, north, action="turn_away", turn_away_reason="no_capacity")
    response = client.post(URL, data | {"windows_offered": "0"})
    assert response.status_code == 302
    row = TurnedAwayCall.objects.get()
    assert (row.reason, row.customer, row.recorded_by, row.team) == (
        "no_capacity",
        customer,
        csr,
        north,
    )
    response = client.post(URL, form(customer, site, leak, north, action="turn_away"))
    assert response.status_code == 400 and TurnedAwayCall.objects.count() == 1


def _count(client, data) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.post(URL, data).status_code == 200
    return len(ctx.captured_queries)


def test_offer_queries_do_not_grow_with_the_board(
    csr, north, tom, skills, customer, site, leak, make_call, client
):
    client.force_login(csr)
    data = form(customer, site, leak, north, action="offers")
    make_call(tom, deadline=local(9), skills=[skills["plumbing"]])  # so every prefetch runs
    learned_durations()  # cached after the first read (refitted nightly): warm for both sizes
    small = _count(client, data)
    for i in range(5):
        tech = make_technician(f"extra{i}", north, skills=[skills["plumbing"]])
        for hour in (9, 12, 15):
            make_call(tech, deadline=local(hour), skills=[skills["plumbing"]])
            make_call(scheduled_day=DAY + timedelta(days=1), skills=[skills["plumbing"]])
    assert _count(client, data) == small <= 20
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL, {"customer": customer.pk}).status_code == 200
    assert len(ctx.captured_queries) <= small
