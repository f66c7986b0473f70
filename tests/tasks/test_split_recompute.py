"""The day's recompute split into one task per team, on real workers and real Redis: two
workers share a day, and workers SIGKILLed in the middle of a split run are healed by the next
run (issue 17, "Scale-out")."""

from __future__ import annotations

import re

import pytest
from celery import Celery

from dispatch.models import ServiceCall
from dispatch.services.etas import etas_refresh_day
from dispatch.tasks import recompute_day, recompute_team
from tests.conftest import DAY, local
from tests.dispatch.test_split_recompute import STORED, build_teams
from tests.tasks.conftest import wait_for
from tests.tasks.test_background import heartbeat_at, no_call_has_two_risk_raised_events

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DONE = re.compile(rf"Task {re.escape(recompute_team.name)}\[[^\]]+\] succeeded")


def fresh_computation(now) -> dict[int, tuple]:
    """What a recompute at `now` stores, computed here and rolled back."""
    from django.db import transaction

    with transaction.atomic():
        etas_refresh_day(day=DAY, now=now)
        fresh = {row[0]: row[1:] for row in ServiceCall.objects.values_list(*STORED)}
        transaction.set_rollback(True)
    return fresh


def test_two_workers_share_the_days_parts(private_redis, start_worker, customer):
    teams = build_teams(customer, teams=6, techs=4, per_tech=4)
    now = local(9)
    workers = [start_worker(private_redis.url, RECOMPUTE_BATCH_SIZE="1") for _ in range(2)]
    app = Celery(broker=private_redis.url)
    try:
        app.send_task(recompute_day.name, args=[DAY.isoformat(), now.isoformat()])
        assert wait_for(lambda: heartbeat_at() == now, timeout=60), workers[0].log()[-2000:]
    finally:
        app.close()

    def done() -> list[int]:
        return [len(DONE.findall(worker.log())) for worker in workers]

    # One task per team and one for calls of no team (logged just after its heartbeat).
    assert wait_for(lambda: sum(done()) == len(teams) + 1, timeout=10), done()
    done = done()
    assert all(done), f"one worker did every part: {done}"
    assert not ServiceCall.objects.filter(eta_computed_at__isnull=True).exists()
    assert etas_refresh_day(day=DAY, now=now) == 0


def test_workers_killed_mid_split_recompute_are_healed_by_the_next_run(
    private_redis, start_worker, customer
):
    build_teams(customer, teams=4, techs=30, per_tech=5)
    total = ServiceCall.objects.count()
    now = local(9)
    computed = ServiceCall.objects.filter(eta_computed_at=now)
    # Batches of one technician: each part commits as it goes, so the kill lands between commits
    # with parts half done, parts reserved by a worker (unacknowledged) and parts still queued.
    workers = [start_worker(private_redis.url, RECOMPUTE_BATCH_SIZE="1") for _ in range(2)]
    app = Celery(broker=private_redis.url)
    try:
        app.send_task(recompute_day.name, args=[DAY.isoformat(), now.isoformat()])
        assert wait_for(lambda: computed.count() >= 20, timeout=30, interval=0.002), workers[
            0
        ].log()[-2000:]
        for worker in workers:
            worker.kill()
        written_before_kill = computed.count()
        assert 0 < written_before_kill < total, "the kill did not land in the middle of the run"
        assert heartbeat_at() != now, "the day looked fresh with parts missing"

        # The beat's next run, on a fresh worker: nothing the killed workers held is needed.
        start_worker(private_redis.url)
        app.send_task(recompute_day.name, args=[DAY.isoformat(), now.isoformat()])
        assert wait_for(lambda: heartbeat_at() == now, timeout=90)
    finally:
        app.close()

    assert computed.count() == total
    # Every stored ETA, flag and odds is exactly what a fresh recompute at that instant stores.
    stored = {row[0]: row[1:] for row in ServiceCall.objects.values_list(*STORED)}
    assert stored == fresh_computation(now)
    assert etas_refresh_day(day=DAY, now=now) == 0
    assert no_call_has_two_risk_raised_events()
