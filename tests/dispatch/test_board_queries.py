"""Query budgets of the hot paths (issue 9): the poll, the board, a move, the API list.

Counts include the session and the user; they are bounds that may only go down."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch.selectors.durations import learned_durations
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


def _board_move(client, call, technician, position, north):
    return client.post(
        "/board/move/",
        {
            "call": call.pk,
            "technician": technician.pk,
            "position": position,
            "expected_version": call.version,
            "confirm": "1",
            "day": DAY.isoformat(),
            "team": north.pk,
        },
        HTTP_HX_REQUEST="true",
    )


def test_a_move_from_the_board_runs_in_ten_statements(
    client, dispatcher, north, tom, tina, make_call
):
    for _ in range(3):
        make_call(tom)
        make_call(tina)
    moved = make_call(tom)
    client.force_login(dispatcher)
    client.get(f"{COLUMNS}&team={north.pk}")  # a signed-in user's session and user are cached
    learned_durations()  # so are the learned durations (refitted nightly, then dropped)
    response, sql = _queries(lambda: _board_move(client, moved, tina, 1, north))
    assert response.status_code == 200, response.content
    moved.refresh_from_db()
    assert (moved.technician_id, moved.position) == (tina.pk, 1)
    print("\n".join(sql))
    # session and user+roles from the cache; the team, BEGIN, technicians locked, the call
    # locked, both queues, one UPDATE of both queues (the moved call's row too), the head of
    # the call's audit chain (its row is already locked, so no second lock), the event, COMMIT,
    # then the changed columns rendered from the rows the plan holds, and the board's version
    # (the budget: 10 with session and user)
    assert len(sql) <= 10, "\n".join(sql)


def test_a_move_preview_reads_without_locks_or_a_transaction(
    api, dispatcher, north, tom, tina, make_call
):
    for _ in range(3):
        make_call(tom)
        make_call(tina)
    moved = make_call(tom)
    client = api.as_user(dispatcher)
    client.get(f"{COLUMNS}&team={north.pk}")  # a signed-in user's session and user are cached
    learned_durations()  # so are the learned durations (refitted nightly, then dropped)
    url = f"/api/v1/calls/{moved.pk}/move/preview/"
    body = {"technician": tina.pk, "position": 1, "expected_version": moved.version}
    response, sql = _queries(lambda: client.post(url, body, format="json"))
    assert response.status_code == 200, response.content
    print("\n".join(sql))
    assert not any("FOR UPDATE" in s.upper() for s in sql), sql
    assert not any(s.strip().upper() in ("BEGIN", "COMMIT") for s in sql), sql
    assert not any("SAVEPOINT" in s.upper() for s in sql), sql
    # session and user from the cache; technicians, the call, both queues, the heartbeat
    assert len(sql) <= 4, "\n".join(sql)


@pytest.mark.parametrize("to_unassigned", [False, True])
def test_a_moves_columns_from_the_plan_match_a_fresh_read(
    client, dispatcher, north, tom, tina, make_call, skills, to_unassigned
):
    from dispatch import selectors
    from dispatch.pages.cards import column_html, unassigned_html

    for i in range(3):
        make_call(tom, skills=[skills["plumbing"]], deadline=local(10 + i))
        make_call(tina, window_start=local(9 + i), deadline=local(11 + i))
    make_call(summary="waiting")
    moved = make_call(tom, summary="<b>moved</b>", skills=[skills["hvac"]])
    client.force_login(dispatcher)
    if to_unassigned:
        response = client.post(
            "/board/move/",
            {"call": moved.pk, "technician": "", "expected_version": moved.version,
             "confirm": "1", "reason": "later", "day": DAY.isoformat(), "team": north.pk},
            HTTP_HX_REQUEST="true",
        )  # fmt: skip
    else:
        response = _board_move(client, moved, tina, 0, north)
    assert response.status_code == 200
    html = response.content.decode()
    board = selectors.board_get(
        user=dispatcher, day=DAY, team=north,
        technician_ids=[tom.pk] if to_unassigned else [tom.pk, tina.pk],
        include_unassigned=to_unassigned,
    )  # fmt: skip
    assert len(board.columns) == (1 if to_unassigned else 2)
    assert html.count('class="column"') == len(board.columns)
    for column in board.columns:
        assert str(column_html(column, board=board, oob=True)) in html
    if to_unassigned:
        assert str(unassigned_html(board, oob=True)) in html


# --- the board's version (issue 17): one row per team and day, bumped by triggers ------------


def _poll(client, team, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(f"{COLUMNS}&team={team.pk}", **headers)


def test_an_unchanged_poll_reads_one_row_in_one_query(client, dispatcher, north, tom, make_call):
    make_call(tom)
    client.force_login(dispatcher)
    etag = _poll(client, north)["ETag"]
    response, sql = _queries(lambda: _poll(client, north, etag))
    assert response.status_code == 304
    assert len(sql) == 1, sql  # session and user from the cache; the version row + heartbeat
    assert "dispatch_servicecall" not in sql[0]


@pytest.mark.parametrize(
    "change",
    ["status", "recompute", "booking", "escalation", "technician", "move", "day"],
)
def test_every_change_the_board_shows_bumps_its_version(
    client, dispatcher, north, south, tom, tina, otto, make_call, change
):
    from django.db.models import F

    from dispatch.models import Escalation, ServiceCall
    from technicians.models import Technician

    call = make_call(tom)
    make_call(otto)
    client.force_login(dispatcher)
    ours, theirs = _poll(client, north)["ETag"], _poll(client, south)["ETag"]
    calls = ServiceCall.objects.filter(pk=call.pk)
    if change == "status":
        calls.update(status="en_route")
    elif change == "recompute":
        calls.update(eta_computed_at=local(8))
    elif change == "booking":
        make_call(tina)
    elif change == "escalation":
        Escalation.objects.create(call=call, reason="late", status="open")
    elif change == "technician":
        Technician.objects.filter(pk=tom.pk).update(shift_end=F("shift_end"))
    elif change == "move":
        calls.update(technician=tina, position=5)
    elif change == "day":
        calls.update(scheduled_day=DAY.replace(day=DAY.day + 1))
    assert _poll(client, north, ours).status_code == 200, change
    assert _poll(client, south, theirs).status_code == 304, change


def test_an_unassigned_call_shows_on_the_board_of_the_team_that_had_it(
    client, dispatcher, north, south, tom, otto, make_call
):
    from dispatch import selectors
    from dispatch.models import ServiceCall

    ours, theirs, nobodys = make_call(tom), make_call(otto), make_call(summary="new booking")
    ServiceCall.objects.filter(pk__in=[ours.pk, theirs.pk]).update(
        technician=None, position=None, status="new"
    )
    client.force_login(dispatcher)
    south_tag = _poll(client, south)["ETag"]
    ServiceCall.objects.filter(pk=ours.pk).update(summary="changed")
    assert _poll(client, south, south_tag).status_code == 304  # not theirs
    board = selectors.board_get(user=dispatcher, day=DAY, team=north)
    assert {c.id for c in board.unassigned} == {ours.pk, nobodys.pk}
    nobodys_tag = _poll(client, south)["ETag"]
    ServiceCall.objects.filter(pk=nobodys.pk).update(summary="changed")
    assert _poll(client, south, nobodys_tag).status_code == 200  # on every board


def test_the_api_list_counts_without_joins_and_reads_the_heartbeat_from_the_cache(
    api, dispatcher, tom, make_call, skills
):
    from dispatch.services import background

    background.heartbeat_beat(background.RECOMPUTE, local(7))
    for i in range(6):
        make_call(tom if i % 2 else None, skills=[skills["hvac"]])
    client = api.as_user(dispatcher)
    client.get("/api/v1/calls/")  # the user, and the heartbeat, read once and cached
    response, sql = _queries(lambda: client.get("/api/v1/calls/", {"page_size": 200}))
    assert response.status_code == 200 and response.json()["count"] == 6
    count = next(s for s in sql if "COUNT(" in s.upper())
    assert "JOIN" not in count.upper(), count
    assert not any("dispatch_heartbeat" in s for s in sql), sql
    assert len(sql) == 2, sql  # the count and the page
