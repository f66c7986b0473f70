"""Real processes for the benches, the soak and the fault drills: gunicorn, Celery workers, a
private redis-server and a private PostgreSQL cluster, and a small HTTP client for them.

Nothing here needs Django; every server is started on a port the caller names and stopped by its
own process id (never by name), so several people can run these on one machine at once.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the servers themselves bind: a port with only TIME_WAIT leftovers is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until(condition, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Process:
    """A child process with its log in a file; `stop()` ends it and only it."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            argv, env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not self._log.closed:
            self._log.close()


def app_env(database_url: str, redis_url: str | None, **extra: str) -> dict:
    env = os.environ | {
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-not-secret"),
        "DEBUG": "false",
        **extra,
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def gunicorn_start(*, port: int, workers: int, env: dict, log_dir: Path) -> Process:
    if not port_free(port):
        raise RuntimeError(f"port {port} is taken; pick another with --port")
    argv = [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    argv += ["--workers", str(workers), "--timeout", "60", "--graceful-timeout", "5"]
    proc = Process(f"gunicorn-{port}", argv, env, log_dir)
    if not wait_until(lambda: tcp_open(port) or not proc.alive(), timeout=60):
        proc.stop()
        raise RuntimeError(f"gunicorn did not listen on {port}: {proc.log()[-2000:]}")
    if not proc.alive():
        raise RuntimeError(f"gunicorn exited: {proc.log()[-2000:]}")
    return proc


def celery_worker_start(*, name: str, env: dict, log_dir: Path) -> Process:
    argv = [PYTHON, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-l", "info"]
    argv += ["-n", f"{name}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    proc = Process(name, argv, env, log_dir)
    if not wait_until(lambda: "ready." in proc.log() or not proc.alive(), timeout=60):
        proc.stop()
        raise RuntimeError(f"celery worker {name} did not start: {proc.log()[-2000:]}")
    if not proc.alive():
        raise RuntimeError(f"celery worker {name} exited: {proc.log()[-2000:]}")
    return proc


def queue_drain(broker_url: str, timeout: float) -> bool:
    """Wait until Celery's default queue on this broker is empty (the workers took everything)."""
    import redis

    client = redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return wait_until(lambda: client.llen("celery") == 0, timeout=timeout, interval=0.2)
    finally:
        client.close()


# --- private servers for the fault drills ---------------------------------------------------


class PrivateRedis:
    """redis-server on a port of ours, no persistence; stop() is a crash (SIGKILL)."""

    def __init__(self, port: int):
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if not port_free(self.port):
            raise RuntimeError(f"port {self.port} is taken")
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]  # noqa: S607
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(lambda: tcp_open(self.port), timeout=10):
            raise RuntimeError(f"redis-server did not start on {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def _postgres_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not versions:
        raise RuntimeError("PostgreSQL server binaries are missing (apt-get install postgresql)")
    return versions[-1].parent


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a port of ours, in a temporary directory.

    PostgreSQL refuses to run as root, so as root every command runs as the `postgres` OS user.
    `restart()` is a fast shutdown and start: every connection is cut, as in a real restart.
    """

    def __init__(self, port: int):
        self.port = port
        self.bin = _postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix=f"pg-{port}-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.url = f"postgres://postgres@127.0.0.1:{port}/dispatch"
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *argv: str, timeout: float = 60) -> None:
        subprocess.run(  # noqa: S603 - fixed arguments
            [*self._as_postgres, *argv], check=True, capture_output=True, timeout=timeout
        )

    def init(self) -> None:
        if not port_free(self.port):
            raise RuntimeError(f"port {self.port} is taken")
        self.socket_dir.mkdir()
        if self._as_postgres:
            shutil.chown(self.socket_dir, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")
        self.start()
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "dispatch")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "postgres.log")
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", log, "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# --- HTTP -------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    seconds: float

    def json(self):
        return json.loads(self.body)


@dataclass
class HttpSession:
    """A logged-in browser, minus the browser: session cookie and a CSRF token on every write.

    Django accepts the unmasked 32-character CSRF secret in the header when it equals the cookie,
    so the token is made here; the session id comes from a real login (see `session_for`).
    """

    port: int
    sessionid: str
    csrf: str = field(default_factory=lambda: secrets.token_hex(16))
    timeout: float = 30

    def request(self, method: str, path: str, *, form=None, body=None, headers=None) -> Answer:
        sent = {"Cookie": f"sessionid={self.sessionid}; csrftoken={self.csrf}"}
        payload = None
        if form is not None:
            payload = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if method != "GET":
            sent["X-CSRFToken"] = self.csrf
        sent |= headers or {}
        began = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=payload, headers=sent)
            response = conn.getresponse()
            data = response.read()
            took = time.perf_counter() - began
            return Answer(response.status, data, dict(response.getheaders()), took)
        finally:
            conn.close()

    def get(self, path: str, **kw) -> Answer:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> Answer:
        return self.request("POST", path, **kw)


def session_for(user) -> str:
    """A real session row for `user` (needs Django set up on the same database)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value
