"""Customer messages: each kind, once per change, on the channels settings choose."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection

from customers.messaging import customer_messages_sweep
from customers.models import CustomerMessage
from customers.sms import SmsBackend, SmsError
from dispatch.models import CallEvent, ServiceCall
from dispatch.services.call_status import call_status_update
from dispatch.services.calls import call_book
from dispatch.services.etas import etas_refresh_day
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db

EMAIL, PHONE = "orders@acme.example", "+1 312 555 0100"


@pytest.fixture
def reachable(customer):
    customer.email, customer.phone = EMAIL, PHONE
    customer.save()
    return customer


def booked_at(call: ServiceCall, when) -> ServiceCall:
    ServiceCall.objects.filter(pk=call.pk).update(created_at=when)
    call.refresh_from_db()
    return call


def sent(kind: str, channel: str | None = None):
    rows = CustomerMessage.objects.filter(kind=kind, status="sent")
    return rows.filter(channel=channel) if channel else rows


def notified(call: ServiceCall):
    return CallEvent.objects.filter(call=call, kind="customer_notified")


# --- each kind -------------------------------------------------------------------------------


def test_a_booking_is_confirmed_once_by_email_and_sms_with_the_window(reachable, site, csr):
    call = call_book(
        user=csr,
        customer=reachable,
        site=site,
        summary="Walk-in cooler warm",
        scheduled_day=DAY,
        duration_minutes=60,
        window_start=local(9),
        deadline=local(11),
        now=local(7, 30),
    )
    booked_at(call, local(7, 30))
    assert customer_messages_sweep(now=local(7, 31)) == 2
    assert customer_messages_sweep(now=local(7, 32)) == 0  # nothing twice

    [email] = mail.outbox
    assert email.to == [EMAIL] and "booked" in email.subject
    assert "between 09:00 and 11:00" in email.body and "Walk-in cooler warm" in email.body
    assert f"/track/{call.tracking_token}/" in email.body
    from customers.sms import outbox

    [sms] = outbox
    assert sms.to == PHONE and "between 09:00 and 11:00" in sms.body
    events = notified(call)
    assert sorted(e.payload["channel"] for e in events) == ["email", "sms"]
    assert {e.payload["message"] for e in events} == {"booking_confirmation"}
    assert {e.payload["status"] for e in events} == {"sent"}


def test_on_my_way_names_the_technician_by_first_name_with_the_eta(reachable, tom, make_call):
    tom.name = "Tom Kowalczyk"
    tom.save()
    call = make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50))
    booked_at(call, local(7))  # long ago: no booking confirmation now

    customer_messages_sweep(now=local(8, 51))
    customer_messages_sweep(now=local(8, 52))

    assert sent("on_my_way").count() == 2  # email and SMS, once
    [email] = mail.outbox
    assert "Tom is on the way to you and should arrive around 09:05" in email.body
    assert "Kowalczyk" not in email.body and "Kowalczyk" not in email.subject


def test_a_trip_stamped_after_the_sweeps_now_waits_for_the_next_sweep(reachable, tom, make_call):
    """The status change committed after the sweep read the clock: announcing it now would stamp
    the announcement before the trip, and the next sweep would announce it again."""
    call = make_call(
        tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50) + timedelta(seconds=30)
    )
    booked_at(call, local(7))
    customer_messages_sweep(now=local(8, 50))
    assert not CustomerMessage.objects.exists()
    for minute in (51, 52, 53):
        customer_messages_sweep(now=local(8, minute))
    assert sent("on_my_way", "email").count() == 1


def test_a_second_trip_is_announced_again(reachable, tom, make_call):
    call = make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50))
    booked_at(call, local(7))
    customer_messages_sweep(now=local(8, 51))
    # Sent back to the queue and out again later: a new trip.
    ServiceCall.objects.filter(pk=call.pk).update(en_route_at=local(10), eta=local(10, 20))
    customer_messages_sweep(now=local(10, 1))
    customer_messages_sweep(now=local(10, 2))
    trips = sent("on_my_way", "email").order_by("sequence")
    assert [m.sequence for m in trips] == [1, 2]
    assert "10:20" in trips[1].body


def test_a_delay_notice_goes_out_once_per_change_not_every_minute(reachable, tom, make_call):
    """Time passes a minute at a time with the recompute running; the ETA slides past the
    deadline. The first notice when the call becomes likely to miss the deadline (P(late) at
    least 0.5: with only a drive ahead, that is when the ETA reaches it), the next only when it
    has slipped 15 minutes further than the last notice said."""
    call = make_call(tom, deadline=local(10))
    booked_at(call, local(7))
    now, etas = local(9, 30), []
    while now <= local(11, 10):
        etas_refresh_day(day=DAY, now=now)
        customer_messages_sweep(now=now)
        now += timedelta(minutes=1)
        etas.append(ServiceCall.objects.get(pk=call.pk).eta)

    notices = list(sent("delay", "email").order_by("sequence"))
    # Tom sets off at "now" (his queue has only this call), so the ETA moves a minute a minute.
    assert etas[-1] > local(11)
    assert [n.sequence for n in notices] == [1, 2, 3, 4, 5]
    first_eta = notices[0].eta
    assert local(10) <= first_eta < local(10, 2)  # not 15 minutes past the deadline first
    for before, after in zip(notices, notices[1:], strict=False):
        assert timedelta(minutes=15) < after.eta - before.eta <= timedelta(minutes=16)
    assert sent("delay", "sms").count() == 5
    assert f"around {first_eta.astimezone(local(0).tzinfo):%H:%M}" in notices[0].body
    # "Around 10:00" is not later than "by 10:00" as the customer reads it: only "may".
    assert "we may not make the time we gave you (by 10:00)" in notices[0].body
    assert "later than" not in notices[0].body
    assert "later than the time we gave you (by 10:00)" in notices[1].body
    assert notified(call).filter(payload__message="delay").count() == 10


def test_a_call_likely_to_miss_its_deadline_is_told_while_the_eta_is_still_inside(
    reachable, tom, make_call
):
    call = make_call(
        tom,
        window_start=local(9),
        deadline=local(10),
        eta=local(9, 45),
        eta_p80=local(10, 20),
        p_late=0.6,
    )
    booked_at(call, local(7))
    customer_messages_sweep(now=local(9, 10))

    [notice] = sent("delay", "email")
    assert notice.eta == local(9, 45)
    assert notice.subject == "We may be running late"
    assert "we now expect to arrive around 09:45" in notice.body
    assert "we may not make the time we gave you (between 09:00 and 10:00)" in notice.body
    assert "Most likely we will be there by 10:20." in notice.body
    assert "later than" not in notice.body  # the ETA is not later than the promise


def test_the_chance_that_tells_the_customer_is_a_setting_and_counts_from_it(
    reachable, tom, make_call, settings
):
    settings.CUSTOMER_DELAY_NOTICE_P_LATE = 0.7
    call = make_call(tom, deadline=local(10), eta=local(9, 45), p_late=0.69)
    booked_at(call, local(7))
    customer_messages_sweep(now=local(9, 10))
    assert not sent("delay").exists()  # below the bar, and the ETA inside the deadline
    ServiceCall.objects.filter(pk=call.pk).update(p_late=0.7)
    customer_messages_sweep(now=local(9, 11))
    assert sent("delay", "email").get().eta == local(9, 45)  # at the bar: told


def test_a_chance_wavering_around_the_bar_sends_one_notice_until_the_eta_slips(
    reachable, tom, make_call
):
    """Told once at 60%; the chance falls back and rises again, the ETA moves back and forth by
    less than 15 minutes from what the notice said: nothing more (and nothing taken back). A
    slip of more than 15 minutes past the notice sends the next, now "later than"."""
    call = make_call(tom, deadline=local(10), eta=local(9, 45), eta_p80=local(10, 5), p_late=0.6)
    booked_at(call, local(7))
    customer_messages_sweep(now=local(9, 10))
    assert sent("delay", "email").count() == 1

    for minute, (p_late, eta) in enumerate(
        [(0.4, local(9, 40)), (0.2, local(9, 30)), (0.55, local(9, 50)), (0.9, local(10))],
        start=11,
    ):
        ServiceCall.objects.filter(pk=call.pk).update(p_late=p_late, eta=eta)
        customer_messages_sweep(now=local(9, minute))
    assert sent("delay", "email").count() == 1

    ServiceCall.objects.filter(pk=call.pk).update(
        p_late=0.95, eta=local(10, 1), eta_p80=local(10, 25)
    )
    customer_messages_sweep(now=local(9, 20))
    notices = list(sent("delay", "email").order_by("sequence"))
    assert [n.eta for n in notices] == [local(9, 45), local(10, 1)]
    assert notices[1].subject == "We are running late"
    assert "around 10:01, later than the time we gave you (by 10:00)" in notices[1].body
    assert "Most likely we will be there by 10:25." in notices[1].body


def test_without_a_deadline_the_promised_eta_plus_the_promise_window_counts(
    reachable, tom, make_call, settings
):
    settings.CUSTOMER_PROMISE_WINDOW_MINUTES = 30
    settings.CUSTOMER_DELAY_NOTICE_MINUTES = 15
    call = make_call(tom, promised_eta=local(9), eta=local(9, 44))
    booked_at(call, local(7))
    customer_messages_sweep(now=local(9))
    assert not sent("delay").exists()  # 44 minutes: within 30 + 15
    ServiceCall.objects.filter(pk=call.pk).update(eta=local(9, 46))
    customer_messages_sweep(now=local(9, 1))
    assert sent("delay", "email").get().eta == local(9, 46)


def test_without_a_deadline_no_chance_counts_and_the_notice_gives_the_p80(
    reachable, tom, make_call, settings
):
    """No deadline, no chance of missing it: a stray p_late does not bring the notice forward.
    The notice, when the promised ETA's rule sends it, says by when we most likely arrive."""
    settings.CUSTOMER_PROMISE_WINDOW_MINUTES = 30
    settings.CUSTOMER_DELAY_NOTICE_MINUTES = 15
    call = make_call(tom, promised_eta=local(9), eta=local(9, 44), p_late=0.95)
    booked_at(call, local(7))
    customer_messages_sweep(now=local(9))
    assert not sent("delay").exists()
    ServiceCall.objects.filter(pk=call.pk).update(eta=local(9, 46), eta_p80=local(10, 10))
    customer_messages_sweep(now=local(9, 1))
    notice = sent("delay", "email").get()
    assert "around 09:46, later than the time we gave you (around 09:00)" in notice.body
    assert "Most likely we will be there by 10:10." in notice.body


