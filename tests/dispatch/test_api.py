"""The REST API under /api/v1/: the contract outside scripts rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from common import clock
from customers.models import Customer, Site
from dispatch.models import CallEvent, ServiceCall
from dispatch.services.events import event_record
from tests.conftest import DAY, PASSWORD, local

pytestmark = pytest.mark.django_db

CALLS = "/api/v1/calls/"
CALL_FIELDS = {
    "id",
    "customer",
    "site",
    "summary",
    "description",
    "priority",
    "skills",
    "duration_minutes",
    "window_start",
    "deadline",
    "scheduled_day",
    "status",
    "technician",
    "position",
    "eta",
    "planned_start",
    "planned_finish",
    "slack_minutes",
    "risk",
    "overtime",
    "promised_eta",
    "reschedule_count",
    "version",
}
RIPPLE_FIELDS = {
    "call_id",
    "summary",
    "technician_id",
    "eta_before",
    "eta_after",
    "risk_before",
    "risk_after",
    "shift_minutes",
    "promise_broken",
    "moved",
}


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, morning):
    """The API asks `common.clock` for the time: 07:30 on DAY, before shifts start."""
    monkeypatch.setattr(clock, "now", lambda: morning)
    return morning


def booking(customer, site, **extra) -> dict:
    return {
        "customer": customer.pk,
        "site": site.pk,
        "summary": "Leaking valve",
        "duration_minutes": 45,
        "scheduled_day": DAY.isoformat(),
        "priority": "high",
        "skills": ["plumbing"],
        "window_start": local(8).isoformat(),
        "deadline": local(12).isoformat(),
        **extra,
    }


def move_body(call, technician, position=0, **extra) -> dict:
    call.refresh_from_db()
    tech_id = technician.pk if technician is not None else None
    return {
        "technician": tech_id,
        "position": position,
        "expected_version": call.version,
        **extra,
    }


# --- reference data ----------------------------------------------------------------------------


def test_customer_round_trip_create_read_update_and_never_delete(api, csr):
    client = api.as_user(csr)
    created = client.post(
        "/api/v1/customers/",
        {"name": "Bob's Diner", "contract": "full_service", "phone": "555-0100"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    updated = client.patch(f"/api/v1/customers/{pk}/", {"phone": "555-0199"}, format="json")
    assert updated.status_code == 200
    detail = client.get(f"/api/v1/customers/{pk}/").json()
    assert detail["phone"] == "555-0199" and detail["contract"] == "full_service"
    assert pk in [c["id"] for c in client.get("/api/v1/customers/").json()["results"]]
    assert client.delete(f"/api/v1/customers/{pk}/").status_code == 405


def test_customer_with_unknown_contract_is_refused(api, csr):
    response = api.as_user(csr).post(
        "/api/v1/customers/", {"name": "X", "contract": "handshake"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "contract"


def test_site_round_trip_and_filter_by_customer(api, dispatcher, customer, site):
    other = Customer.objects.create(name="Zed Corp", contract="full_service")
    client = api.as_user(dispatcher)
    created = client.post(
        "/api/v1/sites/",
        {"customer": other.pk, "address": "9 Elm St", "lat": 41.7, "lng": -87.7},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert client.patch(f"/api/v1/sites/{pk}/", {"label": "Back door"}, format="json").json()[
        "label"
    ] == ("Back door")
    listed = client.get("/api/v1/sites/", {"customer": other.pk}).json()["results"]
    assert [s["id"] for s in listed] == [pk]
    assert set(listed[0]) == {"id", "customer", "label", "address", "lat", "lng"}


def test_a_site_cannot_move_to_another_customer(api, dispatcher, site):
    other = Customer.objects.create(name="Zed Corp", contract="full_service")
    response = api.as_user(dispatcher).patch(
        f"/api/v1/sites/{site.pk}/", {"customer": other.pk}, format="json"
    )
    assert response.status_code == 400
    assert "another customer" in response.json()["detail"]


def test_technician_json_carries_the_contract_fields(api, csr, tom):
    data = api.as_user(csr).get(f"/api/v1/technicians/{tom.pk}/").json()
    assert data["user"] == tom.user_id
    assert (data["team"], data["team_name"]) == (tom.team_id, "North")
    assert sorted(data["skills"]) == ["hvac", "plumbing"]
    assert data["status"] == "available"
    for name in ("home_lat", "home_lng", "last_lat", "last_lng", "last_seen_at"):
        assert name in data
    assert (data["shift_start"], data["shift_end"]) == ("08:00:00", "17:00:00")


def test_manager_creates_and_updates_a_technician(api, manager, north, skills):
    from tests.conftest import make_user

    user = make_user("tess", "technician")
    client = api.as_user(manager)
    created = client.post(
        "/api/v1/technicians/",
        {
            "user": user.pk,
            "name": "Tess",
            "team": north.pk,
            "skills": ["hvac", "electrical"],
            "home_lat": 41.8,
            "home_lng": -87.6,
            "shift_start": "07:00",
            "shift_end": "15:00",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert sorted(created.json()["skills"]) == ["electrical", "hvac"]
    updated = client.patch(f"/api/v1/technicians/{pk}/", {"skills": ["hvac"]}, format="json")
    assert updated.json()["skills"] == ["hvac"]


def test_technicians_filter_by_team(api, csr, tom, tina, otto):
    listed = api.as_user(csr).get("/api/v1/technicians/", {"team": otto.team_id}).json()
    assert [t["id"] for t in listed["results"]] == [otto.pk]


def test_skills_are_listed_and_created_by_a_manager(api, manager, skills):
    client = api.as_user(manager)
    created = client.post("/api/v1/skills/", {"code": "gas", "name": "Gas"}, format="json")
    assert created.status_code == 201
    codes = [s["code"] for s in client.get("/api/v1/skills/").json()["results"]]
    assert codes == ["electrical", "gas", "hvac", "plumbing"]


def test_status_update_sets_location_and_replans_todays_queue(api, dispatcher, tom, make_call):
    call = make_call(tom, deadline=local(12))
    response = api.as_user(dispatcher).post(
        f"/api/v1/technicians/{tom.pk}/status/",
        {"status": "en_route", "lat": 41.95, "lng": -87.70},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "en_route"
    tom.refresh_from_db()
    assert (tom.last_lat, tom.last_lng) == (41.95, -87.70)
    assert tom.last_seen_at == local(7, 30)
    call.refresh_from_db()
    assert call.eta is not None and call.risk == "ok"
    assert not CallEvent.objects.exists()


def test_status_update_needs_something_to_update(api, dispatcher, tom):
    url = f"/api/v1/technicians/{tom.pk}/status/"
    client = api.as_user(dispatcher)
    assert client.post(url, {}, format="json").status_code == 400
    half = client.post(url, {"lat": 41.9}, format="json")
    assert half.status_code == 400 and "lng" in half.json()["detail"]
    assert client.post(url, {"status": "asleep"}, format="json").status_code == 400


# --- calls: CRUD -------------------------------------------------------------------------------


def test_booking_a_call_returns_the_contract_fields(api, csr, customer, site, skills):
    response = api.as_user(csr).post(CALLS, booking(customer, site), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert CALL_FIELDS <= set(data)
    assert data["status"] == "new" and data["technician"] is None and data["position"] is None
    assert data["skills"] == ["plumbing"] and data["version"] == 1
    # Unassigned: no ETA yet, but the risk and slack come from the deadline (4.5 h away).
    assert data["eta"] is None and data["risk"] == "ok" and data["slack_minutes"] == 270.0
    call = ServiceCall.objects.get(pk=data["id"])
    assert data["tracking_url"] == f"{settings.PUBLIC_BASE_URL}/track/{call.tracking_token}/"
    assert list(call.events.values_list("kind", flat=True)) == ["booked"]


def test_booking_with_a_technician_places_the_call_in_one_go(api, dispatcher, tom, customer, site):
    body = booking(customer, site, technician=tom.pk, position=0)
    data = api.as_user(dispatcher).post(CALLS, body, format="json").json()
    assert (data["technician"], data["position"], data["status"]) == (tom.pk, 0, "assigned")
    assert data["eta"] is not None and data["version"] == 2


def test_booking_with_a_technician_that_cannot_be_placed_books_nothing(
    api, dispatcher, tom, customer, site
):
    body = booking(customer, site, technician=tom.pk)  # no position
    response = api.as_user(dispatcher).post(CALLS, body, format="json")
    assert response.status_code == 400 and response.json()["field"] == "position"
    assert not ServiceCall.objects.exists()


def test_technicians_do_not_see_tracking_links(api, tom, make_call):
    call = make_call(tom)
    data = api.as_user(tom.user).get(f"{CALLS}{call.pk}/").json()
    assert "tracking_url" not in data and data["id"] == call.pk


def test_editing_a_call_bumps_its_version_and_logs_it(api, csr, make_call, skills):
    call = make_call()
    client = api.as_user(csr)
    response = client.patch(
        f"{CALLS}{call.pk}/",
        {"summary": "Burst pipe", "skills": ["plumbing", "hvac"], "expected_version": 1},
        format="json",
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["summary"] == "Burst pipe" and data["version"] == 2
    assert sorted(data["skills"]) == ["hvac", "plumbing"]
    assert call.events.get().kind == "edited"


def test_editing_with_a_stale_version_is_a_conflict_that_changes_nothing(api, csr, make_call):
    call = make_call(version=3)
    response = api.as_user(csr).patch(
        f"{CALLS}{call.pk}/", {"summary": "Changed", "expected_version": 2}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert "Reload" in body["detail"] and body["call"]["version"] == 3
    call.refresh_from_db()
    assert call.summary == "No hot water" and not call.events.exists()


def test_editing_the_technician_through_patch_points_to_move(api, csr, tom, make_call):
    call = make_call()
    response = api.as_user(csr).patch(f"{CALLS}{call.pk}/", {"technician": tom.pk}, format="json")
    assert response.status_code == 400
    assert "move/" in response.json()["detail"]


def test_calls_are_cancelled_never_deleted(api, csr, tom, make_call):
    a, b = make_call(tom), make_call(tom)
    client = api.as_user(csr)
    assert client.delete(f"{CALLS}{a.pk}/").status_code == 405
    assert client.put(f"{CALLS}{a.pk}/", {}, format="json").status_code == 405
    response = client.post(
        f"{CALLS}{a.pk}/cancel/", {"reason": "Customer fixed it", "expected_version": 1}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled" and response.json()["position"] is None
    b.refresh_from_db()
    assert b.position == 0  # the queue closed up
    assert a.events.get().payload["reason"] == "Customer fixed it"


def test_cancel_needs_a_reason(api, csr, make_call):
    call = make_call()
    response = api.as_user(csr).post(f"{CALLS}{call.pk}/cancel/", {}, format="json")
    assert response.status_code == 400 and response.json()["field"] == "reason"


def test_cancel_with_a_stale_version_is_a_conflict(api, csr, make_call):
    call = make_call(version=2)
    response = api.as_user(csr).post(
        f"{CALLS}{call.pk}/cancel/", {"reason": "dup", "expected_version": 1}, format="json"
    )
    assert response.status_code == 409 and response.json()["call"]["status"] == "new"


# --- calls: filters and pagination ------------------------------------------------------------


def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {c["id"] for c in response.json()["results"]}


def test_calls_filter_by_day_technician_status_risk_and_priority(
    api, dispatcher, tom, tina, make_call
):
    from datetime import timedelta

    mine = make_call(tom, priority="high")
    hers = make_call(tina, status="en_route", priority="emergency")
    waiting_late = make_call(deadline=local(7))
    waiting_soon = make_call(deadline=local(7, 50))
    tomorrow = make_call(scheduled_day=DAY + timedelta(days=1))
    ServiceCall.objects.filter(pk=mine.pk).update(risk="at_risk")
    client = api.as_user(dispatcher)

    assert ids(client.get(CALLS, {"day": DAY.isoformat()})) == {
        mine.pk,
        hers.pk,
        waiting_late.pk,
        waiting_soon.pk,
    }
    assert ids(client.get(CALLS, {"technician": tom.pk})) == {mine.pk}
    assert ids(client.get(CALLS, {"technician": "none"})) == {
        waiting_late.pk,
        waiting_soon.pk,
        tomorrow.pk,
    }
    assert ids(client.get(CALLS, {"status": "assigned,en_route"})) == {mine.pk, hers.pk}
    assert ids(client.get(CALLS, {"priority": "high,emergency"})) == {mine.pk, hers.pk}
    assert ids(client.get(CALLS, {"risk": "late"})) == {waiting_late.pk}
    assert ids(client.get(CALLS, {"risk": "at_risk"})) == {mine.pk, waiting_soon.pk}
    assert ids(client.get(CALLS, {"risk": "ok"})) == {hers.pk, tomorrow.pk}


@pytest.mark.parametrize(
    "query",
    [{"status": "lost"}, {"risk": "doomed"}, {"technician": "tom"}, {"day": "tuesday"}],
)
def test_bad_filters_are_refused(api, dispatcher, query):
    response = api.as_user(dispatcher).get(CALLS, query)
    assert response.status_code == 400
    assert response.json()["field"] == next(iter(query))


def test_calls_are_paginated_with_a_page_size(api, dispatcher, make_call):
    for _ in range(5):
        make_call()
    client = api.as_user(dispatcher)
    first = client.get(CALLS, {"page_size": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["next"]
    last = client.get(CALLS, {"page_size": 2, "page": 3}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert len(client.get(CALLS, {"page_size": 10_000}).json()["results"]) == 5


def test_calls_list_query_count_is_bounded_and_does_not_grow(
    api, dispatcher, tom, make_call, skills, django_assert_max_num_queries
):
    client = api.as_user(dispatcher)

    def queries_with(total: int) -> int:
        while ServiceCall.objects.count() < total:
            n = ServiceCall.objects.count()
            make_call(tom if n % 2 else None, skills=[skills["plumbing"]])
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(CALLS, {"page_size": 100})
        assert len(response.json()["results"]) == total
        return len(ctx)

    client.get(CALLS)  # the heartbeat for the header is read once, then cached
    few = queries_with(5)
    assert queries_with(50) == few
    # session, user, roles, count, page, skills, heartbeat (X-Background-Delayed-Since)
    with django_assert_max_num_queries(7):
        client.get(CALLS, {"page_size": 100})


# --- calls: move, preview, events -------------------------------------------------------------


def test_move_assigns_the_call_and_returns_the_ripple(api, dispatcher, tom, make_call):
    first = make_call(tom, deadline=local(9, 30))
    call = make_call(duration_minutes=90)
    response = api.as_user(dispatcher).post(
        f"{CALLS}{call.pk}/move/", move_body(call, tom, 0, reason="urgent"), format="json"
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert CALL_FIELDS <= set(data)
    assert (data["technician"], data["position"], data["status"]) == (tom.pk, 0, "assigned")
    assert data["version"] == 2 and data["eta"] is not None
    ripple = {entry["call_id"]: entry for entry in data["ripple"]}
    assert set(ripple[call.pk]) == RIPPLE_FIELDS and ripple[call.pk]["moved"]
    assert ripple[first.pk]["technician_id"] == tom.pk and not ripple[first.pk]["moved"]
    first.refresh_from_db()
    assert first.position == 1


def test_preview_returns_the_ripple_and_writes_nothing(api, dispatcher, tom, make_call):
    make_call(tom, deadline=local(9, 30))
    call = make_call(duration_minutes=120)
    before = list(ServiceCall.objects.order_by("id").values())
    response = api.as_user(dispatcher).post(
        f"{CALLS}{call.pk}/move/preview/", move_body(call, tom, 0), format="json"
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) >= {"ripple", "needs_confirmation", "takes_from_working_tech"}
    assert data["needs_confirmation"] is True and data["takes_from_working_tech"] is False
    assert any(e["risk_after"] == "late" for e in data["ripple"])
    assert list(ServiceCall.objects.order_by("id").values()) == before
    assert not CallEvent.objects.exists()


def test_move_with_a_stale_version_is_a_conflict_that_changes_nothing(
    api, dispatcher, tom, tina, make_call
):
    call = make_call(tom)
    client = api.as_user(dispatcher)
    stale = move_body(call, tina)
    assert client.post(f"{CALLS}{call.pk}/move/", move_body(call, tom, 0)).status_code == 200
    before = list(ServiceCall.objects.order_by("id").values())
    events = CallEvent.objects.count()
    for url in (f"{CALLS}{call.pk}/move/", f"{CALLS}{call.pk}/move/preview/"):
        response = client.post(url, stale, format="json")
        assert response.status_code == 409
        body = response.json()
        assert "Someone else changed" in body["detail"]
        assert body["call"]["version"] == 2 and body["call"]["technician"] == tom.pk
    assert list(ServiceCall.objects.order_by("id").values()) == before
    assert CallEvent.objects.count() == events


def test_events_are_the_calls_audit_log(api, csr, dispatcher, tom, customer, site, skills):
    booked = api.as_user(csr).post(CALLS, booking(customer, site), format="json").json()
    call = ServiceCall.objects.get(pk=booked["id"])
    client = api.as_user(dispatcher)
    client.post(f"{CALLS}{call.pk}/move/", move_body(call, tom), format="json")
    event_record(call=call, actor=None, kind="risk_raised", risk="at_risk")
    response = client.get(f"{CALLS}{call.pk}/events/", {"page_size": 2})
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 3 and len(page["results"]) == 2
    first = page["results"][0]
    assert set(first) == {"id", "kind", "actor", "payload", "created_at"}
    assert (first["kind"], first["actor"]) == ("booked", "carl")
    rest = client.get(f"{CALLS}{call.pk}/events/", {"page_size": 2, "page": 2}).json()["results"]
    assert [(e["kind"], e["actor"]) for e in rest] == [("risk_raised", None)]
    assert page["results"][1]["kind"] == "assigned"


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"duration_minutes": 0}, "duration_minutes", "more than zero"),
        ({"duration_minutes": -30}, "duration_minutes", "more than zero"),
        ({"duration_minutes": "long"}, "duration_minutes", "integer"),
        ({"duration_minutes": 10**12}, "duration_minutes", "more than a day"),
        ({"deadline": local(7).isoformat()}, "deadline", "before the window start"),
        ({"skills": ["plumbing", "astrology"]}, "skills", "Unknown skill code 'astrology'"),
        ({"technician": 999_999, "position": 0}, "technician", "Technician 999999 does not"),
        ({"customer": 999_999}, "customer", "Customer 999999 does not exist"),
        ({"priority": "whenever"}, "priority", "not a valid choice"),
        ({"scheduled_day": "soon"}, "scheduled_day", "Date has wrong format"),
        ({"summary": ""}, "summary", "blank"),
    ],
)
def test_bad_bookings_are_refused_with_a_clear_message(
    api, csr, customer, site, skills, change, field, words
):
    response = api.as_user(csr).post(CALLS, booking(customer, site) | change, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["field"] == field
    assert words in response.json()["detail"]
    assert not ServiceCall.objects.exists()


def test_a_site_of_another_customer_is_refused(api, csr, customer, skills):
    other = Customer.objects.create(name="Zed Corp", contract="full_service")
    elsewhere = Site.objects.create(customer=other, address="2 Oak", lat=41.8, lng=-87.6)
    response = api.as_user(csr).post(CALLS, booking(customer, elsewhere), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Site {elsewhere.pk} does not belong to Acme Bakery.",
        "field": "site",
    }


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"position": -1}, "position", "cannot be negative"),
        ({"technician": 999_999}, "technician", "does not exist"),
        ({"technician": "tom"}, "technician", "valid integer"),
        ({"position": "first"}, "position", "valid integer"),
        ({"expected_version": None}, "expected_version", "may not be null"),
        ({"colour": "red"}, None, "Unknown or read-only fields: colour"),
    ],
)
def test_bad_moves_are_refused_with_a_clear_message(
    api, dispatcher, tom, make_call, change, field, words
):
    call = make_call()
    body = move_body(call, tom) | change
    for url in (f"{CALLS}{call.pk}/move/", f"{CALLS}{call.pk}/move/preview/"):
        response = api.as_user(dispatcher).post(url, body, format="json")
        assert response.status_code == 400, response.json()
        assert response.json().get("field") == field
        assert words in response.json()["detail"]
    call.refresh_from_db()
    assert call.technician is None and call.version == 1


def test_malformed_json_is_a_400_not_a_500(api, csr):
    response = api.as_user(csr).post(CALLS, '{"summary": ', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_list_where_an_object_belongs_is_a_400(api, csr, make_call):
    call = make_call()
    client = api.as_user(csr)
    assert client.post(CALLS, [1, 2], format="json").status_code == 400
    assert client.post(f"{CALLS}{call.pk}/move/", [1], format="json").status_code == 400
    assert (
        client.patch(f"{CALLS}{call.pk}/", "null", content_type="application/json").status_code
        == 400
    )


def test_out_of_range_coordinates_are_refused(api, manager, customer, tom):
    client = api.as_user(manager)
    site = client.post(
        "/api/v1/sites/",
        {"customer": customer.pk, "address": "Pole", "lat": 200, "lng": 0},
        format="json",
    )
    assert site.status_code == 400
    assert site.json()["detail"] == "lat: Latitude must be between -90 and 90."
    status = client.post(
        f"/api/v1/technicians/{tom.pk}/status/", {"lat": 41.0, "lng": -181}, format="json"
    )
    assert status.status_code == 400 and status.json()["field"] == "lng"


# --- auth and schema ---------------------------------------------------------------------------


def test_token_auth_lets_scripts_use_the_api(api, dispatcher, make_call):
    make_call()
    obtained = api.post(
        "/api/v1/auth/token/", {"username": "dana", "password": PASSWORD}, format="json"
    )
    assert obtained.status_code == 200
    token = obtained.json()["token"]
    assert token == Token.objects.get(user=dispatcher).key
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(CALLS).json()["count"] == 1
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    # Session auth comes first, and it sends no WWW-Authenticate challenge: 403, not 401.
    assert api.get(CALLS).status_code in (401, 403)


def test_token_is_refused_for_a_wrong_password(api, dispatcher):
    response = api.post("/api/v1/auth/token/", {"username": "dana", "password": "nope"})
    assert response.status_code == 400


def test_schema_is_served(api, dispatcher):
    response = api.as_user(dispatcher).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/calls/{id}/move/preview/" in response.content


def test_schema_validates_without_warnings(tmp_path: Path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/calls/{id}/move/:" in out.read_text()


# --- issue 19: one base URL, honest schema, bounded and typed input ----------------------------


def test_tracking_url_is_built_on_public_base_url_not_the_host_header(
    api, csr, make_call, settings
):
    settings.PUBLIC_BASE_URL = "https://track.example.com"
    settings.ALLOWED_HOSTS = ["*"]
    call = make_call()
    client = api.as_user(csr)
    expected = f"https://track.example.com/track/{call.tracking_token}/"
    one = client.get(f"{CALLS}{call.pk}/", HTTP_HOST="attacker.example")
    assert one.json()["tracking_url"] == expected
    listed = client.get(CALLS, HTTP_HOST="attacker.example").json()["results"]
    assert [c["tracking_url"] for c in listed] == [expected]


def test_schema_does_not_promise_tracking_url_to_everyone(tmp_path: Path):
    import yaml

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(out))
    schemas = yaml.safe_load(out.read_text())["components"]["schemas"]
    with_link = [name for name, s in schemas.items() if "tracking_url" in s.get("properties", {})]
    assert "Call" in with_link
    for name in with_link:
        assert "tracking_url" not in schemas[name].get("required", []), name


def test_description_is_bounded_with_a_clear_400(api, csr, customer, site, skills):
    client = api.as_user(csr)
    booked = client.post(CALLS, booking(customer, site, description="x" * 5001), format="json")
    assert booked.status_code == 400 and booked.json()["field"] == "description"
    assert "at most 5,000 characters" in booked.json()["detail"]
    assert not ServiceCall.objects.exists()
    fits = client.post(CALLS, booking(customer, site, description="x" * 5000), format="json")
    assert fits.status_code == 201, fits.json()
    call = ServiceCall.objects.get()
    edited = client.patch(f"{CALLS}{call.pk}/", {"description": "y" * 1_000_000}, format="json")
    assert edited.status_code == 400 and edited.json()["field"] == "description"


@pytest.mark.parametrize("value", [False, True])
def test_booleans_are_refused_for_numbers(api, dispatcher, manager, tom, customer, value):
    status = api.as_user(dispatcher).post(
        f"/api/v1/technicians/{tom.pk}/status/", {"lat": 41.9, "lng": value}, format="json"
    )
    assert status.status_code == 400 and status.json()["field"] == "lng"
    assert "not true or false" in status.json()["detail"]
    site = api.as_user(manager).post(
        "/api/v1/sites/",
        {"customer": customer.pk, "address": "2 Elm St", "lat": value, "lng": -87.6},
        format="json",
    )
    assert site.status_code == 400 and site.json()["field"] == "lat"
    tom.refresh_from_db()
    assert tom.last_lng is None
