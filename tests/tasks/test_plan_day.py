"""A real Celery worker computes a day plan asked for through the service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.models import DayPlan
from tests.tasks.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_computes_a_plan_and_the_board_is_untouched(
    send_task, north, tom, tina, make_call
):
    # Tomorrow by the real clock: the worker plans with the time it reads itself.
    day = timezone.localdate() + timedelta(days=1)
    calls = [make_call(scheduled_day=day, duration_minutes=40) for _ in range(4)]
    plan = DayPlan.objects.create(team=north, day=day, seconds=1)
    send_task("dispatch.tasks.plan_day", plan.pk)
    assert wait_for(lambda: DayPlan.objects.get(pk=plan.pk).status != "running", timeout=60), (
        "the worker did not compute the plan"
    )
    plan.refresh_from_db()
    assert plan.status == "ready", plan.error
    assert sorted(c for r in plan.routes for c in r["calls"]) == sorted(c.pk for c in calls)
    assert plan.after["late"] == 0 and plan.solver_seconds is not None
    # Proposing changes nothing: the calls still wait.
    assert all(
        c.technician_id is None for c in type(calls[0]).objects.filter(pk__in=[c.pk for c in calls])
    )
