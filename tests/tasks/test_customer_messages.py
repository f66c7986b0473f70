"""Customer messages sent by a real worker: the task sends on each channel and logs it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from customers.models import CustomerMessage
from dispatch.models import CallEvent, ServiceCall
from tests.conftest import local
from tests.tasks.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_sends_on_my_way_by_email_and_sms_and_logs_it(
    send_task, worker_outbox, customer, tom, make_call
):
    customer.email, customer.phone = "frontdesk@acme.example", "+1 312 555 0142"
    customer.save()
    tom.name = "Tom Kowalczyk"
    tom.save()
    call = make_call(tom, status="en_route", eta=local(9, 5), en_route_at=local(8, 50))
    ServiceCall.objects.filter(pk=call.pk).update(created_at=local(7))

    for _ in range(2):  # twice: the second run finds nothing left to send
        send_task("customers.tasks.messages_send_for_call", call.pk, local(8, 52).isoformat())
    sent = CustomerMessage.objects.filter(call=call, kind="on_my_way", status="sent")
    assert wait_for(lambda: sent.count() == 2), "the worker did not send the messages"
    events = CallEvent.objects.filter(call=call, kind="customer_notified")
    assert wait_for(lambda: events.count() == 2)

    emails = list((worker_outbox / "email").iterdir())
    mine = [p.read_text() for p in emails if "frontdesk@acme.example" in p.read_text()]
    assert len(mine) == 1 and "Tom is on the way to you and should arrive around 09:05" in mine[0]
    texts = [p.read_text() for p in (worker_outbox / "sms").iterdir()]
    mine = [t for t in texts if t.startswith("+1 312 555 0142\n")]
    assert len(mine) == 1 and "Kowalczyk" not in mine[0]
    assert {e.payload["channel"] for e in events} == {"email", "sms"}
    assert CustomerMessage.objects.filter(call=call).count() == 2  # nothing planned twice


def test_the_beat_sweep_sends_a_delay_notice_once(
    send_task, worker_outbox, customer, make_call, tom
):
    customer.email = "late@acme.example"
    customer.save()
    call = make_call(tom, deadline=local(10), eta=local(10, 40))
    ServiceCall.objects.filter(pk=call.pk).update(created_at=local(7))
    # Two hours of waiting end between the two sweeps: its "still on it" shows the second ran.
    marker = make_call()
    ServiceCall.objects.filter(pk=marker.pk).update(created_at=local(8, 41) + timedelta(seconds=30))
    for minute in (41, 42):
        send_task("customers.tasks.messages_sweep", local(10, minute).isoformat())
    delay = CustomerMessage.objects.filter(call=call, kind="delay", channel="email")
    second_ran = CustomerMessage.objects.filter(call=marker, kind="still_on_it", status="sent")
    assert wait_for(second_ran.exists), "the second sweep did not run"
    assert delay.filter(status="sent").exists()
    assert wait_for(lambda: CustomerMessage.objects.filter(call=call, kind="delay").count() == 2)
    assert delay.get().eta == local(10, 40)
    mine = [p.read_text() for p in (worker_outbox / "email").iterdir()]
    assert sum("late@acme.example" in m and "running late" in m for m in mine) == 1


def test_the_beat_sweep_tells_a_customer_whose_call_is_likely_to_miss_its_deadline(
    send_task, worker_outbox, customer, make_call, tom
):
    """The ETA is still inside the deadline, but the chance of missing it is 70%."""
    customer.email = "maybe-late@acme.example"
    customer.save()
    call = make_call(tom, deadline=local(10), eta=local(9, 45), eta_p80=local(10, 15), p_late=0.7)
    ServiceCall.objects.filter(pk=call.pk).update(created_at=local(7))
    send_task("customers.tasks.messages_sweep", local(9, 10).isoformat())
    delay = CustomerMessage.objects.filter(call=call, kind="delay", channel="email")
    assert wait_for(delay.filter(status="sent").exists), "no delay notice was sent"
    assert delay.get().eta == local(9, 45)
    mine = [p.read_text() for p in (worker_outbox / "email").iterdir()]
    [text] = [m for m in mine if "maybe-late@acme.example" in m and "running late" in m]
    assert "may be running late" in text and "may not make the time we gave you (by 10:00)" in text
    assert "Most likely we will be there by 10:15." in text
