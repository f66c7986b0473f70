"""`make run` serves the demo on SQLite with background work in-process (no DATABASE_URL, no
REDIS_URL). The rest of the suite runs on PostgreSQL, so PostgreSQL-only SQL slipping into a
page would otherwise go unseen until a new user's first command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def manage(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_the_demo_on_sqlite_serves_every_main_page_and_a_move_without_a_server_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    for args in (("migrate", "-v0"), ("seed_demo", "--seed", "1"), ("recompute_etas",)):
        done = manage(env, *args)
        assert done.returncode == 0, done.stderr[-3000:]

    smoke = (REPO / "tests" / "run" / "sqlite_smoke.py").read_text()
    done = manage(env, "shell", stdin=smoke)

    assert "FAILURES: []" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.returncode == 0
    assert "200 GET /board/" in done.stdout and "304 GET /board/columns/" in done.stdout
