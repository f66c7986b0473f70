"""The read-replica router (common/db_router.py, docs/scaling.md "A read replica").

The "replica" here is a second alias on the same test database (what DATABASE_REPLICA_URL adds,
with TEST MIRROR default), so the tests see which alias served each query, not replication lag.
Transactional tests: the replica alias is a connection of its own, which sees committed rows only.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common import db_router
from dispatch.models import ServiceCall
from tests.conftest import DAY, local

REPLICA = db_router.REPLICA_ALIAS
# Committed rows (the replica alias is a connection of its own), and both aliases allowed.
USES_REPLICA = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
BOARD = f"/board/?day={DAY.isoformat()}&view=columns"


@pytest.fixture(scope="module")
def replica_alias():
    """A second alias on the test database, as DATABASE_REPLICA_URL adds it (TEST MIRROR: no
    database of its own). Module scope: it must exist before the test's database setup."""
    connections.settings[REPLICA] = {
        **copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict),
        "TEST": {"MIRROR": DEFAULT_DB_ALIAS},
    }
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def replica(replica_alias, transactional_db, settings):
    """The router and its middleware, as DATABASE_REPLICA_URL installs them."""
    settings.DATABASE_ROUTERS = ["common.db_router.ReplicaRouter"]
    middleware = list(settings.MIDDLEWARE)
    after = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
    settings.MIDDLEWARE = [*middleware[:after], "common.db_router.ReplicaReadsMiddleware"] + (
        middleware[after:]
    )
    settings.REPLICA_PIN_SECONDS = 5
    return connections[REPLICA]


def _served(fn):
    """(response, SQL the primary ran, SQL the replica ran)."""
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        response = fn()
    return response, [q["sql"] for q in primary], [q["sql"] for q in replica]


def _reads_calls(sql: list[str]) -> bool:
    return any('FROM "dispatch_servicecall"' in s for s in sql)


@pytest.fixture
def board_day(clock_at, tom, make_call):
    clock_at(local(7, 30))
    return make_call(tom, summary="Read from the replica")


def test_without_a_replica_url_there_is_one_database_and_no_router():
    assert django_settings.DATABASE_REPLICA_URL == ""
    assert django_settings.DATABASE_ROUTERS == []
    assert "common.db_router.ReplicaReadsMiddleware" not in django_settings.MIDDLEWARE


def test_a_replica_url_installs_the_alias_the_router_and_the_middleware():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "r = s.DATABASES['replica']; print(json.dumps([r['HOST'], r['TEST'], r['CONN_MAX_AGE'], "
        "s.DATABASE_ROUTERS, s.MIDDLEWARE.index('common.db_router.ReplicaReadsMiddleware') - "
        "s.MIDDLEWARE.index('django.contrib.auth.middleware.AuthenticationMiddleware')]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_REPLICA_URL": "postgres://reader@replica.internal:5432/dispatch",
    }
    out = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    host, test, max_age, routers, after_auth = json.loads(out)
    assert host == "replica.internal" and test["MIRROR"] == "default"
    assert max_age == django_settings.DATABASES["default"]["CONN_MAX_AGE"]
    assert routers == ["common.db_router.ReplicaRouter"] and after_auth == 1


@USES_REPLICA
def test_the_board_its_poll_and_the_api_list_read_from_the_replica(
    replica, client, api, dispatcher, north, board_day
):
    client.force_login(dispatcher)
    response, primary, from_replica = _served(lambda: client.get(f"{BOARD}&team={north.pk}"))
    assert response.status_code == 200
    assert "Read from the replica" in response.content.decode()
    assert _reads_calls(from_replica) and not _reads_calls(primary)
    # Who is signed in is never read from a replica (names joined into rows may be).
    assert not any(
        f'FROM "{t}"' in s for s in from_replica for t in ("django_session", "auth_user")
    )

    poll = f"/board/columns/?day={DAY.isoformat()}&team={north.pk}"
    response, primary, from_replica = _served(lambda: client.get(poll))
    assert response.status_code == 200
    assert any("dispatch_boardversion" in s for s in from_replica)
    assert not any("dispatch_boardversion" in s for s in primary)

    token = Token.objects.create(user=dispatcher)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response, primary, from_replica = _served(lambda: api.get("/api/v1/calls/"))
    assert response.status_code == 200 and response.json()["count"] == 1
    assert _reads_calls(from_replica) and not _reads_calls(primary)


@USES_REPLICA
def test_other_pages_read_from_the_primary(replica, client, dispatcher, board_day):
    client.force_login(dispatcher)
    response, primary, from_replica = _served(lambda: client.get(f"/calls/{board_day.pk}/"))
    assert response.status_code == 200
    assert from_replica == [] and _reads_calls(primary)


@USES_REPLICA
def test_a_write_pins_the_session_to_the_primary_for_a_few_seconds(
    replica, client, dispatcher, north, tom, tina, board_day, monkeypatch
):
    client.force_login(dispatcher)
    move = client.post(
        "/board/move/",
        {
            "call": board_day.pk,
            "technician": tina.pk,
            "position": 0,
            "expected_version": board_day.version,
            "confirm": "1",
            "day": DAY.isoformat(),
            "team": north.pk,
        },
        HTTP_HX_REQUEST="true",
    )
    assert move.status_code == 200
    assert move.cookies[db_router.PIN_COOKIE]["max-age"] == 5
    board = f"{BOARD}&team={north.pk}"
    response, primary, from_replica = _served(lambda: client.get(board))
    assert response.status_code == 200
    assert from_replica == [] and _reads_calls(primary)

    later = time.time() + 6
    monkeypatch.setattr(db_router.time, "time", lambda: later)
    response, primary, from_replica = _served(lambda: client.get(board))
    assert _reads_calls(from_replica) and not _reads_calls(primary)


@USES_REPLICA
def test_an_api_token_that_wrote_reads_from_the_primary(replica, api, dispatcher, csr, board_day):
    token = Token.objects.create(user=dispatcher)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    cancel = api.post(f"/api/v1/calls/{board_day.pk}/cancel/", {"reason": "x"}, format="json")
    assert cancel.status_code == 200
    response, primary, from_replica = _served(lambda: api.get("/api/v1/calls/"))
    assert response.json()["results"][0]["status"] == "cancelled"
    assert from_replica == [] and _reads_calls(primary)
    # Another token (another session, no cookies) is not pinned by that write.
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=csr).key}")
    response, primary, from_replica = _served(lambda: other.get("/api/v1/calls/"))
    assert response.status_code == 200
    assert _reads_calls(from_replica) and not _reads_calls(primary)


@USES_REPLICA
def test_in_a_marked_request_transactions_and_sign_in_state_use_the_primary(replica):
    token = db_router._replica_reads.set(True)
    try:
        assert router.db_for_read(ServiceCall) == REPLICA
        assert router.db_for_read(User) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Session) == DEFAULT_DB_ALIAS
        assert router.db_for_write(ServiceCall) == DEFAULT_DB_ALIAS
        with transaction.atomic():
            assert router.db_for_read(ServiceCall) == DEFAULT_DB_ALIAS
        assert ServiceCall.objects.all().db == REPLICA
        assert ServiceCall.objects.select_for_update().db == DEFAULT_DB_ALIAS
    finally:
        db_router._replica_reads.reset(token)
    assert router.db_for_read(ServiceCall) == DEFAULT_DB_ALIAS
