"""The minute-by-minute recompute, run by a real worker."""

from __future__ import annotations

import time

import pytest

from dispatch.models import ServiceCall
from tests.conftest import DAY

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_worker_recomputes_every_queue_of_the_day(send_task, tom, tina, make_call):
    calls = [make_call(tom), make_call(tom), make_call(tina), make_call()]
    assert all(c.eta_computed_at is None for c in calls)
    send_task("dispatch.tasks.recompute_day", DAY.isoformat())
    computed = ServiceCall.objects.filter(eta_computed_at__isnull=False)
    assert wait_for(lambda: computed.count() == 4), "the worker did not recompute the day"
    queued = ServiceCall.objects.filter(technician__isnull=False)
    assert all(c.eta and c.risk for c in queued)


def test_time_passing_gets_a_call_flagged_at_risk_by_the_worker_with_one_event(
    send_task, tom, make_call
):
    from dispatch.models import CallEvent
    from tests.conftest import behind_a_long_job, local

    # Behind a two-hour job: at risk by probability from about 08:35 (see behind_a_long_job).
    call = behind_a_long_job(make_call, tom, deadline=local(11))
    send_task("dispatch.tasks.recompute_day", DAY.isoformat(), local(7, 30).isoformat())
    assert wait_for(lambda: ServiceCall.objects.get(pk=call.pk).risk == "ok")
    for minute in (45, 50):  # twice while at risk: still one event
        send_task("dispatch.tasks.recompute_day", DAY.isoformat(), local(8, minute).isoformat())
    at_risk = ServiceCall.objects.filter(pk=call.pk, risk="at_risk", eta_computed_at=local(8, 50))
    assert wait_for(at_risk.exists), "the worker did not flag the call"
    events = CallEvent.objects.filter(call=call, kind="risk_raised")
    assert events.count() == 1 and events.get().payload["after"] == "at_risk"


def test_the_worker_escalates_an_emergency_nobody_took(send_task, make_call):
    from dispatch.models import Escalation
    from tests.conftest import local

    call = make_call(priority="emergency")
    ServiceCall.objects.filter(pk=call.pk).update(created_at=local(8))
    send_task("dispatch.tasks.check_escalations", local(9).isoformat())
    assert wait_for(Escalation.objects.filter(call=call, reason="safety").exists)
