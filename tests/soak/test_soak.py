"""The concurrency soak, 10 seconds: 16 clients, gunicorn with 2 workers, 2 Celery workers.

The 60-second version is `python bench/soak.py`; both use bench/soak.py's clients and checks.
"""

from __future__ import annotations

import pytest
from celery import Celery

from bench.servers import queue_drain
from bench.soak import invariants_check, soak_prepare, soak_run, summary
from tests.soak.conftest import port

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_sixteen_clients_moving_the_same_calls_lose_nothing(servers, fleet_tomorrow):
    redis = servers.redis(port(1))
    servers.web(port(0), redis.url)
    servers.worker("soak-a", redis.url)
    servers.worker("soak-b", redis.url)
    soak = soak_prepare(
        port=port(0), day=fleet_tomorrow.day, team_id=fleet_tomorrow.team.pk,
        users=[fleet_tomorrow.dispatcher],
    )  # fmt: skip
    app = Celery(broker=redis.url)
    day = fleet_tomorrow.day.isoformat()
    try:
        soak_run(
            soak,
            clients=16,
            seconds=10,
            send_recompute=lambda: app.send_task("dispatch.tasks.recompute_day", args=(day,)),
        )
        assert queue_drain(redis.url, timeout=30), "the workers did not drain the queue"
    finally:
        app.close()
    print(summary(soak))
    outcomes = {a.outcome for a in soak.attempts}
    accepted = [a for a in soak.attempts if a.outcome == "accepted"]
    # The load really collided: moves were accepted and stale versions were refused.
    assert len(accepted) >= 10, summary(soak)
    assert "conflict" in outcomes, summary(soak)
    assert invariants_check(soak) == []
