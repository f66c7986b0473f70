"""Hand-off offers nobody answered lapse on the beat's schedule, run by a real worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings

from dispatch.models import CallEvent
from dispatch.services.handoffs import handoff_offer
from technicians.models import HandoffOffer
from tests.conftest import local
from tests.tasks.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_beat_has_the_expiry_check_every_minute():
    from config.celery import app
    from dispatch.tasks import expire_handoff_offers

    app.finalize()  # as beat does before it reads the schedule
    entry = app.conf.beat_schedule["expire-handoff-offers"]
    assert entry["task"] == expire_handoff_offers.name and entry["schedule"] == 60.0


def test_the_worker_expires_an_unanswered_offer_once_with_one_event(
    send_task, tom, tina, make_call
):
    call = make_call(tom)
    offer = handoff_offer(
        user=tom.user,
        call_id=call.pk,
        to_technician_id=tina.pk,
        expected_version=call.version,
        now=local(9),
    )
    lapsed = local(9) + timedelta(minutes=settings.HANDOFF_OFFER_MINUTES)
    for _ in range(2):  # twice: still one event
        send_task("dispatch.tasks.expire_handoff_offers", lapsed.isoformat())
    expired = HandoffOffer.objects.filter(pk=offer.pk, status="expired")
    assert wait_for(expired.exists), "the worker did not expire the offer"
    send_task("dispatch.tasks.expire_handoff_offers", lapsed.isoformat())
    assert wait_for(
        lambda: CallEvent.objects.filter(call=call, kind="handoff_expired").count() == 1
    )


def test_without_a_broker_the_minute_loop_expires_offers(
    tom, tina, make_call, settings, clock_at, monkeypatch
):
    from django.core.management import call_command

    from dispatch.management.commands import recompute_etas

    settings.REDIS_URL = ""
    call = make_call(tom)
    handoff_offer(
        user=tom.user,
        call_id=call.pk,
        to_technician_id=tina.pk,
        expected_version=call.version,
        now=local(9),
    )
    clock_at(local(9) + timedelta(minutes=settings.HANDOFF_OFFER_MINUTES))

    class OnePass(Exception):
        pass

    def stop_after_one_pass(_seconds):
        raise OnePass  # `--every` loops forever; one pass is what it does each minute

    monkeypatch.setattr(recompute_etas.time, "sleep", stop_after_one_pass)
    with pytest.raises(OnePass):
        call_command("recompute_etas", "--every", "60")
    assert HandoffOffer.objects.get(call=call).status == "expired"
