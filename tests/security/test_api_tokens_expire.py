"""Issue 19: API tokens never expired. They now last API_TOKEN_DAYS (default 30) from when they
were issued; a stale one is refused with the way out, and the token endpoint issues a new one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

CALLS = "/api/v1/calls/"


def token_made_at(user, when) -> Token:
    token = Token.objects.create(user=user)
    Token.objects.filter(pk=token.pk).update(created=when)
    return Token.objects.get(pk=token.pk)


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_lifetime_is_thirty_days_by_default(settings):
    assert settings.API_TOKEN_DAYS == 30


def test_a_token_works_until_its_lifetime_is_over_then_says_how_to_get_a_new_one(
    dispatcher, morning, clock_at
):
    token = token_made_at(dispatcher, morning)
    clock_at(morning + timedelta(days=30) - timedelta(minutes=1))
    assert with_token(token.key).get(CALLS).status_code == 200
    clock_at(morning + timedelta(days=30))
    refused = with_token(token.key).get(CALLS)
    assert refused.status_code in (401, 403)
    detail = refused.json()["detail"]
    assert "expired" in detail and "POST /api/v1/auth/token/" in detail


def test_the_lifetime_follows_the_setting(dispatcher, morning, clock_at, settings):
    settings.API_TOKEN_DAYS = 2
    token = token_made_at(dispatcher, morning)
    clock_at(morning + timedelta(days=2, seconds=1))
    assert with_token(token.key).get(CALLS).status_code in (401, 403)


def test_signing_in_again_replaces_an_expired_token_with_a_working_one(
    dispatcher, morning, clock_at
):
    old = token_made_at(dispatcher, morning)
    clock_at(morning + timedelta(days=31))
    obtained = APIClient().post(
        "/api/v1/auth/token/", {"username": "dana", "password": PASSWORD}, format="json"
    )
    assert obtained.status_code == 200
    new = obtained.json()["token"]
    assert new != old.key and not Token.objects.filter(key=old.key).exists()
    assert with_token(new).get(CALLS).status_code == 200


def test_signing_in_again_before_expiry_keeps_the_same_token(dispatcher, morning, clock_at):
    old = token_made_at(dispatcher, morning)
    clock_at(morning + timedelta(days=29))
    obtained = APIClient().post(
        "/api/v1/auth/token/", {"username": "dana", "password": PASSWORD}, format="json"
    )
    assert obtained.json()["token"] == old.key