def test_a_delay_is_not_announced_once_the_technician_is_there(reachable, tom, make_call):
    call = make_call(tom, status="on_site", deadline=local(9), eta=local(10))
    booked_at(call, local(7))
    customer_messages_sweep(now=local(10, 5))
    assert not CustomerMessage.objects.exists()


def test_still_on_it_after_a_long_wait_and_again_after_another(reachable, make_call, settings):
    settings.CUSTOMER_STILL_ON_IT_MINUTES = 120
    booked_at(make_call(), local(8, 30))
    for minute in range(0, 6 * 60, 5):  # 08:30 .. 14:25, every five minutes
        customer_messages_sweep(now=local(8, 30) + timedelta(minutes=minute))
    notices = list(sent("still_on_it", "email").order_by("sequence"))
    assert [n.created_at for n in notices] == [local(10, 30), local(12, 30)]
    assert "We have not forgotten" in notices[0].body and "No hot water" in notices[0].body


def test_an_appointment_booked_ahead_is_not_a_long_wait(reachable, make_call, settings):
    settings.CUSTOMER_STILL_ON_IT_MINUTES = 120
    call = make_call(window_start=local(14), deadline=local(16))
    booked_at(call, local(8) - timedelta(days=3))
    customer_messages_sweep(now=local(13))
    assert not sent("still_on_it").exists()
    customer_messages_sweep(now=local(16))
    assert sent("still_on_it", "email").get().created_at == local(16)


