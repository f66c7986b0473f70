"""Sessions and signed-in users come from the shared cache (issue 17), and every change counts
on the next request: a role removed, an account deactivated, a password changed, a sign-out."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import DAY, PASSWORD

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.CACHE_URL, reason="no shared cache configured"),
]

BOARD = f"/board/columns/?day={DAY.isoformat()}"


def _signed_in(user) -> Client:
    client = Client()
    assert client.post("/login/", {"username": user.username, "password": PASSWORD}).status_code
    assert client.get(BOARD).status_code == 200  # fills the cache
    return client


def _auth_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        client.get(BOARD)
    reads = ('FROM "auth_user"', 'FROM "django_session"')
    return [q["sql"] for q in ctx.captured_queries if any(r in q["sql"] for r in reads)]


def test_a_signed_in_request_reads_neither_session_nor_user_from_the_database(dispatcher, north):
    client = _signed_in(dispatcher)
    assert _auth_queries(client) == []


def test_a_role_removed_takes_effect_on_the_next_request(dispatcher, north):
    client = _signed_in(dispatcher)
    assert client.get(BOARD).status_code == 200
    dispatcher.groups.remove(Group.objects.get(name="dispatcher"))
    assert client.get(BOARD).status_code == 403


def test_a_group_emptied_from_its_side_takes_effect_too(dispatcher, north):
    client = _signed_in(dispatcher)
    Group.objects.get(name="dispatcher").user_set.clear()
    assert client.get(BOARD).status_code == 403


def test_a_role_given_takes_effect_on_the_next_request(north):
    from tests.conftest import make_user

    nobody = make_user("norole", None)
    client = _signed_in_without_role(nobody)
    Group.objects.get(name="dispatcher").user_set.add(nobody)
    assert client.get(BOARD).status_code == 200


def _signed_in_without_role(user) -> Client:
    client = Client()
    client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert client.get(BOARD).status_code == 403
    return client


def test_a_deactivated_account_is_signed_out_on_the_next_request(dispatcher, north):
    client = _signed_in(dispatcher)
    dispatcher.is_active = False
    dispatcher.save()
    response = client.get(BOARD)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_changed_password_signs_out_other_sessions(dispatcher, north):
    client = _signed_in(dispatcher)
    dispatcher.set_password("a-new-long-password-1")
    dispatcher.save()
    response = client.get(BOARD)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_signing_out_ends_the_cached_session(dispatcher, north):
    client = _signed_in(dispatcher)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.post("/logout/").status_code == 302
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = replay.get(BOARD)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_down_cache_falls_back_to_the_database(dispatcher, north, settings):
    client = _signed_in(dispatcher)
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.ForgivingRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert client.get(BOARD).status_code == 200
