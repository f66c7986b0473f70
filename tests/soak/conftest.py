"""Real servers for the soak and the fault drills, pointed at pytest's test database.

gunicorn (two workers), Celery workers and a private redis-server run as separate processes, as
in production, so these tests need a transactional database: the data is committed for them to
see. Ports come from TEST_PORT_BASE (default 18940) upwards; every process is stopped in teardown
by its own id, whether the test passed or not.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from bench.servers import PrivateRedis, app_env, celery_worker_start, gunicorn_start
from tests.tasks.conftest import _database_url

PORT_BASE = int(os.environ.get("TEST_PORT_BASE", "18940"))


def port(offset: int) -> int:
    return PORT_BASE + offset


@pytest.fixture
def servers(django_db_blocker, tmp_path):
    """`servers.web(port, broker)`, `servers.worker(name, broker)`, `servers.redis(port)`."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("These tests need PostgreSQL: set DATABASE_URL (make test does).")
    started: list = []

    class Servers:
        logs = tmp_path

        def env(self, broker: str, **extra: str) -> dict:
            with django_db_blocker.unblock():
                return app_env(_database_url(), broker, **extra)

        def web(self, at: int, broker: str, **extra: str):
            proc = gunicorn_start(
                port=at, workers=2, env=self.env(broker, **extra), log_dir=tmp_path
            )
            started.append(proc)
            return proc

        def worker(self, name: str, broker: str, **extra: str):
            proc = celery_worker_start(name=name, env=self.env(broker, **extra), log_dir=tmp_path)
            started.append(proc)
            return proc

        def redis(self, at: int) -> PrivateRedis:
            server = PrivateRedis(at)
            started.append(server)
            server.start()
            return server

    try:
        yield Servers()
    finally:
        for proc in reversed(started):
            proc.stop()


@pytest.fixture
def fleet_tomorrow(transactional_db):
    """A small synthetic team for tomorrow, ETAs computed (bench/fleet.py, seed 1)."""
    from bench.fleet import build_fleet
    from dispatch.services.etas import etas_refresh_day

    day = timezone.localdate() + timedelta(days=1)
    fleet = build_fleet(techs=8, calls=56, day=day, seed=1)
    etas_refresh_day(day=day)
    return fleet
