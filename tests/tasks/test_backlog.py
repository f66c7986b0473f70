"""The backlog alert, checked by a real worker as the beat would every minute."""

from __future__ import annotations

import pytest

from dispatch.models import BacklogAlert
from tests.conftest import local
from tests.tasks.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_raises_and_clears_the_backlog_alert(send_task, tom, make_call):
    call = make_call(duration_minutes=400)  # Tom has 300 min left after noon
    send_task("dispatch.tasks.check_backlog", local(12).isoformat())
    assert wait_for(BacklogAlert.objects.filter(team=tom.team, cleared_at__isnull=True).exists)
    call.status = "cancelled"
    call.save()
    send_task("dispatch.tasks.check_backlog", local(12, 1).isoformat())
    assert wait_for(BacklogAlert.objects.filter(cleared_at=local(12, 1)).exists)
    assert BacklogAlert.objects.count() == 1
