"""Bad data is refused twice: by the API with a message a person can act on, and by PostgreSQL
itself, so no script, shell session or future bug can write it either.

Foreign keys and the queue-position uniqueness are DEFERRABLE INITIALLY DEFERRED (checked at
commit); tests run inside a transaction that never commits, so `SET CONSTRAINTS ALL IMMEDIATE`
forces the check where the test wants it. One transactional test shows the real commit-time check.
"""

from __future__ import annotations

from datetime import time

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from common import clock
from customers.models import Customer
from dispatch.models import ServiceCall
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db

CALLS = "/api/v1/calls/"


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, morning):
    monkeypatch.setattr(clock, "now", lambda: morning)


def raw(sql: str, params: list) -> None:
    """Run SQL the way a script would, then check every deferred constraint at once."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def refused(response, field: str, words: str) -> None:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body.get("field") == field, body
    assert words in body["detail"], body


# --- calls -------------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, -15])
def test_a_call_cannot_take_zero_or_negative_minutes(api, csr, make_call, minutes):
    call = make_call()
    response = api.as_user(csr).patch(
        f"{CALLS}{call.pk}/", {"duration_minutes": minutes}, format="json"
    )
    refused(response, "duration_minutes", "Duration must be more than zero minutes.")
    with pytest.raises(IntegrityError, match="call_duration_positive"):
        raw(
            "UPDATE dispatch_servicecall SET duration_minutes = %s WHERE id = %s",
            [minutes, call.pk],
        )
    call.refresh_from_db()
    assert call.duration_minutes == 60


def test_a_deadline_cannot_come_before_the_window_start(api, csr, make_call):
    call = make_call()
    body = {"window_start": local(10).isoformat(), "deadline": local(9).isoformat()}
    response = api.as_user(csr).patch(f"{CALLS}{call.pk}/", body, format="json")
    refused(response, "deadline", "The deadline cannot be before the window start.")
    with pytest.raises(IntegrityError, match="call_deadline_not_before_window"):
        raw(
            "UPDATE dispatch_servicecall SET window_start = %s, deadline = %s WHERE id = %s",
            [local(10), local(9), call.pk],
        )


def test_a_call_cannot_point_at_a_technician_that_does_not_exist(api, dispatcher, make_call):
    call = make_call()
    response = api.as_user(dispatcher).post(
        f"{CALLS}{call.pk}/move/",
        {"technician": 999_999, "position": 0, "expected_version": call.version},
        format="json",
    )
    refused(response, "technician", "Technician 999999 does not exist.")
    with pytest.raises(IntegrityError, match="technician_id"):
        raw(
            "UPDATE dispatch_servicecall"
            " SET technician_id = 999999, position = 0, status = 'assigned' WHERE id = %s",
            [call.pk],
        )


def test_an_assigned_call_needs_a_position(api, dispatcher, tom, make_call):
    call = make_call()
    response = api.as_user(dispatcher).post(
        f"{CALLS}{call.pk}/move/",
        {"technician": tom.pk, "position": None, "expected_version": call.version},
        format="json",
    )
    refused(response, "position", "Give the queue position")
    queued = make_call(tom)
    with pytest.raises(IntegrityError, match="call_queued_has_place"):
        raw("UPDATE dispatch_servicecall SET position = NULL WHERE id = %s", [queued.pk])


def test_a_queue_position_cannot_be_negative(api, dispatcher, tom, make_call):
    call = make_call(tom)
    response = api.as_user(dispatcher).post(
        f"{CALLS}{call.pk}/move/",
        {"technician": tom.pk, "position": -1, "expected_version": call.version},
        format="json",
    )
    refused(response, "position", "cannot be negative")
    with pytest.raises(IntegrityError, match="call_position_needs_technician"):
        raw("UPDATE dispatch_servicecall SET position = -1 WHERE id = %s", [call.pk])


def test_two_open_calls_cannot_share_a_place_in_a_queue(api, dispatcher, tom, make_call):
    a, b = make_call(tom), make_call(tom)
    # The API has no way to set a position by hand: moves rewrite queues densely.
    response = api.as_user(dispatcher).patch(f"{CALLS}{b.pk}/", {"position": 0}, format="json")
    assert response.status_code == 400 and "move/" in response.json()["detail"]
    with pytest.raises(IntegrityError, match="call_unique_queue_position"):
        raw("UPDATE dispatch_servicecall SET position = %s WHERE id = %s", [a.position, b.pk])


def test_swapping_two_positions_inside_one_transaction_is_fine(tom, make_call):
    a, b = make_call(tom), make_call(tom)
    with transaction.atomic(), connection.cursor() as cursor:
        # Between the two updates both calls sit at position 1; only the end state counts.
        cursor.execute("UPDATE dispatch_servicecall SET position = 1 WHERE id = %s", [a.pk])
        cursor.execute("UPDATE dispatch_servicecall SET position = 0 WHERE id = %s", [b.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.position, b.position) == (1, 0)


def test_a_reorder_through_the_api_passes_through_duplicates_and_commits(
    api, dispatcher, tom, make_call
):
    a, b, c = make_call(tom), make_call(tom), make_call(tom)
    response = api.as_user(dispatcher).post(
        f"{CALLS}{c.pk}/move/", {"technician": tom.pk, "position": 0, "expected_version": 1}
    )
    assert response.status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # would raise if any duplicate remained
    order = ServiceCall.objects.filter(technician=tom).order_by("position")
    assert list(order.values_list("id", flat=True)) == [c.pk, a.pk, b.pk]


# --- customers, sites, technicians -------------------------------------------------------------


def test_a_customer_with_calls_cannot_be_deleted(api, manager, customer, make_call):
    make_call()
    assert api.as_user(manager).delete(f"/api/v1/customers/{customer.pk}/").status_code == 405
    with pytest.raises(ProtectedError):
        customer.delete()
    with pytest.raises(IntegrityError):
        raw("DELETE FROM customers_customer WHERE id = %s", [customer.pk])
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_site_latitude_must_be_on_the_earth(api, dispatcher, site):
    response = api.as_user(dispatcher).patch(f"/api/v1/sites/{site.pk}/", {"lat": 200})
    refused(response, "lat", "Latitude must be between -90 and 90.")
    with pytest.raises(IntegrityError, match="site_lat_range"):
        raw("UPDATE customers_site SET lat = 200 WHERE id = %s", [site.pk])


def test_a_technician_longitude_must_be_on_the_earth(api, manager, tom):
    client = api.as_user(manager)
    refused(
        client.patch(f"/api/v1/technicians/{tom.pk}/", {"home_lng": -181}, format="json"),
        "home_lng",
        "Longitude must be between -180 and 180.",
    )
    refused(
        client.post(
            f"/api/v1/technicians/{tom.pk}/status/", {"lat": 41.9, "lng": -181}, format="json"
        ),
        "lng",
        "Longitude must be between -180 and 180.",
    )
    with pytest.raises(IntegrityError, match="technician_home_lng_range"):
        raw("UPDATE technicians_technician SET home_lng = -181 WHERE id = %s", [tom.pk])
    with pytest.raises(IntegrityError, match="technician_last_lng_range"):
        raw("UPDATE technicians_technician SET last_lng = -181 WHERE id = %s", [tom.pk])


def test_a_shift_must_end_after_it_starts(api, manager, tom):
    response = api.as_user(manager).patch(
        f"/api/v1/technicians/{tom.pk}/", {"shift_end": "07:00"}, format="json"
    )
    refused(response, "shift_end", "A shift must end after it starts.")
    with pytest.raises(IntegrityError, match="technician_shift_ends_after_start"):
        raw("UPDATE technicians_technician SET shift_end = %s WHERE id = %s", [time(7), tom.pk])


# --- at commit, for real -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_duplicate_queue_positions_are_refused_when_the_transaction_commits(tom, make_call):
    a, b = make_call(tom), make_call(tom)
    with pytest.raises(IntegrityError, match="call_unique_queue_position"):
        with transaction.atomic():
            ServiceCall.objects.filter(pk=b.pk).update(position=a.position)
            # No error yet: the check is deferred to COMMIT, which happens as the block ends.
            assert ServiceCall.objects.filter(technician=tom, position=0).count() == 2
    assert sorted(ServiceCall.objects.values_list("position", flat=True)) == [0, 1]
    assert ServiceCall.objects.filter(scheduled_day=DAY).count() == 2
