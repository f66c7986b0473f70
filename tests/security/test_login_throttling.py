"""Login throttling: at most 10 failed sign-ins per account per hour, plus a per-address limit,
on the sign-in page, the admin's sign-in and the API token endpoint; lockouts are logged and
recorded, and the person locked out is told so plainly.

Failures live in the database (accounts.LoginFailure), so every web process sees the same count;
these tests use a fresh client per attempt, as separate processes would.
"""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from accounts.models import LockoutRecord, LoginFailure
from tests.conftest import PASSWORD, in_minutes, local

pytestmark = pytest.mark.django_db

HOME = "10.1.1.1"
ELSEWHERE = "10.2.2.2"


def html_login(username: str, password: str, address: str = HOME):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


def token_login(username: str, password: str, address: str = HOME):
    return Client(REMOTE_ADDR=address).post(
        "/api/v1/auth/token/", {"username": username, "password": password}
    )


def fail(times: int, username: str = "dana", address: str = HOME, via=html_login):
    return [via(username, "wrong-password", address) for _ in range(times)]


def test_nine_failures_still_let_the_right_password_in_and_clear_the_count(dispatcher):
    assert [r.status_code for r in fail(9)] == [200] * 9
    assert html_login("dana", PASSWORD).status_code == 302
    assert LoginFailure.objects.filter(username="dana").count() == 0


def test_the_tenth_failure_locks_the_account_and_says_until_when(dispatcher):
    *first, tenth = fail(10)
    assert {r.status_code for r in first} == {200}
    assert tenth.status_code == 429
    assert b"Too many failed sign-ins for this account" in tenth.content
    assert b"locked until 08:30" in tenth.content  # an hour after the first failure (07:30)
    assert int(tenth["Retry-After"]) > 0


def test_a_locked_account_refuses_even_the_right_password(dispatcher):
    fail(10)
    response = html_login("dana", PASSWORD, address=ELSEWHERE)
    assert response.status_code == 429
    assert b"locked" in response.content
    assert "_auth_user_id" not in response.client.session


def test_a_lockout_is_logged_and_recorded_once(dispatcher, caplog):
    with caplog.at_level(logging.WARNING, logger="accounts.lockout"):
        fail(12)
    records = list(LockoutRecord.objects.all())
    assert [(r.scope, r.key, r.failures, r.address) for r in records] == [
        ("account", "dana", 10, HOME)
    ]
    logged = [r.getMessage() for r in caplog.records if r.name == "accounts.lockout"]
    assert len(logged) == 1
    assert "account 'dana' after 10 failed attempts" in logged[0]


def test_other_accounts_are_not_locked_by_one_account_lockout(dispatcher, csr):
    fail(10)
    assert html_login("carl", PASSWORD, address=ELSEWHERE).status_code == 302


def test_the_lock_lifts_when_the_failures_age_out_of_the_hour(dispatcher, clock_at):
    clock_at(local(7, 30))
    fail(10)
    clock_at(in_minutes(local(7, 30), 59))
    assert html_login("dana", PASSWORD).status_code == 429
    clock_at(in_minutes(local(7, 30), 61))
    assert html_login("dana", PASSWORD).status_code == 302


def test_an_address_is_locked_after_its_own_limit_across_many_usernames(dispatcher, csr, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 20
    for i in range(20):
        fail(1, username=f"guess{i}", address=HOME)
    response = html_login("carl", PASSWORD, address=HOME)
    assert response.status_code == 429
    assert b"Too many failed sign-ins for your network address" in response.content
    assert LockoutRecord.objects.filter(scope="address", key=HOME).count() == 1
    # The same person from another address is fine: the account itself was never attacked.
    assert html_login("carl", PASSWORD, address=ELSEWHERE).status_code == 302


def test_the_address_limit_is_fifty_by_default(settings):
    assert settings.LOGIN_FAILURES_PER_ACCOUNT == 10
    assert settings.LOGIN_FAILURES_PER_ADDRESS == 50
    assert settings.LOGIN_FAILURE_WINDOW_MINUTES == 60


def test_the_api_token_endpoint_counts_and_refuses_the_same_way(dispatcher):
    responses = fail(10, via=token_login)
    assert [r.status_code for r in responses[:9]] == [400] * 9
    assert responses[9].status_code == 429
    refused = token_login("dana", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-ins for this account" in refused.json()["detail"]
    assert "token" not in refused.json()
    assert int(refused["Retry-After"]) > 0


def test_failures_on_the_page_and_the_api_add_up(dispatcher):
    fail(5, via=html_login)
    fail(5, via=token_login)
    assert token_login("dana", PASSWORD).status_code == 429


def test_the_admin_sign_in_is_locked_too_and_says_so(dispatcher):
    dispatcher.is_staff = True
    dispatcher.save()
    fail(10)
    response = Client(REMOTE_ADDR=HOME).post(
        "/admin/login/", {"username": "dana", "password": PASSWORD}
    )
    assert response.status_code == 200  # the admin re-shows its form, with our message
    assert b"Too many failed sign-ins for this account" in response.content


def test_usernames_are_counted_case_insensitively(dispatcher):
    fail(5, username="DANA")
    fail(5, username="dana")
    assert html_login("dana", PASSWORD).status_code == 429


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(dispatcher, csr):
    for i in range(50):
        Client(REMOTE_ADDR=HOME, HTTP_X_FORWARDED_FOR=f"10.9.9.{i}").post(
            "/login/", {"username": f"guess{i}", "password": "wrong"}
        )
    assert html_login("carl", PASSWORD, address=HOME).status_code == 429


def test_behind_a_proxy_the_address_it_saw_is_counted_not_the_proxys(dispatcher, csr, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for i in range(50):
        # The client prepends a forged entry; our proxy appends the address it really saw.
        Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, {HOME}").post(
            "/login/", {"username": f"guess{i}", "password": "wrong"}
        )
    assert LockoutRecord.objects.filter(scope="address", key=HOME).exists()
    behind_proxy = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    response = behind_proxy.post("/login/", {"username": "carl", "password": PASSWORD})
    assert response.status_code == 302  # everyone else behind the same proxy still signs in
