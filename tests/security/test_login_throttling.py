"""Login throttling by account and by address with growing delays (OWASP ASVS 2.2.1), on the
sign-in page, the admin's sign-in and the API token endpoint; throttling is logged and recorded,
and the person made to wait is told for how long.

Issue 19: ten wrong passwords used to lock a real user out for an hour (a stranger could do it
at will), `DANA` counted toward `dana`, and 50 failures from one address locked out everyone
behind it. Now 5 failures per account (20 per address) are free; each further one makes the
next sign-in wait 5 s, doubling up to 5 minutes; after the wait the right password works.

Failures live in the database (accounts.LoginFailure), so every web process sees the same count;
these tests use a fresh client per attempt, as separate processes would.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.test import Client

from accounts.models import LockoutRecord, LoginFailure
from common import clock
from tests.conftest import PASSWORD, local

pytestmark = pytest.mark.django_db

HOME = "10.1.1.1"
ELSEWHERE = "10.2.2.2"
START = local(7, 30)


def html_login(username: str, password: str, address: str = HOME):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


def token_login(username: str, password: str, address: str = HOME):
    return Client(REMOTE_ADDR=address).post(
        "/api/v1/auth/token/", {"username": username, "password": password}
    )


def fail(times: int, username: str = "dana", address: str = HOME, via=html_login):
    return [via(username, "wrong-password", address) for _ in range(times)]


@pytest.fixture
def clock_now(monkeypatch):
    """A clock the test moves on: `clock_now.advance(seconds)`."""

    class Clock:
        now = START

        def advance(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)

    moving = Clock()
    monkeypatch.setattr(clock, "now", lambda: moving.now)
    return moving


def test_the_defaults(settings):
    assert settings.LOGIN_FREE_FAILURES_PER_ACCOUNT == 5
    assert settings.LOGIN_FREE_FAILURES_PER_ADDRESS == 20
    assert settings.LOGIN_DELAY_FIRST_SECONDS == 5
    assert settings.LOGIN_DELAY_MAX_SECONDS == 300
    assert settings.LOGIN_FAILURE_WINDOW_MINUTES == 60


def test_five_failures_still_let_the_right_password_in_and_clear_the_count(dispatcher):
    assert [r.status_code for r in fail(5)] == [200] * 5
    assert html_login("dana", PASSWORD).status_code == 302
    assert LoginFailure.objects.filter(username="dana").count() == 0


def test_the_sixth_failure_makes_the_next_sign_in_wait_and_says_how_long(dispatcher, clock_now):
    *first, sixth = fail(6)
    assert {r.status_code for r in first} == {200}
    assert sixth.status_code == 429
    assert b"Too many failed sign-ins for this account. Wait 5 seconds" in sixth.content
    assert int(sixth["Retry-After"]) in (5, 6)


def test_during_the_wait_even_the_right_password_is_refused_and_afterwards_it_works(
    dispatcher, clock_now
):
    fail(6)
    clock_now.advance(4)
    refused = html_login("dana", PASSWORD, address=ELSEWHERE)
    assert refused.status_code == 429
    assert "_auth_user_id" not in refused.client.session
    clock_now.advance(2)
    assert html_login("dana", PASSWORD, address=ELSEWHERE).status_code == 302


def test_the_wait_doubles_with_each_further_failure_up_to_five_minutes(dispatcher, clock_now):
    fail(5)
    waits = []
    for _ in range(9):
        response = fail(1)[0]
        assert response.status_code == 429
        waits.append(int(response["Retry-After"]) - 1)
        clock_now.advance(waits[-1] + 1)
    assert waits == [5, 10, 20, 40, 80, 160, 300, 300, 300]


def test_a_stranger_cannot_keep_a_real_user_out_for_longer_than_the_cap(dispatcher, clock_now):
    # A stranger hammers the account from elsewhere for a long time ...
    for _ in range(40):
        response = fail(1, address=ELSEWHERE)[0]
        clock_now.advance(int(response.get("Retry-After", 0)))
    # ... and the real user, five minutes after the stranger's latest failure, signs in.
    clock_now.advance(300 - int(response.get("Retry-After", 0)) + 1)
    assert html_login("dana", PASSWORD).status_code == 302


def test_guessing_stays_bounded_to_a_few_dozen_tries_an_hour(dispatcher, clock_now):
    tried = 0
    while clock_now.now < START + timedelta(hours=1):
        response = html_login("dana", "guess")
        if response.status_code == 429 and LoginFailure.objects.count() == tried:
            clock_now.advance(int(response["Retry-After"]))  # refused before any check
            continue
        tried = LoginFailure.objects.count()
        clock_now.advance(int(response.get("Retry-After", 1)))
    assert tried <= 25


def test_refused_attempts_are_not_counted(dispatcher, clock_now):
    fail(6)
    fail(10)  # all inside the 5-second wait: refused before the password is looked at
    assert LoginFailure.objects.filter(username="dana").count() == 6


def test_a_throttled_account_is_logged_and_recorded_once(dispatcher, clock_now, caplog):
    with caplog.at_level(logging.WARNING, logger="accounts.lockout"):
        for _ in range(8):
            response = fail(1)[0]
            clock_now.advance(int(response.get("Retry-After", 0)))
    records = list(LockoutRecord.objects.all())
    assert [(r.scope, r.key, r.failures, r.address) for r in records] == [
        ("account", "dana", 8, HOME)
    ]
    logged = [r.getMessage() for r in caplog.records if r.name == "accounts.lockout"]
    assert len(logged) == 1
    assert "account 'dana' after 6 failed attempts" in logged[0]


def test_other_accounts_are_not_slowed_by_one_account_throttle(dispatcher, csr):
    fail(6)
    assert html_login("carl", PASSWORD, address=ELSEWHERE).status_code == 302


def test_failures_are_forgotten_after_the_window(dispatcher, clock_now):
    fail(5)
    clock_now.advance(61 * 60)
    assert [r.status_code for r in fail(5)] == [200] * 5  # five free ones again


def test_another_name_in_capitals_is_another_account_and_never_slows_the_real_one(dispatcher):
    # Usernames are case-sensitive: "DANA" never signs in as dana, so guessing it is no guess
    # at dana's password, and its failures are its own.
    fail(12, username="DANA", address=ELSEWHERE)
    assert LoginFailure.objects.filter(username="dana").count() == 0
    assert html_login("dana", PASSWORD).status_code == 302


def test_spaces_around_a_name_are_the_same_account_because_they_sign_in_as_it(dispatcher):
    # The sign-in forms strip the name, so " dana" is a real guess at dana's password: it must
    # count (or spaces would be a way round the throttle).
    assert html_login(" dana ", PASSWORD).status_code == 302
    fail(6, username=" dana")
    assert html_login("dana", PASSWORD).status_code == 429


def test_an_address_is_throttled_after_its_own_free_failures_across_many_usernames(
    dispatcher, csr, clock_now
):
    for i in range(21):
        fail(1, username=f"guess{i}", address=HOME)
    response = html_login("carl", PASSWORD, address=HOME)
    assert response.status_code == 429
    assert b"Too many failed sign-ins for your network address. Wait 5 seconds" in response.content
    assert LockoutRecord.objects.filter(scope="address", key=HOME).count() == 1
    # The same person from another address is fine: the account itself was never attacked.
    assert html_login("carl", PASSWORD, address=ELSEWHERE).status_code == 302
    # And behind the throttled address, once the wait has passed.
    clock_now.advance(6)
    assert html_login("carl", PASSWORD, address=HOME).status_code == 302


def test_the_api_token_endpoint_counts_and_refuses_the_same_way(dispatcher):
    responses = fail(6, via=token_login)
    assert [r.status_code for r in responses[:5]] == [400] * 5
    assert responses[5].status_code == 429
    refused = token_login("dana", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-ins for this account" in refused.json()["detail"]
    assert "token" not in refused.json()
    assert int(refused["Retry-After"]) > 0


def test_failures_on_the_page_and_the_api_add_up(dispatcher):
    fail(3, via=html_login)
    fail(3, via=token_login)
    assert token_login("dana", PASSWORD).status_code == 429


def test_the_admin_sign_in_is_throttled_too_and_says_so(dispatcher):
    dispatcher.is_staff = True
    dispatcher.save()
    fail(6)
    response = Client(REMOTE_ADDR=HOME).post(
        "/admin/login/", {"username": "dana", "password": PASSWORD}
    )
    assert response.status_code == 200  # the admin re-shows its form, with our message
    assert b"Too many failed sign-ins for this account" in response.content


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(dispatcher, csr):
    for i in range(21):
        Client(REMOTE_ADDR=HOME, HTTP_X_FORWARDED_FOR=f"10.9.9.{i}").post(
            "/login/", {"username": f"guess{i}", "password": "wrong"}
        )
    assert html_login("carl", PASSWORD, address=HOME).status_code == 429


def test_behind_a_proxy_the_address_it_saw_is_counted_not_the_proxys(dispatcher, csr, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for i in range(21):
        # The client prepends a forged entry; our proxy appends the address it really saw.
        Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, {HOME}").post(
            "/login/", {"username": f"guess{i}", "password": "wrong"}
        )
    assert LockoutRecord.objects.filter(scope="address", key=HOME).exists()
    behind_proxy = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    response = behind_proxy.post("/login/", {"username": "carl", "password": PASSWORD})
    assert response.status_code == 302  # everyone else behind the same proxy still signs in


def test_signing_out_still_works_and_ends_the_session(dispatcher):
    client = Client(REMOTE_ADDR=HOME)
    assert client.post("/login/", {"username": "dana", "password": PASSWORD}).status_code == 302
    assert client.post("/logout/").status_code == 302
    assert "_auth_user_id" not in client.session
