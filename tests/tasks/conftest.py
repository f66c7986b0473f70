"""Real Celery workers on real Redis, reading pytest's test database.

`celery_worker` is one worker for the session on a Redis database of its own. Tests that kill
things get their own: `private_redis` is a redis-server on a free port (stoppable, restartable)
and `start_worker` starts workers on any broker; every one is stopped in teardown.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
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


def wait_for(condition, timeout: float = 20.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


class Worker:
    """One `celery worker` subprocess (solo pool) and its log."""

    def __init__(self, env: dict, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
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
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"The Celery worker exited: {self.log()[-2000:]}")
            if "ready." in self.log():
                return
            time.sleep(0.1)
        pytest.fail(f"The Celery worker did not start in {timeout} s: {self.log()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acks, an open transaction simply vanishes."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def _outbox_env(outbox: Path) -> dict:
    """A worker's email and text messages go to files here, never to a real server."""
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(outbox / "email"),
        "SMS_BACKEND": "customers.sms.FileSmsBackend",
        "SMS_FILE_PATH": str(outbox / "sms"),
    }


def _worker_env(broker: str, outbox: Path, **extra: str) -> dict:
    env = os.environ | {
        "DATABASE_URL": _database_url(),
        "REDIS_URL": broker,
        # The web side's cache, as in a deployment (one CACHE_URL for web and workers): the
        # heartbeat and other cached values a worker refreshes are the ones the web side reads,
        # even when the test gives the worker a broker of its own.
        "CACHE_URL": settings.CACHE_URL,
        # ...under the web side's prefix: this process named it after the database before the
        # test runner renamed that, the worker would name it after the test database.
        "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
        "SECRET_KEY": "test",
        **_outbox_env(outbox),
        **extra,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@pytest.fixture(scope="session")
def worker_outbox(tmp_path_factory) -> Path:
    """Where the session worker writes the email (`email/`) and SMS (`sms/`) it sends."""
    return tmp_path_factory.mktemp("outbox")


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory, worker_outbox):
    """Start `celery worker` in a subprocess against the test database; stop it afterwards."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("Task tests need PostgreSQL: set DATABASE_URL (make test does).")
    with django_db_blocker.unblock():
        env = _worker_env(BROKER, worker_outbox)
    subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "celery", "-A", "config", "purge", "-f"],
        env=env,
        cwd=REPO,
        check=False,
        capture_output=True,
        timeout=30,
    )
    worker = Worker(env, tmp_path_factory.mktemp("celery") / "worker.log")
    try:
        worker.wait_until_ready()
        yield BROKER
    finally:
        worker.stop()


@pytest.fixture
def send_task(celery_worker):
    """Send a task by name to the worker's broker, as beat or a web process would."""
    from celery import Celery

    app = Celery(broker=celery_worker)

    def send(name: str, *args):
        return app.send_task(name, args=args)

    yield send
    app.close()


@pytest.fixture
def start_worker(django_db_blocker, tmp_path):
    """`start_worker(broker_url, **env)`: a worker of this test's own; stopped in teardown."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("Task tests need PostgreSQL: set DATABASE_URL (make test does).")
    workers: list[Worker] = []

    def start(broker: str, **extra_env: str) -> Worker:
        with django_db_blocker.unblock():
            env = _worker_env(broker, tmp_path / "outbox", **extra_env)
        worker = Worker(env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        worker.wait_until_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of one test's own (no persistence), to stop and start at will."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for(self.ping, timeout=10):
            pytest.fail(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Down hard (SIGKILL), as a crashed Redis is; connections are refused from now on."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:
            return False


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()