# --- contacts, channels and failures ---------------------------------------------------------


def test_a_customer_without_email_or_phone_is_skipped_and_the_history_says_why(
    customer, tom, make_call
):
    call = make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50))
    booked_at(call, local(7))
    assert customer_messages_sweep(now=local(8, 51)) == 0
    customer_messages_sweep(now=local(8, 52))
    from customers.sms import outbox

    assert mail.outbox == [] and outbox == []
    rows = CustomerMessage.objects.filter(call=call)
    assert {(m.channel, m.status) for m in rows} == {("email", "skipped"), ("sms", "skipped")}
    reasons = {e.payload["reason"] for e in notified(call)}
    assert reasons == {
        "The customer has no email address on file.",
        "The customer has no phone number on file.",
    }


def test_channels_are_chosen_by_settings(reachable, tom, make_call, settings, tmp_path):
    settings.CUSTOMER_MESSAGE_CHANNELS = ["sms"]
    settings.SMS_BACKEND = "customers.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    call = make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50))
    booked_at(call, local(7))
    customer_messages_sweep(now=local(8, 51))
    assert mail.outbox == []
    [written] = list(tmp_path.iterdir())
    assert written.read_text().startswith(PHONE + "\n") and "on the way" in written.read_text()


def test_sms_without_a_provider_is_skipped_with_the_reason(reachable, tom, make_call, settings):
    settings.SMS_BACKEND = "customers.sms.DisabledSmsBackend"
    call = make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50))
    booked_at(call, local(7))
    customer_messages_sweep(now=local(8, 51))
    assert len(mail.outbox) == 1
    skipped = CustomerMessage.objects.get(channel="sms")
    assert skipped.status == "skipped" and "SMS is not configured" in skipped.detail


