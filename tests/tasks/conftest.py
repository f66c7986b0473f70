"""A real Celery worker on the real Redis, reading pytest's test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
# A Redis database of its own, so a test run never picks up another run's queue.
BROKER = os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/15")


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT")
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port or 5432}/{connection.settings_dict['NAME']}"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """Start `celery worker` in a subprocess against the test database; stop it afterwards."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("Task tests need PostgreSQL: set DATABASE_URL (make test does).")
    with django_db_blocker.unblock():
        database_url = _database_url()
    logs = tmp_path_factory.mktemp("celery")
    env = os.environ | {"DATABASE_URL": database_url, "REDIS_URL": BROKER, "SECRET_KEY": "test"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "celery", "-A", "config", "purge", "-f"],
        env=env,
        cwd=REPO,
        check=False,
        capture_output=True,
        timeout=30,
    )
    log_file = open(logs / "worker.log", "w")  # noqa: SIM115 - closed in teardown
    worker = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-l",
            "info",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=REPO,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    _wait_until_ready(env, worker, logs / "worker.log")
    yield BROKER
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
    log_file.close()


def _wait_until_ready(env, worker, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            pytest.fail(f"The Celery worker exited: {log_path.read_text()[-2000:]}")
        if "ready." in log_path.read_text():
            return
        time.sleep(0.2)
    pytest.fail(f"The Celery worker did not start in 60 s: {log_path.read_text()[-2000:]}")


@pytest.fixture
def send_task(celery_worker):
    """Send a task by name to the worker's broker, as beat or a web process would."""
    from celery import Celery

    app = Celery(broker=celery_worker)

    def send(name: str, *args):
        return app.send_task(name, args=args)

    yield send
    app.close()
