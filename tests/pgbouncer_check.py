"""Through PgBouncer in transaction mode: run by scripts/pgbouncer_check.sh (make test-pgbouncer),
which starts PgBouncer and sets PGBOUNCER_URL (its admin console). The file name keeps it out of
the ordinary suite (pytest collects only test_*.py unless a file is named on the command line),
so it is never a skipped test in CI; without PGBOUNCER_URL it skips."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from dispatch.models import ServiceCall
from tests.conftest import DAY, local

PGBOUNCER_URL = os.environ.get("PGBOUNCER_URL", "")
pytestmark = pytest.mark.skipif(not PGBOUNCER_URL, reason="run by scripts/pgbouncer_check.sh")


def _admin(command: str) -> list[dict]:
    """Rows of a PgBouncer admin console command (SHOW POOLS, SHOW STATS)."""
    conn = psycopg2.connect(PGBOUNCER_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(command)
            names = [c.name for c in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        conn.close()


def _transactions_pooled() -> int:
    name = connection.settings_dict["NAME"]
    return sum(r["total_xact_count"] for r in _admin("SHOW STATS") if r["database"] == name)


def test_the_suite_runs_through_pgbouncer_in_transaction_mode(db):
    assert int(connection.settings_dict["PORT"]) == urlsplit(PGBOUNCER_URL).port
    assert connection.settings_dict["CONN_MAX_AGE"] == 0
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert settings.DATABASE_POOLER == "pgbouncer"
    connection.ensure_connection()
    pools = [r for r in _admin("SHOW POOLS") if r["database"] == connection.settings_dict["NAME"]]
    assert pools and {p["pool_mode"] for p in pools} == {"transaction"}


@pytest.mark.django_db(transaction=True)
def test_a_move_and_a_board_read_commit_through_pgbouncer(
    client, dispatcher, north, tom, tina, make_call, clock_at
):
    clock_at(local(7, 30))
    make_call(tom)
    moved = make_call(tom, summary="Leaking tap through the pooler")
    client.force_login(dispatcher)
    board = f"/board/?day={DAY.isoformat()}&team={north.pk}&view=columns"
    before = _transactions_pooled()

    assert "Leaking tap through the pooler" in client.get(board).content.decode()
    response = client.post(
        "/board/move/",
        {
            "call": moved.pk,
            "technician": tina.pk,
            "position": 0,
            "expected_version": moved.version,
            "confirm": "1",
            "day": DAY.isoformat(),
            "team": north.pk,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content.decode()[:500]
    connection.close()  # CONN_MAX_AGE=0: what follows is a new client connection
    moved.refresh_from_db()
    assert moved.technician_id == tina.pk and moved.position == 0
    poll = client.get(f"/board/columns/?day={DAY.isoformat()}&team={north.pk}")
    assert poll.status_code == 200
    # PgBouncer itself counted the transactions: the work really went through it.
    assert _transactions_pooled() > before


@pytest.mark.django_db(transaction=True)
def test_an_iterator_outside_a_transaction_needs_no_server_side_cursor(tom, make_call):
    for i in range(3):
        make_call(tom, summary=f"call {i}")
    assert connection.in_atomic_block is False
    summaries = [c.summary for c in ServiceCall.objects.order_by("id").iterator(chunk_size=1)]
    assert summaries == ["call 0", "call 1", "call 2"]