class FlakySms(SmsBackend):
    """Fails while `down` is set; counts every try."""

    down = True
    tries = 0

    def send(self, sms):
        FlakySms.tries += 1
        if FlakySms.down:
            raise SmsError("provider answered 503")
        return "flaky-ok"


def test_a_failing_channel_is_retried_with_backoff_and_the_other_is_not_resent(
    reachable, tom, make_call, settings
):
    settings.SMS_BACKEND = "tests.customers.test_messages.FlakySms"
    FlakySms.down, FlakySms.tries = True, 0
    call = make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50))
    booked_at(call, local(7))
    start = local(8, 51)
    for seconds in range(0, 8 * 60, 30):  # a sweep every 30 s for 8 minutes
        if seconds == 6 * 60:
            FlakySms.down = False
        customer_messages_sweep(now=start + timedelta(seconds=seconds))
    # Tries at +0, +1, +3 (1 then 2 minutes later), +7 (4 minutes later): sent then.
    assert FlakySms.tries == 4
    message = CustomerMessage.objects.get(channel="sms")
    assert message.status == "sent" and message.attempts == 4
    assert message.sent_at == start + timedelta(minutes=7)
    assert len(mail.outbox) == 1  # the email went at once and only once


def test_a_channel_that_keeps_failing_gives_up_and_says_so(reachable, tom, make_call, settings):
    settings.SMS_BACKEND = "tests.customers.test_messages.FlakySms"
    settings.CUSTOMER_MESSAGE_MAX_ATTEMPTS = 2
    FlakySms.down, FlakySms.tries = True, 0
    call = make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50))
    booked_at(call, local(7))
    for minute in range(10):
        customer_messages_sweep(now=local(8, 51) + timedelta(minutes=minute))
    message = CustomerMessage.objects.get(channel="sms")
    assert message.status == "failed" and FlakySms.tries == 2
    assert "Gave up after 2 tries" in message.detail
    assert notified(call).filter(payload__status="failed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_booking_sends_the_confirmation_after_commit_without_a_broker(
    reachable, site, csr, settings
):
    settings.REDIS_URL = ""  # in-process: the per-call task runs right after the commit
    call = call_book(
        user=csr,
        customer=reachable,
        site=site,
        summary="No heat",
        scheduled_day=DAY,
        duration_minutes=60,
        promised_eta=local(10),
    )
    [email] = mail.outbox
    assert "around 10:00" in email.body
    assert CustomerMessage.objects.filter(call=call, status="sent").count() == 2


