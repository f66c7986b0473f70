"""The restore drill of docs/operations.md, run for real: seed, pg_dump, restore into a fresh
database, and the restored copy shows the same board and passes audit_verify.

The commands are the ones the operations guide gives (pg_dump -Fc, createdb, pg_restore
--no-owner --exit-on-error, manage.py audit_verify); the restored copy is read by a separate
process pointed at it by DATABASE_URL, as a web container would be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.ops.board_snapshot import board_snapshot

REPO = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 10)


def server_env() -> dict[str, str]:
    """libpq's variables for the test database's server (the pg_* tools read them)."""
    s = connection.settings_dict
    env = {**os.environ, "PGHOST": s["HOST"] or "127.0.0.1", "PGPORT": str(s["PORT"] or 5432)}
    env["PGUSER"] = s["USER"] or "postgres"
    if s["PASSWORD"]:
        env["PGPASSWORD"] = s["PASSWORD"]
    return env


def database_url(name: str) -> str:
    env = server_env()
    password = f":{env['PGPASSWORD']}" if "PGPASSWORD" in env else ""
    return f"postgres://{env['PGUSER']}{password}@{env['PGHOST']}:{env['PGPORT']}/{name}"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    # The PostgreSQL client tools come with the server scripts/test.sh installs; missing, this
    # fails (FileNotFoundError naming the tool) rather than skipping the drill.
    return subprocess.run(  # noqa: S603 - the PostgreSQL tools and our own interpreter
        args, cwd=REPO, env=env or server_env(), capture_output=True, text=True, timeout=120
    )


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = run(*args, env=env)
    assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


def psql(db: str, sql: str) -> str:
    return ok("psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql)


@pytest.mark.restore_drill
@pytest.mark.django_db(transaction=True)  # committed rows: pg_dump reads from its own session
def test_a_dump_restored_into_a_fresh_database_shows_the_same_board(tmp_path):
    call_command(
        "seed_demo", "--seed", "1", "--day", DAY.isoformat(), "--yes-wipe-everything",
        stdout=StringIO(),
    )  # fmt: skip
    original = board_snapshot(DAY)
    assert original["events"] > 100 and len(original["calls"]) > 50
    queues = [q for board in original["boards"].values() for q in board["columns"].values()]
    assert sum(len(q) for q in queues) > 20  # real queues with ETAs to compare, not empty boards
    source = connection.settings_dict["NAME"]
    restored = f"{source}_restored"
    dump = tmp_path / "dispatch.dump"
    ok("pg_dump", "--format=custom", f"--file={dump}", "--dbname", source)
    run("dropdb", "--if-exists", restored)
    ok("createdb", restored)
    try:
        ok("pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored, str(dump))
        app = {**os.environ, "DATABASE_URL": database_url(restored)}
        copy = json.loads(ok(sys.executable, "-m", "tests.ops.board_snapshot", str(DAY), env=app))
        verified = copy.pop("audit_verify")
        assert copy == original
        assert f"audit trail intact: {original['events']} events" in verified
        # The append-only trigger came back with the table.
        refused = run("psql", "-X", "-d", restored, "-c", "DELETE FROM dispatch_callevent")
        assert refused.returncode != 0 and "append-only" in refused.stderr
        # And the copy's chain is really checked: an edit there is found, exit status 1.
        first = int(psql(restored, "SELECT min(id) FROM dispatch_callevent"))
        psql(
            restored,
            "ALTER TABLE dispatch_callevent DISABLE TRIGGER dispatch_callevent_append_only; "
            "UPDATE dispatch_callevent SET kind = 'cancelled' "
            "WHERE id = (SELECT min(id) FROM dispatch_callevent); "
            "ALTER TABLE dispatch_callevent ENABLE TRIGGER dispatch_callevent_append_only;",
        )
        tampered = run(sys.executable, "manage.py", "audit_verify", env=app)
        assert tampered.returncode == 1
        assert f"event {first}: stored hash" in tampered.stderr
    finally:
        run("dropdb", "--if-exists", "--force", restored)
