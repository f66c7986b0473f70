"""Short forms of the fault drills (bench/faults.py): Redis stopped and PostgreSQL restarted
during a move load, each on private servers of its own (never the shared ones), bounded well
under a minute and torn down whether they pass or not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.faults import redis_drill
from bench.soak import soak_prepare
from tests.soak.conftest import port

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.worker]


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_moves_keep_working_and_background_work_resumes(servers, fleet_tomorrow):
    redis = servers.redis(port(3))
    servers.web(port(2), redis.url)
    servers.worker("fault-a", redis.url)
    servers.worker("fault-b", redis.url)
    soak = soak_prepare(
        port=port(2), day=fleet_tomorrow.day, team_id=fleet_tomorrow.team.pk,
        users=[fleet_tomorrow.dispatcher],
    )  # fmt: skip
    result = redis_drill(soak=soak, redis=redis, clients=3, warm=3, down=8, after=6)
    print(result.report())
    assert result.problems == []


def test_a_postgres_restart_answers_503_fast_and_recovers_without_restarting_anything(tmp_path):
    """The drill needs a database server of its own to restart, so it runs as its own process
    (bench/faults.py postgres) against a throwaway cluster; its exit code is the verdict."""
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    argv = [sys.executable, "bench/faults.py", "postgres", "--warm", "3", "--down", "3"]
    argv += ["--after", "6", "--port", str(port(4)), "--pg-port", str(port(5))]
    argv += ["--redis-port", str(port(6))]
    done = subprocess.run(  # noqa: S603 - fixed arguments
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=240
    )
    print(done.stdout[-3000:], done.stderr[-3000:])
    assert "PostgreSQL restarted" in done.stdout, done.stderr[-3000:]
    assert "answered 503 with the message" in done.stdout
    assert done.returncode == 0, done.stdout[-3000:]