# --- idempotency under concurrency -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_message_exactly_once(reachable, tom, tina, make_call):
    calls = [
        make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 44)),
        make_call(tina, deadline=local(9), eta=local(10)),
        make_call(),
        make_call(),
    ]
    for call in calls:
        booked_at(call, local(8, 40))
    barrier, errors, results = threading.Barrier(2), [], []

    def sweep() -> None:
        try:
            barrier.wait()
            results.append(customer_messages_sweep(now=local(8, 45)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    # Three booking confirmations (not the call already en route), one "on my way", one delay:
    # five messages on two channels.
    expected = 5 * 2
    assert sum(results) == expected
    from customers.sms import outbox

    assert len(mail.outbox) == 5 and len(outbox) == 5
    assert CustomerMessage.objects.count() == expected
    assert CallEvent.objects.filter(kind="customer_notified").count() == expected


class StuckSms(SmsBackend):
    """A provider that hangs until released, so a delivery is caught in the middle."""

    entered = threading.Event()
    release = threading.Event()

    def send(self, sms):
        StuckSms.entered.set()
        StuckSms.release.wait(timeout=20)
        return "stuck-ok"


@pytest.mark.django_db(transaction=True)
def test_a_slow_channel_never_holds_up_a_board_move(
    reachable, dispatcher, tom, tina, make_call, settings
):
    from dispatch.services.moves import call_move

    settings.SMS_BACKEND = "tests.customers.test_messages.StuckSms"
    StuckSms.entered.clear()
    StuckSms.release.clear()
    call = make_call(tom, status="assigned", deadline=local(9), eta=local(10))
    booked_at(call, local(7))

    def sweep() -> None:
        try:
            customer_messages_sweep(now=local(9, 20))
        finally:
            connection.close()

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        assert StuckSms.entered.wait(timeout=20), "the delivery never reached the provider"
        with connection.cursor() as cursor:  # a move that had to wait would fail, not hang
            cursor.execute("SET lock_timeout = '2s'")
        result = call_move(
            user=dispatcher,
            call_id=call.pk,
            technician_id=tina.pk,
            position=0,
            expected_version=call.version,
            require_confirmation=False,
            now=local(9, 20),
        )
        assert result.applied
        assert ServiceCall.objects.get(pk=call.pk).technician_id == tina.pk
    finally:
        StuckSms.release.set()
        sweeper.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert CustomerMessage.objects.filter(call=call, channel="sms", status="sent").exists()


def test_a_managers_message_on_an_escalation_is_delivered_once(
    reachable, api, manager, make_call, clock_at
):
    from dispatch.services.escalations import escalation_raise

    clock_at(local(7, 30))
    call = booked_at(make_call(), local(7))
    escalation = escalation_raise(call_id=call.pk, reason="complaint", note="Called twice")
    body = {
        "strategy": "accept",
        "customer_message": "We will be about an hour late; sorry.",
        # Accept says when instead (issue 15): the window we now promise.
        "reschedule": {"window_start": local(9).isoformat(), "deadline": local(10).isoformat()},
    }
    response = api.as_user(manager).post(
        f"/api/v1/escalations/{escalation.pk}/resolve/", body, format="json"
    )
    assert response.status_code == 200, response.content
    customer_messages_sweep(now=local(7, 31))
    customer_messages_sweep(now=local(7, 32))
    update = [m for m in mail.outbox if m.subject == "An update about your service visit"]
    assert len(update) == 1 and "about an hour late; sorry." in update[0].body
    rows = CustomerMessage.objects.filter(kind="update", status="sent")
    assert rows.count() == 2 and {r.dedupe_key.split(":")[2] for r in rows} == {
        f"escalation-{escalation.pk}"
    }


def test_a_booking_for_next_week_is_confirmed_with_its_date(reachable, make_call):
    next_week = DAY + timedelta(days=7)
    call = make_call(
        scheduled_day=next_week,
        window_start=local(13, day=next_week),
        deadline=local(15, day=next_week),
    )
    booked_at(call, local(9))
    customer_messages_sweep(now=local(9, 1))
    [email] = mail.outbox
    assert "Tuesday 17 March" in email.body and "between 13:00 and 15:00" in email.body


# --- cost ------------------------------------------------------------------------------------


def test_a_sweep_with_nothing_due_reads_a_fixed_few_queries_however_many_calls(
    reachable, tom, tina, make_call, django_assert_num_queries
):
    def calls(n: int) -> None:
        for i in range(n):
            booked_at(make_call(tom if i % 2 else tina, deadline=local(17), eta=local(9)), local(8))

    calls(3)
    customer_messages_sweep(now=local(8, 5))  # the confirmations go out
    with django_assert_num_queries(5):  # one per rule, one for pending rows
        assert customer_messages_sweep(now=local(8, 6)) == 0
    calls(12)
    customer_messages_sweep(now=local(8, 5))
    with django_assert_num_queries(5):
        assert customer_messages_sweep(now=local(8, 6)) == 0


def test_each_message_costs_the_same_few_queries_to_send(
    reachable, make_call, django_assert_num_queries
):
    for _ in range(4):
        booked_at(make_call(), local(8))
    from customers.messaging import customer_messages_deliver, customer_messages_plan

    customer_messages_plan(now=local(8, 1))
    # One page of pending ids, an empty page after it, and per message: lock (with its call),
    # the history entry, the row's update, in a savepoint of its own. The history entry is
    # three statements, not one: the audit chain locks the call's row and reads the hash of its
    # last event before the INSERT (dispatch/services/events.py), so 5 + 2 per message.
    with django_assert_num_queries(2 + 8 * 7):
        assert customer_messages_deliver(now=local(8, 1)) == 8


def test_a_retry_that_outlives_the_visit_is_dropped_with_the_reason(
    reachable, tom, make_call, settings
):
    settings.SMS_BACKEND = "tests.customers.test_messages.FlakySms"
    FlakySms.down, FlakySms.tries = True, 0
    call = make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50))
    booked_at(call, local(7))
    customer_messages_sweep(now=local(8, 51))  # the SMS fails and waits for a retry
    ServiceCall.objects.filter(pk=call.pk).update(status="cancelled", position=None)
    FlakySms.down = False
    customer_messages_sweep(now=local(8, 55))
    sms_row = CustomerMessage.objects.get(channel="sms")
    assert sms_row.status == "skipped" and sms_row.detail == "The call was cancelled first."
    assert FlakySms.tries == 1


