"""The customer's tracking page: what it shows, what it never shows, and when it stops working."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from customers.models import Customer, Site
from dispatch.models import Escalation, ServiceCall
from dispatch.pages.tracking import margin_for, tracking_for
from dispatch.services.calls import call_cancel
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db


def page(client, call: ServiceCall):
    return client.get(f"/track/{call.tracking_token}/")


# --- the window narrows as the day goes (pure: no database) ----------------------------------


def _call(**fields) -> ServiceCall:
    fields.setdefault("status", "assigned")
    return ServiceCall(scheduled_day=DAY, duration_minutes=60, summary="x", **fields)


@pytest.mark.parametrize(
    ("now", "fields", "status", "window", "promised"),
    [
        # Early: the estimate would be wider than the promise, so the promise is shown.
        (local(6), {"eta": local(10)}, "scheduled", (local(9), local(11)), True),
        # An hour out: ETA +/- 15 minutes.
        (local(9), {"eta": local(10)}, "scheduled", (local(9, 45), local(10, 15)), False),
        # Twenty minutes out and driving: +/- 10 minutes (the smallest margin).
        (
            local(9, 40),
            {"eta": local(10), "status": "en_route"},
            "en_route",
            (local(9, 50), local(10, 10)),
            False,
        ),
        # Close and driving: "arriving now", no window.
        (local(9, 56), {"eta": local(10), "status": "en_route"}, "arriving", None, False),
        # Three hours out the estimate (+/- 45 min) is narrower, but too early to trust.
        (local(7), {"eta": local(10)}, "scheduled", (local(9), local(11)), True),
        # Not planned yet: the promise is all there is.
        (local(7), {"status": "new"}, "planning", (local(9), local(11)), True),
        # Early for the window: the customer sees the window's start, not the early ETA.
        (local(8), {"eta": local(8, 40)}, "scheduled", (local(9), local(9, 15)), False),
    ],
)
def test_the_window_narrows_as_arrival_nears(now, fields, status, window, promised):
    call = _call(window_start=local(9), deadline=local(11), **fields)
    shown = tracking_for(call, now)
    assert (shown.status, shown.window, shown.promised) == (status, window, promised)


def test_an_early_estimate_is_never_wider_than_an_hour_each_side_nor_narrower_than_ten_minutes():
    assert margin_for(timedelta(hours=8)) == timedelta(minutes=60)
    assert margin_for(timedelta(minutes=100)) == timedelta(minutes=25)
    assert margin_for(timedelta(minutes=8)) == timedelta(minutes=10)
    assert margin_for(timedelta(minutes=-30)) == timedelta(minutes=10)


def test_an_unplanned_call_with_a_deadline_ahead_says_by_when(client, make_call, clock_at):
    call = make_call(deadline=local(11))
    clock_at(local(9))
    assert tracking_for(call, local(9)).by == local(11)
    html = page(client, call).content.decode()
    assert "We aim to be with you by <strong>11:00</strong>" in html
    clock_at(local(11, 30))  # passed: no promise we can no longer keep
    assert "We aim to be with you" not in page(client, call).content.decode()
    windowed = make_call(window_start=local(9), deadline=local(11))
    assert tracking_for(windowed, local(8)).by is None  # the window says it already


def test_a_late_estimate_is_shown_honestly_not_the_broken_promise():
    call = _call(window_start=local(9), deadline=local(11), eta=local(11, 30))
    shown = tracking_for(call, local(9))
    assert shown.late and not shown.promised
    assert shown.window == (local(10, 50), local(12, 10))  # 2.5 h out: +/- 38 minutes


# --- the page --------------------------------------------------------------------------------


def test_the_page_shows_the_promised_window_then_the_estimate_then_arriving_now(
    client, tom, make_call, clock_at
):
    call = make_call(tom, window_start=local(9), deadline=local(11), eta=local(10))
    clock_at(local(6))
    html = page(client, call).content.decode()
    assert "We will arrive between" in html and "09:00" in html and "11:00" in html
    assert "the window we promised" in html and "Tom is booked for your visit" in html
    clock_at(local(9))
    html = page(client, call).content.decode()
    assert "Expected arrival between" in html and "09:45" in html and "10:15" in html
    assert "most likely around 10:00" in html
    ServiceCall.objects.filter(pk=call.pk).update(status="en_route")
    clock_at(local(9, 57))
    assert "Tom, is arriving now" in page(client, call).content.decode()
    ServiceCall.objects.filter(pk=call.pk).update(status="on_site")
    assert "Tom, is with you now" in page(client, call).content.decode()


def test_the_page_says_when_we_are_late(client, tom, make_call, clock_at):
    call = make_call(tom, window_start=local(9), deadline=local(11), eta=local(11, 30))
    clock_at(local(10))
    html = page(client, call).content.decode()
    assert "running later than we promised" in html and "most likely around 11:30" in html


def test_the_link_reveals_nothing_about_anyone_else_or_the_inside(
    client, tom, make_call, clock_at, dispatcher
):
    tom.name = "Tom Kowalczyk"
    tom.save()
    call = make_call(
        tom,
        summary="Leaking valve",
        description="Gate code 4471; customer disputes last invoice",
        deadline=local(12),
        eta=local(10),
        slack_minutes=120,
        risk="ok",
    )
    Escalation.objects.create(call=call, reason="complaint", note="Angry manager on the phone")
    neighbour = Customer.objects.create(
        name="Zephyr Dental", contract="full_service", phone="+1 312 555 0199"
    )
    other_site = Site.objects.create(customer=neighbour, address="9 Elm Ct", lat=41.9, lng=-87.6)
    other = make_call(
        tom, customer=neighbour, site=other_site, summary="Compressor down", eta=local(9)
    )
    clock_at(local(8))
    client.force_login(dispatcher)  # even staff opening the link see only the customer's view
    response = page(client, call)
    html = response.content.decode()

    assert response.status_code == 200 and "Leaking valve" in html and "Tom" in html
    for secret in (
        "Kowalczyk",  # the technician's surname
        "4471",  # internal notes
        "invoice",
        "Angry manager",  # escalations
        "Zephyr",  # another customer
        "Compressor down",  # another call
        "555 0199",
        "9 Elm Ct",
        other.tracking_token,
        "slack",
        "to spare",  # the slack in the office's words (dispatch/pages/risk_words.py)
        "past the deadline",
        "risk",
        "/board/",  # no staff navigation
        "Log out",
        "csrf",
    ):
        assert secret.lower() not in html.lower(), secret


def test_the_link_sends_no_referrer_and_is_not_indexed_or_cached(client, tom, make_call):
    response = page(client, make_call(tom, eta=local(10)))
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert '<meta name="referrer" content="no-referrer">' in html


def test_a_wrong_token_is_a_404(client, make_call):
    call = make_call()
    assert client.get("/track/not-a-real-token/").status_code == 404
    assert client.get(f"/track/{call.tracking_token[:-1]}/").status_code == 404
    assert client.get(f"/track/{call.tracking_token.upper()}x/").status_code == 404


def test_the_link_expires_a_set_time_after_the_call_is_completed(
    client, tom, make_call, clock_at, settings
):
    settings.TRACKING_LINK_HOURS_AFTER_DONE = 24
    call = make_call(tom, status="on_site", eta=local(9))
    ServiceCall.objects.filter(pk=call.pk).update(
        status="completed", position=None, completed_at=local(10)
    )
    clock_at(local(10) + timedelta(hours=23, minutes=59))
    response = page(client, call)
    assert response.status_code == 200 and "The work is done" in response.content.decode()
    clock_at(local(10) + timedelta(hours=24, minutes=1))
    assert page(client, call).status_code == 404
    settings.TRACKING_LINK_HOURS_AFTER_DONE = 48
    assert page(client, call).status_code == 200


def test_the_link_expires_a_set_time_after_the_call_is_cancelled(
    client, csr, make_call, clock_at, settings
):
    settings.TRACKING_LINK_HOURS_AFTER_DONE = 2
    call = make_call()
    call_cancel(user=csr, call=call, reason="Customer fixed it themselves")
    cancelled_at = timezone.now()  # the event's own time stamp
    clock_at(cancelled_at + timedelta(hours=1))
    response = page(client, call)
    assert response.status_code == 200 and "cancelled" in response.content.decode()
    clock_at(cancelled_at + timedelta(hours=2, minutes=5))
    assert page(client, call).status_code == 404


def test_an_open_call_keeps_its_link_however_old(client, make_call, clock_at):
    call = make_call()
    clock_at(local(9) + timedelta(days=30))
    assert page(client, call).status_code == 200


def test_the_page_is_one_query_while_open_and_two_once_cancelled(
    client, tom, csr, make_call, django_assert_num_queries
):
    call = make_call(tom, eta=local(10))
    with django_assert_num_queries(1):
        assert page(client, call).status_code == 200
    call_cancel(user=csr, call=call, reason="Not needed")
    with django_assert_num_queries(2):  # and when it was cancelled
        assert page(client, call).status_code == 200


def test_office_staff_see_the_tracking_link_and_what_the_customer_was_sent(
    client, csr, tom, make_call
):
    from customers.messaging import customer_messages_sweep

    call = make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50))
    ServiceCall.objects.filter(pk=call.pk).update(created_at=local(7))
    customer_messages_sweep(now=local(8, 51))  # no address on file: both channels skipped
    client.force_login(csr)
    html = client.get(f"/calls/{call.pk}/").content.decode()
    # The link the customer was sent, on PUBLIC_BASE_URL (not this request's host; issue 19).
    assert f"{settings.PUBLIC_BASE_URL}/track/{call.tracking_token}/" in html
    assert "On my way" in html and "The customer has no phone number on file." in html


def test_a_technician_does_not_get_the_tracking_link_on_the_call_page(client, tom, make_call):
    call = make_call(tom, eta=local(9, 5))
    client.force_login(tom.user)
    response = client.get(f"/calls/{call.pk}/")
    assert response.status_code == 200
    assert call.tracking_token not in response.content.decode()


def test_the_estimate_is_the_stored_p10_to_p90_and_narrows_as_arrival_nears():
    # At 08:00, with a long job still ahead, the arrival could be 09:35 to 11:10.
    early = _call(eta=local(10), eta_p10=local(9, 37), eta_p90=local(11, 8), deadline=local(12))
    shown = tracking_for(early, local(8))
    assert shown.window == (local(9, 35), local(11, 10)) and not shown.promised
    # At 09:30 that job is done: 09:52 to 10:14.
    near = _call(eta=local(10), eta_p10=local(9, 52), eta_p90=local(10, 14), deadline=local(12))
    shown = tracking_for(near, local(9, 30))
    assert shown.window == (local(9, 50), local(10, 15))
    assert shown.window[1] - shown.window[0] < timedelta(minutes=30)


def test_a_promised_window_still_stands_while_the_estimate_is_wider():
    call = _call(
        window_start=local(9), deadline=local(11), eta=local(10),
        eta_p10=local(8, 30), eta_p90=local(11, 40),
    )  # fmt: skip
    shown = tracking_for(call, local(9))
    assert shown.promised and shown.window == (local(9), local(11))
