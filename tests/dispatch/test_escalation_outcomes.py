"""Issue 15: a manager's decision on an escalation sticks, the form keeps what was typed, and
accept reschedules honestly (the message, the tracking page and the board agree)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from customers.models import Customer, CustomerMessage, Site
from dispatch.models import CallEvent, Escalation, ServiceCall
from dispatch.selectors.board import board_get
from dispatch.services.calls import call_update
from dispatch.services.escalations import (
    Reschedule,
    call_escalate,
    escalation_resolve,
    escalations_check,
)
from dispatch.services.etas import etas_refresh_day
from dispatch.services.events import event_record
from tests.conftest import DAY, behind_a_long_job, local

pytestmark = pytest.mark.django_db

TOMORROW = DAY + timedelta(days=1)


def _set(call, **fields) -> None:
    ServiceCall.objects.filter(pk=call.pk).update(**fields)


def _open(call) -> Escalation:
    return Escalation.objects.get(call=call, status="open")


def _aging_call(make_call):
    """A normal-priority call waiting since yesterday 09:00: the aging rule raises it at 09:01."""
    booked = local(9) - timedelta(hours=24)
    call = make_call(priority="normal", scheduled_day=booked.date())
    _set(call, created_at=booked)
    return call


# --- 1. resolutions stick -----------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["triage", "accept"])
def test_a_resolved_aging_call_is_not_raised_again_by_the_rules(manager, make_call, strategy):
    call = _aging_call(make_call)
    assert escalations_check(now=local(9, 1)) == 1
    extra = {}
    if strategy == "accept":
        extra = {
            "customer_message": "We are sorry for the wait.",
            "reschedule": Reschedule(local(9, day=TOMORROW), local(11, day=TOMORROW)),
        }
    escalation_resolve(
        user=manager,
        escalation_id=_open(call).pk,
        strategy=strategy,
        now=local(9, 2),
        **extra,
    )
    # A minute later, and hours later (the call is "high" now, whose bound is 4 h): nothing new.
    assert escalations_check(now=local(9, 3)) == 0
    assert escalations_check(now=local(16)) == 0
    assert Escalation.objects.filter(call=call).count() == 1


def test_a_deadline_risk_resolved_is_raised_again_only_when_it_gets_worse(
    manager, tom, make_call, settings
):
    settings.ESCALATE_AT_RISK_AFTER_MINUTES = 15
    # Behind a two-hour job: at risk by probability from about 08:35 (see behind_a_long_job).
    call = behind_a_long_job(make_call, tom, deadline=local(11))
    etas_refresh_day(day=DAY, now=local(8, 45))
    _set(call, updated_at=local(8))
    assert escalations_check(now=local(9, 1)) == 1
    first = _open(call)
    call.refresh_from_db()
    assert first.note == f"Deadline at risk: ETA {call.eta.astimezone(tz()):%H:%M} against 11:00"
    escalation_resolve(user=manager, escalation_id=first.pk, strategy="triage", now=local(9, 2))
    first.refresh_from_db()
    assert first.risk_at_resolution == "at_risk" and first.deadline_at_resolution == local(11)

    _set(call, updated_at=local(8))  # nobody has touched it since: the rule's own condition
    assert escalations_check(now=local(9, 3)) == 0
    assert escalations_check(now=local(10, 20)) == 0  # still only at risk, as decided

    etas_refresh_day(day=DAY, now=local(10, 30))  # now it is late: that is new
    call.refresh_from_db()
    assert call.risk == "late"
    _set(call, updated_at=local(8))
    assert escalations_check(now=local(10, 31)) == 1
    assert _open(call).note.startswith("Late: ETA ")


def test_a_new_deadline_after_the_resolution_lets_the_rules_look_again(
    manager, dispatcher, make_call
):
    call = _aging_call(make_call)
    escalations_check(now=local(9, 1))
    escalation_resolve(
        user=manager, escalation_id=_open(call).pk, strategy="triage", now=local(9, 2)
    )
    assert escalations_check(now=local(9, 3)) == 0
    call.refresh_from_db()
    call_update(user=dispatcher, call=call, changes={"deadline": local(12)}, now=local(9, 4))
    assert escalations_check(now=local(9, 5)) == 1


def test_a_person_escalates_a_resolved_call_again_whenever_the_customer_complains(
    manager, dispatcher, make_call
):
    call = _aging_call(make_call)
    escalations_check(now=local(9, 1))
    escalation_resolve(
        user=manager, escalation_id=_open(call).pk, strategy="triage", now=local(9, 2)
    )
    again = call_escalate(
        user=dispatcher, call_id=call.pk, reason="complaint", note="Called a third time"
    )
    assert again.status == "open" and again.raised_by == dispatcher


def test_the_queue_says_why_each_escalation_is_there(client, manager, dispatcher, make_call):
    aging = _aging_call(make_call)
    escalations_check(now=local(12, 1))
    dispatcher.first_name, dispatcher.last_name = "Dana", "Reyes"
    dispatcher.save()
    by_hand = make_call(summary="Boiler noise")
    call_escalate(user=dispatcher, call_id=by_hand.pk, reason="complaint", note="<b>Angry</b>")
    client.force_login(manager)
    html = client.get("/escalations/").content.decode()
    assert Escalation.objects.get(call=aging).note == "Waiting 1 d 3 h unassigned"
    assert "Waiting 1 d 3 h unassigned" in html
    assert "Raised by Dana Reyes: &lt;b&gt;Angry&lt;/b&gt;" in html
    assert "<b>Angry</b>" not in html


# --- 2. the form keeps what was typed ----------------------------------------------------------


@pytest.fixture
def full_service_call(make_call):
    customer = Customer.objects.create(name="Fullcare Inc", contract="full_service")
    site = Site.objects.create(customer=customer, address="9 Oak", lat=41.9, lng=-87.7)
    return make_call(customer=customer, site=site, window_start=local(8), deadline=local(10))


def _post(client, escalation, **form):
    return client.post(f"/escalations/{escalation.pk}/resolve/", form, follow=True)


def test_a_refused_accept_keeps_everything_typed_and_then_records_the_discount(
    client, manager, full_service_call, clock_at
):
    clock_at(local(7, 30))
    escalation = Escalation.objects.create(call=full_service_call, reason="complaint")
    client.force_login(manager)
    typed = {
        "strategy": "accept",
        "resolution": "No one free <today>",
        "discount_percent": "10",
        "new_day": TOMORROW.isoformat(),
        "new_from": "13:00",
        "new_to": "15:00",
    }
    refused = _post(client, escalation, **typed)
    html = refused.content.decode()
    assert refused.redirect_chain[-1][0] == f"/escalations/{escalation.pk}/"
    assert "needs the message we send the customer" in html
    assert 'value="accept" required checked' in html
    assert 'value="triage" required checked' not in html
    assert "No one free &lt;today&gt;</textarea>" in html
    assert 'name="discount_percent" type="number" min="0.01" max="100" step="0.01" value="10"' in (
        html
    )
    assert 'value="13:00"' in html and 'value="15:00"' in html
    assert f'value="{TOMORROW.isoformat()}"' in html
    # Only once: a fresh look at the page starts from the defaults again.
    assert (
        'value="accept" required checked'
        not in client.get(f"/escalations/{escalation.pk}/").content.decode()
    )

    done = _post(client, escalation, customer_message="Sorry: tomorrow instead.", **typed)
    assert done.redirect_chain[-1][0] == "/escalations/"
    assert "Goodwill recorded: 10.00 % off the next invoice." in done.content.decode()
    escalation.refresh_from_db()
    assert (
        escalation.status == "resolved" and str(escalation.concession_discount_percent) == "10.00"
    )
    assert CallEvent.objects.filter(call=full_service_call, kind="concession").count() == 1


def test_a_discount_over_the_limit_says_why_and_keeps_the_figure(
    client, manager, full_service_call, clock_at
):
    clock_at(local(7, 30))
    escalation = Escalation.objects.create(call=full_service_call, reason="complaint")
    client.force_login(manager)
    refused = _post(client, escalation, strategy="triage", discount_percent="150")
    html = refused.content.decode()
    assert "A discount must be more than 0 and at most 100 percent." in html
    assert 'step="0.01" value="150"' in html and 'value="triage" required checked' in html
    escalation.refresh_from_db()
    assert escalation.status == "open" and escalation.concession_discount_percent is None


# --- 3. accept reschedules honestly --------------------------------------------------------------


def test_accept_moves_the_call_off_todays_queue_to_the_new_window(
    client, manager, tom, north, make_call, clock_at
):
    clock_at(local(7, 30))
    late = make_call(tom, summary="Boiler", window_start=local(8), deadline=local(10))
    behind = make_call(tom, summary="Tap")
    etas_refresh_day(day=DAY, now=local(7, 30))
    escalation = Escalation.objects.create(call=late, reason="deadline_risk")
    client.force_login(manager)
    done = _post(
        client,
        escalation,
        strategy="accept",
        customer_message="We cannot make it today, sorry.",
        new_day=TOMORROW.isoformat(),
        new_from="09:00",
        new_to="11:00",
    )
    assert done.redirect_chain[-1][0] == "/escalations/"
    assert "Call moved to Wed 11 Mar 09:00–11:00" in done.content.decode()

    late.refresh_from_db()
    assert (late.technician_id, late.position, late.status) == (None, None, "new")
    assert late.scheduled_day == TOMORROW
    assert (late.window_start, late.deadline) == (local(9, day=TOMORROW), local(11, day=TOMORROW))
    assert late.promised_eta == local(11, day=TOMORROW)
    assert late.reschedule_count == 1
    behind.refresh_from_db()
    assert behind.position == 0  # tom's queue closed up

    # The message says the new time; the tracking page and the boards say the same.
    [body] = set(
        CustomerMessage.objects.filter(call=late, kind="update").values_list("body", flat=True)
    )
    assert (
        "We cannot make it today, sorry. "
        "Your visit is now Wednesday 11 March, between 09:00 and 11:00." in body
    )
    track = client.get(f"/track/{late.tracking_token}/").content.decode()
    assert "Wednesday 11 March" in track and "Wed 11 Mar" in track and "11:00" in track
    assert "08:00" not in track
    today = board_get(user=manager, day=DAY, team=north)
    assert late.pk not in {c.id for c in today.unassigned}
    assert late.pk not in {c.id for col in today.columns for c in col.calls}
    assert late.pk in {c.id for c in board_get(user=manager, day=TOMORROW, team=north).unassigned}

    # Every change is in the audit log.
    kinds = list(late.events.values_list("kind", flat=True))
    assert {"rescheduled", "resolved", "customer_notified"} <= set(kinds)
    moved = late.events.exclude(kind__in=["rescheduled", "resolved", "customer_notified"])
    assert any(e.payload.get("before", {}).get("technician") == tom.pk for e in moved)
    rescheduled = late.events.get(kind="rescheduled")
    assert rescheduled.actor == manager
    assert rescheduled.payload["after"]["scheduled_day"] == TOMORROW.isoformat()


@pytest.mark.parametrize(
    "window, words",
    [
        ((local(6), local(7)), "in the past"),
        ((local(11, day=TOMORROW), local(9, day=TOMORROW)), "must end after it starts"),
        ((local(22), local(9, day=TOMORROW)), "start and end on the same day"),
    ],
)
def test_accept_refuses_a_window_that_is_not_a_real_one(
    api, manager, make_call, clock_at, window, words
):
    clock_at(local(7, 30))
    call = make_call(deadline=local(10))
    escalation = Escalation.objects.create(call=call, reason="complaint")
    response = api.as_user(manager).post(
        f"/api/v1/escalations/{escalation.pk}/resolve/",
        {
            "strategy": "accept",
            "customer_message": "Sorry.",
            "reschedule": {
                "window_start": window[0].isoformat(),
                "deadline": window[1].isoformat(),
            },
        },
        format="json",
    )
    assert response.status_code == 400 and response.json()["field"] == "reschedule"
    assert words in response.json()["detail"]
    escalation.refresh_from_db()
    call.refresh_from_db()
    assert escalation.status == "open" and call.scheduled_day == DAY and call.reschedule_count == 0


def test_accept_needs_the_new_time_and_triage_refuses_one(api, manager, make_call, clock_at):
    clock_at(local(7, 30))
    escalation = Escalation.objects.create(call=make_call(), reason="complaint")
    client = api.as_user(manager)
    url = f"/api/v1/escalations/{escalation.pk}/resolve/"
    missing = client.post(url, {"strategy": "accept", "customer_message": "Sorry."}, format="json")
    assert missing.status_code == 400 and missing.json()["field"] == "reschedule"
    window = {
        "window_start": local(9, day=TOMORROW).isoformat(),
        "deadline": local(11, day=TOMORROW).isoformat(),
    }
    triage = client.post(url, {"strategy": "triage", "reschedule": window}, format="json")
    assert triage.status_code == 400 and "Only accept" in triage.json()["detail"]
    assert Escalation.objects.get(pk=escalation.pk).status == "open"


def tz():
    from django.utils import timezone

    return timezone.get_current_timezone()


# --- small items --------------------------------------------------------------------------------


def test_a_rescue_verdict_points_at_nothing_that_is_not_shown(tom, make_call):
    from dispatch.selectors.candidates import Excluded
    from dispatch.selectors.rescue import Rescue

    call = make_call()
    alone = Rescue(call, "late", [], []).verdict
    assert "below" not in alone and alone.endswith("nobody else can take it.")
    told = Rescue(call, "late", [], [Excluded(tom, "off shift")]).verdict
    assert "below" not in told and "(Tom: off shift)" in told


def test_the_escalation_page_names_people_and_shows_no_api_address(
    client, manager, tom, make_call, clock_at
):
    clock_at(local(7, 30))
    manager.first_name, manager.last_name = "Mia", "Lopez"
    manager.save()
    call = make_call(tom, deadline=local(8, 10))
    etas_refresh_day(day=DAY, now=local(7, 30))
    escalation = Escalation.objects.create(call=call, reason="complaint", raised_by=manager)
    event_record(call=call, actor=tom.user, kind="status")
    client.force_login(manager)
    html = client.get(f"/escalations/{escalation.pk}/").content.decode()
    assert "/api/v1/" not in html
    assert "by Tom" in html and "by tom" not in html  # the technician's name, not the login
    assert "Mia Lopez" in html
