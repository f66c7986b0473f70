"""The manager's desk: the escalation queue, one escalation, resolving it through the form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from customers.models import Customer, Site
from dispatch.models import CallEvent, Escalation, ServiceCall
from dispatch.services.escalations import escalation_raise
from tests.conftest import local

pytestmark = pytest.mark.django_db

NOW = local(7, 30)


@pytest.fixture(autouse=True)
def _morning(clock_at):
    clock_at(NOW)


def open_escalation(call, reason="complaint", note="Customer called twice", user=None):
    return escalation_raise(call_id=call.pk, reason=reason, note=note, user=user)


def signed_in(client, user):
    client.force_login(user)
    return client


def resolve(client, escalation, **form):
    return client.post(f"/escalations/{escalation.pk}/resolve/", form, follow=True)


@pytest.fixture
def full_service():
    customer = Customer.objects.create(name="Fullcare Inc", contract="full_service")
    site = Site.objects.create(customer=customer, address="9 Oak", lat=41.9, lng=-87.7)
    return {"customer": customer, "site": site}


# --- permissions --------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login_page(client, make_call):
    escalation = open_escalation(make_call())
    for url in ("/escalations/", f"/escalations/{escalation.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.post(f"/escalations/{escalation.pk}/resolve/", {"strategy": "triage"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_technician_is_refused(client, tom, make_call):
    escalation = open_escalation(make_call(technician=tom))
    client = signed_in(client, tom.user)
    assert client.get("/escalations/").status_code == 403
    assert client.get(f"/escalations/{escalation.pk}/").status_code == 403
    response = client.post(f"/escalations/{escalation.pk}/resolve/", {"strategy": "triage"})
    assert response.status_code == 403


@pytest.mark.parametrize("persona", ["csr", "dispatcher"])
def test_office_staff_see_the_queue_read_only_and_cannot_resolve(
    request, client, persona, make_call
):
    user = request.getfixturevalue(persona)
    escalation = open_escalation(make_call(summary="Leaking boiler"))
    client = signed_in(client, user)
    listing = client.get("/escalations/")
    assert listing.status_code == 200 and "Leaking boiler" in listing.content.decode()
    page = client.get(f"/escalations/{escalation.pk}/")
    assert page.status_code == 200
    assert 'id="resolve-form"' not in page.content.decode()
    assert "Only a manager can resolve" in page.content.decode()
    response = client.post(f"/escalations/{escalation.pk}/resolve/", {"strategy": "triage"})
    assert response.status_code == 403
    escalation.refresh_from_db()
    assert escalation.status == "open"


def test_the_manager_sees_the_resolve_form_and_it_needs_csrf(manager, make_call):
    escalation = open_escalation(make_call())
    client = signed_in(Client(enforce_csrf_checks=True), manager)
    page = client.get(f"/escalations/{escalation.pk}/")
    assert 'id="resolve-form"' in page.content.decode()
    assert "csrfmiddlewaretoken" in page.content.decode()
    forged = client.post(f"/escalations/{escalation.pk}/resolve/", {"strategy": "triage"})
    assert forged.status_code == 403
    escalation.refresh_from_db()
    assert escalation.status == "open"


def test_unknown_escalation_is_404(client, manager):
    client = signed_in(client, manager)
    assert client.get("/escalations/999999/").status_code == 404
    assert client.post("/escalations/999999/resolve/", {"strategy": "triage"}).status_code == 404


# --- the queue ----------------------------------------------------------------------------------


def test_queue_is_ordered_safety_first_then_deadline_then_oldest(client, csr, make_call):
    no_deadline = open_escalation(make_call(summary="No deadline"))
    late_deadline = open_escalation(make_call(summary="Due ten", deadline=local(10)))
    safety = open_escalation(make_call(summary="Gas smell"), reason="safety")
    soon = open_escalation(make_call(summary="Due nine", deadline=local(9)), "deadline_risk")
    resolved = open_escalation(make_call(summary="Done already"))
    Escalation.objects.filter(pk=resolved.pk).update(status="resolved", strategy="triage")

    response = signed_in(client, csr).get("/escalations/")
    queue = [e.pk for e in response.context["queue"]]
    assert queue == [safety.pk, soon.pk, late_deadline.pk, no_deadline.pk]
    assert [e.pk for e in response.context["resolved"]] == [resolved.pk]
    html = response.content.decode()
    assert html.index("Gas smell") < html.index("Due nine") < html.index("Due ten")


def test_queue_row_shows_the_call_context_and_escapes_user_text(client, csr, tom, make_call):
    call = make_call(
        technician=tom,
        summary="<b>Boiler</b>",
        deadline=local(11),
        eta=local(10, 15),
        slack_minutes=45,
        risk="at_risk",
        promised_eta=local(10),
        reschedule_count=2,
    )
    open_escalation(call, note="<script>alert(1)</script>", user=csr)
    open_escalation(make_call(summary="By a rule"), reason="aging")
    html = signed_in(client, csr).get("/escalations/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>Boiler</b>" not in html and "&lt;b&gt;Boiler&lt;/b&gt;" in html
    assert f'href="/calls/{call.pk}/"' in html
    for text in ("Acme Bakery", "Time and materials", "Customer complaint", "carl", "system"):
        assert text in html
    for text in ("10:15", "45 min to spare", "At risk", "10:00", "Tom"):
        assert text in html


def test_the_desk_and_the_call_page_say_how_late_in_words(client, manager, tom, make_call):
    call = make_call(tom, deadline=local(8), eta=local(8, 15), slack_minutes=-15.4, risk="late")
    escalation = open_escalation(call)
    signed_in(client, manager)
    for url in ("/escalations/", f"/escalations/{escalation.pk}/", f"/calls/{call.pk}/"):
        html = client.get(url).content.decode()
        assert "15 min past the deadline" in html, url
        assert "Slack" not in html and "-15" not in html, url


def test_the_queue_costs_the_same_queries_for_2_and_20_escalations(client, manager, tom, tina):
    customers = [
        Customer.objects.create(name=f"Customer {i}", contract=contract)
        for i, contract in enumerate(["time_and_materials", "full_service"])
    ]
    sites = [
        Site.objects.create(customer=c, address="1 St", lat=41.9, lng=-87.6) for c in customers
    ]

    def add(n: int) -> None:
        start = Escalation.objects.count()
        for i in range(start, start + n):
            call = ServiceCall.objects.create(
                customer=customers[i % 2],
                site=sites[i % 2],
                summary=f"Call {i}",
                duration_minutes=30,
                scheduled_day=NOW.date(),
                technician=[tom, tina, None][i % 3],
                position=i if i % 3 != 2 else None,
                status="assigned" if i % 3 != 2 else "new",
                deadline=local(9) + timedelta(minutes=i) if i % 4 else None,
            )
            open_escalation(
                call, reason=["safety", "complaint"][i % 2], user=manager if i % 2 else None
            )

    def count() -> int:
        client.force_login(manager)  # a fresh session; the same cost each time
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/escalations/").status_code == 200
        return len(queries)

    add(2)
    with_two = count()
    add(18)
    resolved = Escalation.objects.order_by("id")[:12]
    Escalation.objects.filter(pk__in=[e.pk for e in resolved[:6]]).update(
        status="resolved", strategy="triage", resolved_by=manager, resolved_at=NOW
    )
    assert with_two == count()
    assert with_two <= 8


# --- resolving through the form -----------------------------------------------------------------


def test_accept_needs_a_customer_message(client, manager, make_call):
    escalation = open_escalation(make_call())
    client = signed_in(client, manager)
    refused = resolve(client, escalation, strategy="accept", resolution="Cannot make it")
    assert refused.redirect_chain[-1][0] == f"/escalations/{escalation.pk}/"
    assert "Accepting a missed deadline needs the message" in refused.content.decode()
    escalation.refresh_from_db()
    assert escalation.status == "open"

    done = resolve(
        client,
        escalation,
        strategy="accept",
        resolution="Cannot make it",
        customer_message="We will be about an hour late; we are sorry.",
        # Accept now says when instead (finding 3 of issue 15): the window we promise.
        new_day=NOW.date().isoformat(),
        new_from="09:00",
        new_to="10:00",
    )
    assert done.redirect_chain[-1][0] == "/escalations/"
    assert f"Escalation #{escalation.pk} resolved (accept)" in done.content.decode()
    escalation.refresh_from_db()
    assert escalation.status == "resolved" and escalation.strategy == "accept"
    assert escalation.resolved_by == manager and escalation.resolution == "Cannot make it"
    notified = CallEvent.objects.get(call=escalation.call, kind="customer_notified")
    assert notified.payload["message"] == "We will be about an hour late; we are sorry."


def test_rescue_applies_the_move_only_when_ticked(client, manager, tom, make_call):
    call = make_call()
    first = open_escalation(call)
    call.refresh_from_db()
    client = signed_in(client, manager)
    move = {"technician": tom.pk, "position": "1", "expected_version": call.version}

    resolve(client, first, strategy="triage", **move)  # the box is not ticked: no move
    first.refresh_from_db()
    call.refresh_from_db()
    assert first.status == "resolved" and call.technician is None

    second = open_escalation(call)
    call.refresh_from_db()
    move["expected_version"] = call.version
    done = resolve(client, second, strategy="rescue", apply_move="1", **move)
    assert done.redirect_chain[-1][0] == "/escalations/"
    call.refresh_from_db()
    second.refresh_from_db()
    assert second.status == "resolved" and second.strategy == "rescue"
    assert call.technician == tom and call.position == 0


def test_a_stale_move_comes_back_as_a_message_and_nothing_changes(client, manager, tom, make_call):
    call = make_call()
    escalation = open_escalation(call)
    client = signed_in(client, manager)
    response = resolve(
        client,
        escalation,
        strategy="rescue",
        apply_move="1",
        technician=tom.pk,
        position="1",
        expected_version=call.version + 5,
    )
    assert response.redirect_chain[-1][0] == f"/escalations/{escalation.pk}/"
    assert 'class="msg-error"' in response.content.decode()
    escalation.refresh_from_db()
    call.refresh_from_db()
    assert escalation.status == "open" and call.technician is None


def test_goodwill_offered_and_checked_by_contract(client, manager, make_call, full_service):
    tm = open_escalation(make_call())  # the default customer is time-and-materials
    fs = open_escalation(make_call(**full_service))
    client = signed_in(client, manager)

    tm_page = client.get(f"/escalations/{tm.pk}/").content.decode()
    assert 'name="labor_hours"' in tm_page and 'name="discount_percent"' not in tm_page
    fs_page = client.get(f"/escalations/{fs.pk}/").content.decode()
    assert 'name="discount_percent"' in fs_page and 'name="labor_hours"' not in fs_page

    refused = resolve(client, tm, strategy="triage", discount_percent="10")
    assert "gets free labor hours, not a discount" in refused.content.decode()
    tm.refresh_from_db()
    assert tm.status == "open"
    resolve(client, tm, strategy="triage", labor_hours="1.5")
    tm.refresh_from_db()
    assert tm.status == "resolved" and str(tm.concession_labor_hours) == "1.50"

    refused = resolve(client, fs, strategy="triage", labor_hours="2")
    assert "gets a discount on the next invoice" in refused.content.decode()
    resolve(client, fs, strategy="triage", discount_percent="15")
    fs.refresh_from_db()
    assert fs.status == "resolved" and str(fs.concession_discount_percent) == "15.00"
    concession = CallEvent.objects.get(call=fs.call, kind="concession")
    assert concession.payload["approved_by"] == "mia"

    # A resolved escalation is read-only, with its goodwill shown.
    page = client.get(f"/escalations/{fs.pk}/").content.decode()
    assert 'id="resolve-form"' not in page and "15.00 % off the next invoice" in page


def test_a_bad_number_is_a_message_not_a_crash(client, manager, make_call):
    escalation = open_escalation(make_call())
    response = resolve(signed_in(client, manager), escalation, strategy="triage", labor_hours="x")
    assert "Free labor hours must be a number." in response.content.decode()


# --- stale-call review --------------------------------------------------------------------------


def test_stale_low_priority_calls_are_listed_for_review(client, dispatcher, csr, make_call):
    old_low = make_call(summary="Dripping tap", priority="low")
    fresh_low = make_call(summary="Squeaky door", priority="low")
    old_normal = make_call(summary="Old normal", priority="normal")
    old_done = make_call(summary="Old finished", priority="low", status="cancelled")
    ServiceCall.objects.filter(pk__in=[old_low.pk, old_normal.pk, old_done.pk]).update(
        created_at=NOW - timedelta(days=5)
    )
    ServiceCall.objects.filter(pk=fresh_low.pk).update(created_at=NOW - timedelta(days=1))

    response = signed_in(client, dispatcher).get("/escalations/")
    assert [c.pk for c in response.context["stale"]] == [old_low.pk]
    html = response.content.decode()
    assert f'action="/calls/{old_low.pk}/escalate/"' in html
    assert 'name="reason" value="aging"' in html

    # The button escalates through the existing view; the call leaves the list.
    client.post(f"/calls/{old_low.pk}/escalate/", {"reason": "aging", "note": "Stale"})
    escalation = Escalation.objects.get(call=old_low)
    assert escalation.reason == "aging" and escalation.raised_by == dispatcher
    assert signed_in(client, dispatcher).get("/escalations/").context["stale"] == []

    # A CSR sees the queue but not the review.
    csr_page = signed_in(client, csr).get("/escalations/")
    assert csr_page.context["stale"] == [] and 'id="stale"' not in csr_page.content.decode()


def test_the_stale_threshold_is_a_setting(client, manager, make_call, settings):
    settings.STALE_LOW_PRIORITY_DAYS = 10
    call = make_call(priority="low")
    ServiceCall.objects.filter(pk=call.pk).update(created_at=NOW - timedelta(days=5))
    assert signed_in(client, manager).get("/escalations/").context["stale"] == []
    settings.STALE_LOW_PRIORITY_DAYS = 4
    assert [c.pk for c in client.get("/escalations/").context["stale"]] == [call.pk]


def test_the_desk_never_says_on_time_of_an_unassigned_call_without_a_deadline(
    client, clock_at, manager, skills, make_call
):
    from technicians.models import Skill

    roofing = Skill.objects.create(code="roofing", name="Roofing")
    call = make_call(
        summary="roof leak", priority="emergency", skills=[roofing], created_at=local(6, 0)
    )
    clock_at(NOW)
    escalation = open_escalation(call, reason="safety")
    html = signed_in(client, manager).get(f"/escalations/{escalation.pk}/").content.decode()
    assert "Nobody can go now without harm: see why below." in html
    assert "Not yet: nobody has it" in html and "waiting 1 h 30 min" in html
    assert ">Unassigned</span>" in html
    assert "On time" not in html and "on time" not in html
    listing = client.get("/escalations/").content.decode()
    assert ">Unassigned</span>" in listing and "On time" not in listing


def test_the_desk_prints_dates_day_first_and_24_hour(client, manager, tom, make_call):
    call = make_call(tom, window_start=local(13), deadline=local(15, 30))
    escalation = open_escalation(call)
    signed_in(client, manager)
    page = client.get(f"/escalations/{escalation.pk}/").content.decode()
    assert "<dd>Tue 10 Mar 13:00 – Tue 10 Mar 15:30</dd>" in page
    listing = client.get("/escalations/").content.decode()
    assert "Tue 10 Mar 15:30" in listing and "Mar 10" not in listing


def test_the_escalations_history_names_customer_messages_in_words(
    client, clock_at, manager, make_call
):
    """Issue 15: the history said `Customer Notified by system — "still_on_it"`."""
    from dispatch.services.events import event_record

    call = make_call(summary="boiler", created_at=local(6, 0))
    clock_at(NOW)
    escalation = open_escalation(call, reason="aging")
    event_record(call=call, actor=None, kind="customer_notified", message="still_on_it")
    event_record(call=call, actor=None, kind="customer_notified", message="Sorry <b>Ann</b>")
    html = signed_in(client, manager).get(f"/escalations/{escalation.pk}/").content.decode()
    assert "— “We are still on it”" in html and "— “still_on_it”" not in html
    assert "— “Sorry &lt;b&gt;Ann&lt;/b&gt;”" in html  # what a person wrote, escaped
