"""The booking API: offers with capacity, booking through them, 400/403/409, turned away."""

from __future__ import annotations

import pytest

from dispatch.models import CallCategory, CallEvent, ServiceCall, TurnedAwayCall
from tests.conftest import local

pytestmark = pytest.mark.django_db
NOW = local(7, 30)


@pytest.fixture(autouse=True)
def _morning(clock_at):
    clock_at(NOW)


@pytest.fixture
def leak(skills):
    category = CallCategory.objects.create(code="leak", name="Leak", default_duration_minutes=60)
    category.skills.set([skills["plumbing"]])
    return category


def test_offers_then_book_assigns_through_the_move_service(
    csr, north, tom, customer, site, leak, api
):
    client = api.as_user(csr)
    response = client.post(
        "/api/v1/bookings/offers/", {"site": site.pk, "category": "leak"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    first = body["offers"][0]
    assert first["technician"] == {"id": tom.pk, "name": "Tom"}
    assert first["day"] == "2026-03-10" and body["refusals"] == []
    plumbing = next(r for r in body["capacity"][0]["rows"] if r["skill"] == "plumbing")
    assert plumbing["available_minutes"] == 540 and plumbing["reserve_minutes"] == 81
    response = client.post(
        "/api/v1/bookings/",
        {
            "customer": customer.pk,
            "site": site.pk,
            "summary": "Leak",
            "category": "leak",
            "offer_key": first["offer_key"],
            "technician": tom.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    call = response.json()
    assert call["technician"] == tom.pk and call["status"] == "assigned"
    assert call["window_start"] == first["window_start"] and call["deadline"] == first["window_end"]
    # The same window again no longer fits at the same place for Tom: refused, not doubled.
    again = client.post(
        "/api/v1/bookings/",
        {
            "customer": customer.pk,
            "site": site.pk,
            "summary": "Leak 2",
            "category": "leak",
            "offer_key": "2026-03-10T06:00:00-06:00|2026-03-10T07:00:00-06:00",
        },
        format="json",
    )
    assert again.status_code == 409 and "no longer free" in again.json()["detail"]
    assert ServiceCall.objects.count() == 1


def test_override_needs_a_reason_and_technicians_are_refused(csr, tom, north, customer, site, api):
    body = {
        "customer": customer.pk,
        "site": site.pk,
        "summary": "Late visit",
        "duration_minutes": 30,
        "window_start": "2026-03-10T18:00:00-06:00",
        "window_end": "2026-03-10T19:00:00-06:00",
    }
    client = api.as_user(csr)
    response = client.post("/api/v1/bookings/", body, format="json")
    assert response.status_code == 400 and response.json()["field"] == "override_reason"
    response = client.post(
        "/api/v1/bookings/", body | {"override_reason": "Asked for it"}, format="json"
    )
    assert response.status_code == 201 and response.json()["technician"] is None
    event = CallEvent.objects.get(kind="booked")
    assert event.payload["override_reason"] == "Asked for it"
    tech = api.as_user(tom.user)
    assert tech.post("/api/v1/bookings/", body, format="json").status_code == 403
    assert (
        tech.post(
            "/api/v1/bookings/offers/", {"site": site.pk, "duration_minutes": 30}, format="json"
        ).status_code
        == 403
    )
    assert tech.get("/api/v1/capacity/").status_code == 403
    assert (
        tech.post("/api/v1/bookings/turned-away/", {"reason": "other"}, format="json").status_code
        == 403
    )


def test_bad_input_is_a_400(csr, north, tom, site, api):
    client = api.as_user(csr)
    response = client.post("/api/v1/bookings/offers/", {"site": site.pk}, format="json")
    assert response.status_code == 400 and "duration" in response.json()["detail"].lower()
    response = client.post(
        "/api/v1/bookings/offers/", {"site": 999999, "duration_minutes": 30}, format="json"
    )
    assert response.status_code == 400
    assert client.get("/api/v1/capacity/?team=x").status_code == 400


def test_turned_away_and_capacity(csr, north, tom, customer, api):
    client = api.as_user(csr)
    response = client.post(
        "/api/v1/bookings/turned-away/",
        {"reason": "no_capacity", "customer": customer.pk, "windows_offered": 0},
        format="json",
    )
    assert response.status_code == 201 and TurnedAwayCall.objects.get().recorded_by == csr
    days = client.get(f"/api/v1/capacity/?team={north.pk}").json()
    assert [d["day"] for d in days] == ["2026-03-10", "2026-03-11"]


def test_the_schema_describes_the_booking_endpoints(csr, api):
    schema = api.as_user(csr).get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/bookings/",
        "/api/v1/bookings/offers/",
        "/api/v1/bookings/turned-away/",
        "/api/v1/capacity/",
    ):
        assert path in schema["paths"]
    assert "offer_key" in schema["components"]["schemas"]["Offer"]["properties"]
