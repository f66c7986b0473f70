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
