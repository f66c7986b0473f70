"""Direct guards of "nobody is told twice" and "one open escalation per call" (issue 20)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from customers.messaging import customer_messages_plan, customer_update_queue
from customers.models import CustomerMessage
from dispatch.models import Escalation
from dispatch.services.escalations import escalation_raise
from tests.conftest import local

pytestmark = pytest.mark.django_db


@pytest.fixture
def reachable(customer):
    customer.email, customer.phone = "orders@acme.example", "+1 312 555 0100"
    customer.save()
    return customer


def test_the_same_update_queued_twice_is_one_row_per_channel(reachable, make_call, settings):
    call = make_call(deadline=local(16))
    channels = len(settings.CUSTOMER_MESSAGE_CHANNELS)
    for _ in range(2):
        customer_update_queue(call=call, text="We are on it.", change="escalation-7", now=local(9))
    assert CustomerMessage.objects.filter(call=call).count() == channels
    customer_update_queue(call=call, text="A new time.", change="escalation-8", now=local(9))
    assert CustomerMessage.objects.filter(call=call).count() == 2 * channels
    keys = list(CustomerMessage.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys))


def test_planning_the_due_messages_twice_writes_them_once(reachable, tom, make_call):
    make_call(tom, deadline=local(16), status="en_route", en_route_at=local(9))
    customer_messages_plan(now=local(9, 1))
    first = CustomerMessage.objects.count()
    customer_messages_plan(now=local(9, 1))
    assert first > 0 and CustomerMessage.objects.count() == first


def test_the_database_refuses_a_second_open_escalation_for_a_call(make_call):
    call = make_call(deadline=local(16))
    Escalation.objects.create(call=call, reason="complaint")
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(call=call, reason="aging")
    assert escalation_raise(call_id=call.pk, reason="aging", now=local(9)) is None
    Escalation.objects.filter(call=call).update(status="resolved")
    assert escalation_raise(call_id=call.pk, reason="aging", now=local(9)) is not None
    assert Escalation.objects.filter(call=call, status="open").count() == 1
