"""Query budgets of the hot paths (issue 9): the poll, the board, a move, the API list.

Counts include the session and the user; they are bounds that may only go down."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db

COLUMNS = f"/board/columns/?day={DAY.isoformat()}"


@pytest.fixture(autouse=True)
def _morning_of_the_day(clock_at):
    clock_at(local(7, 30))


def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    return response, [q["sql"] for q in ctx.captured_queries]


def test_an_unchanged_poll_is_a_304_in_three_queries(client, dispatcher, north, tom, make_call):
    make_call(tom)
    client.force_login(dispatcher)
    url = f"{COLUMNS}&team={north.pk}"
    etag = client.get(url)["ETag"]
    response, sql = _queries(lambda: client.get(url, HTTP_IF_NONE_MATCH=etag))
    assert response.status_code == 304
    # session, user with its roles, one fingerprint (calls, technicians, heartbeat, team)
    assert len(sql) <= 3, sql
    assert not any(s.lstrip().upper().startswith(("UPDATE", "INSERT")) for s in sql)


def test_a_poll_naming_a_missing_team_falls_back_to_the_default_board(
    client, dispatcher, north, tom, make_call
):
    make_call(tom)
    client.force_login(dispatcher)
    default = client.get(COLUMNS)
    missing = client.get(f"{COLUMNS}&team=987654")
    assert missing.status_code == 200
    assert missing["ETag"] == default["ETag"]
    assert (
        client.get(f"{COLUMNS}&team=987654", HTTP_IF_NONE_MATCH=default["ETag"]).status_code == 304
    )


def test_a_poll_sees_a_change_on_its_team_only(
    client, dispatcher, north, south, tom, otto, make_call
):
    make_call(tom)
    client.force_login(dispatcher)
    ours, theirs = f"{COLUMNS}&team={north.pk}", f"{COLUMNS}&team={south.pk}"
    our_tag, their_tag = client.get(ours)["ETag"], client.get(theirs)["ETag"]
    make_call(tom, summary="another")
    assert client.get(ours, HTTP_IF_NONE_MATCH=our_tag).status_code == 200
    assert client.get(theirs, HTTP_IF_NONE_MATCH=their_tag).status_code == 304


def test_the_board_page_reads_in_eight_queries(
    client, dispatcher, north, tom, tina, make_call, skills
):
    for i in range(4):
        make_call(tom, skills=[skills["plumbing"]], deadline=local(12 + i))
        make_call(tina)
        make_call()
    client.force_login(dispatcher)
    url = f"/board/?day={DAY.isoformat()}&team={north.pk}&view=columns"  # the column board
    client.get(url)
    response, sql = _queries(lambda: client.get(url))
    assert response.status_code == 200
    # session, user+roles, team, technicians, calls (skills, escalation inside), teams, alerts,
    # fingerprint (with the heartbeat)
    assert len(sql) <= 8, sql


def test_the_api_calls_list_reads_in_five_queries(api, dispatcher, tom, make_call, skills):
    for i in range(6):
        make_call(tom if i % 2 else None, skills=[skills["hvac"]])
    client = api.as_user(dispatcher)
    response, sql = _queries(lambda: client.get("/api/v1/calls/", {"page_size": 200}))
    assert response.status_code == 200 and response.json()["count"] == 6
    # session, user+roles, count, rows (names and skills inside), heartbeat header
    assert len(sql) <= 5, sql