def test_still_on_it_waits_for_working_hours(reachable, make_call, settings):
    settings.CUSTOMER_STILL_ON_IT_MINUTES = 120
    booked_at(make_call(), local(17, 30))
    customer_messages_sweep(now=local(17, 31))  # the confirmation
    for hour in (20, 22, 23):
        customer_messages_sweep(now=local(hour, 5))
    assert not sent("still_on_it").exists()
    next_morning = local(8, 0, day=DAY + timedelta(days=1))
    customer_messages_sweep(now=next_morning)
    assert sent("still_on_it", "email").get().created_at == next_morning


# --- the API ---------------------------------------------------------------------------------


def test_the_api_lists_a_calls_messages_for_office_staff_only(
    api, csr, tom, otto, reachable, make_call
):
    call = make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50))
    booked_at(call, local(7))
    customer_messages_sweep(now=local(8, 51))
    response = api.as_user(csr).get(f"/api/v1/calls/{call.pk}/messages/")
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [(r["kind"], r["channel"], r["status"]) for r in rows] == [
        ("on_my_way", "email", "sent"),
        ("on_my_way", "sms", "sent"),
    ]
    assert rows[0]["recipient"] == EMAIL and "on the way" in rows[0]["body"]
    # The call's own technician sees the call but not what the customer was sent.
    assert api.as_user(tom.user).get(f"/api/v1/calls/{call.pk}/messages/").status_code == 403
    # Another team's technician cannot even see the call.
    assert api.as_user(otto.user).get(f"/api/v1/calls/{call.pk}/messages/").status_code == 404
    assert api.as_user(csr).get("/api/v1/calls/999999/messages/").status_code == 404


def test_the_messages_endpoint_is_in_the_schema(api, csr):
    schema = api.as_user(csr).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/calls/{id}/messages/"]["get"]
    assert "CustomerMessage" in str(operation["responses"]["200"])


@pytest.mark.django_db(transaction=True)
def test_setting_off_tells_the_customer_at_once_without_waiting_for_the_sweep(
    reachable, tom, make_call, settings, clock_at
):
    settings.REDIS_URL = ""  # in-process: the per-call task runs right after the commit
    clock_at(local(8, 50))
    call = booked_at(make_call(tom, status="assigned", eta=local(9, 5)), local(7))
    mail.outbox.clear()

    call_status_update(
        user=tom.user,
        call_id=call.pk,
        status="en_route",
        expected_version=call.version,
        now=local(8, 50),
    )

    assert sent("on_my_way").count() == 2  # email and SMS, from the status change alone
    assert "is on the way to you" in mail.outbox[-1].body
