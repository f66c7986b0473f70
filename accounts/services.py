"""Login throttling by account and by address with growing delays (OWASP ASVS 2.2.1).

Issue 19: ten wrong passwords locked a real user out for an hour, so a stranger could lock
anyone out at will (and 50 failures from one address locked out everyone behind it). Now the
first LOGIN_FREE_FAILURES_PER_ACCOUNT failures (per address: ..._PER_ADDRESS) cost nothing;
each further one makes the next sign-in wait, LOGIN_DELAY_FIRST_SECONDS and doubling up to
LOGIN_DELAY_MAX_SECONDS, counted from the latest failure. A stranger can make a real user wait
at most that cap, after which the right password works; a guesser gets a few dozen tries an
hour per account. Failures are forgotten LOGIN_FAILURE_WINDOW_MINUTES after they happened.

The account is keyed by the username exactly as it was checked against the password (after the
sign-in forms' own cleaning, which strips spaces): usernames are case-sensitive, so failures for
"DANA" are another name's and never slow "dana" down.

Counting happens in the database (LoginFailure rows), so several web processes agree. The gate
(accounts.backends.LockoutGate) asks `login_lock_get` before any password is checked, and an
attempt it refuses is not counted; the `user_login_failed` signal calls `login_failure_record`;
a successful sign-in clears the account's failures (not the address's).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import LockoutRecord, LoginFailure

log = logging.getLogger("accounts.lockout")


@dataclass(frozen=True)
class Lock:
    """Sign-in refused until `until` for an account or an address."""

    scope: str  # "account" | "address"
    until: datetime
    seconds: int  # the delay the latest failure earned

    @property
    def message(self) -> str:
        when = timezone.localtime(self.until).strftime("%H:%M:%S")
        who = "this account" if self.scope == "account" else "your network address"
        return (
            f"Too many failed sign-ins for {who}. Wait {_spoken(self.seconds)} (until {when}), "
            "then try again; each further failure makes the wait longer, up to "
            f"{_spoken(settings.LOGIN_DELAY_MAX_SECONDS)}."
        )

    def retry_after(self, now: datetime) -> int:
        return max(1, int((self.until - now).total_seconds()) + 1)


def _spoken(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{round(seconds / 60)} minutes"


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)


def _key(username: str | None) -> str:
    return (username or "")[:150]


def delay_seconds(failures: int, free: int) -> int:
    """The wait after `failures` recent failures: none for the free ones, then doubling."""
    if failures <= free:
        return 0
    first, cap = settings.LOGIN_DELAY_FIRST_SECONDS, settings.LOGIN_DELAY_MAX_SECONDS
    doublings = min(failures - free - 1, 30)  # 2**30 s is past any cap: no huge numbers
    return min(cap, first * 2**doublings)


def _lock(scope: str, failures, free: int, now: datetime) -> Lock | None:
    recent = failures.filter(at__gt=now - _window())
    count = recent.count()
    seconds = delay_seconds(count, free)
    if not seconds:
        return None
    latest = recent.order_by("-at").values_list("at", flat=True).first()
    until = latest + timedelta(seconds=seconds)
    return Lock(scope, until, seconds) if now < until else None


def login_lock_get(*, username: str | None, address: str | None, now: datetime) -> Lock | None:
    """The wait that refuses this sign-in now, if any: the account's first, then the address's."""
    name = _key(username)
    if name:
        lock = _lock(
            "account",
            LoginFailure.objects.filter(username=name),
            settings.LOGIN_FREE_FAILURES_PER_ACCOUNT,
            now,
        )
        if lock is not None:
            return lock
    if address:
        return _lock(
            "address",
            LoginFailure.objects.filter(address=address),
            settings.LOGIN_FREE_FAILURES_PER_ADDRESS,
            now,
        )
    return None


@transaction.atomic
def login_failure_record(
    *, username: str | None, address: str | None, now: datetime
) -> Lock | None:
    """Count one failure; returns the wait it caused (recorded, and logged once per run of
    failures), if any."""
    name = _key(username)
    LoginFailure.objects.filter(at__lte=now - _window()).delete()  # the window is all we keep
    LoginFailure.objects.create(username=name, address=address, at=now)
    lock = login_lock_get(username=name, address=address, now=now)
    if lock is not None:
        _lockout_record(lock, name=name, address=address, now=now)
    return lock


def _lockout_record(lock: Lock, *, name: str, address: str | None, now: datetime) -> None:
    key = name if lock.scope == "account" else (address or "")
    failures = LoginFailure.objects.filter(
        at__gt=now - _window(),
        **({"username": name} if lock.scope == "account" else {"address": address}),
    ).count()
    # One record per run of failures (while they stay in the window): each further failure
    # only moves its end and its count.
    if LockoutRecord.objects.filter(
        scope=lock.scope, key=key, locked_at__gt=now - _window()
    ).update(until=lock.until, failures=failures):
        return
    LockoutRecord.objects.create(
        scope=lock.scope,
        key=key,
        failures=failures,
        address=address,
        locked_at=now,
        until=lock.until,
    )
    log.warning(
        "sign-in throttled: %s %r after %d failed attempts (last from %s) until %s",
        lock.scope, key, failures, address, lock.until.isoformat(),
    )  # fmt: skip


def login_failures_clear(*, username: str | None) -> None:
    """A successful sign-in wipes the account's failures (not the address's)."""
    LoginFailure.objects.filter(username=_key(username)).delete()
