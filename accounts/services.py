"""Login throttling: at most N failed sign-ins per account and M per address within a window.

Counting happens in the database (LoginFailure rows), so several web processes agree. The gate
(accounts.backends.LockoutGate) asks `login_lock_get` before any password is checked; the
`user_login_failed` signal calls `login_failure_record`. A lock lifts by itself when enough of
its failures have aged out of the window; a successful sign-in clears the account's failures.
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
    scope: str  # "account" | "address"
    until: datetime

    @property
    def message(self) -> str:
        when = timezone.localtime(self.until).strftime("%H:%M")
        who = "this account" if self.scope == "account" else "your network address"
        return (
            f"Too many failed sign-ins for {who}. Sign-in is locked until {when}; "
            "try again then, or ask a manager to check your account."
        )

    def retry_after(self, now: datetime) -> int:
        return max(1, int((self.until - now).total_seconds()) + 1)


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)


def _normalise(username: str | None) -> str:
    return (username or "").strip().lower()[:150]


def _lock_until(failures, limit: int, now: datetime) -> datetime | None:
    """When the failures in the window drop below `limit` again; None if they already are."""
    times = list(
        failures.filter(at__gt=now - _window()).order_by("at").values_list("at", flat=True)
    )
    if len(times) < limit:
        return None
    return times[len(times) - limit] + _window()


def login_lock_get(*, username: str | None, address: str | None, now: datetime) -> Lock | None:
    """The lock that refuses this sign-in, if any: the account's first, then the address's."""
    name = _normalise(username)
    if name:
        until = _lock_until(
            LoginFailure.objects.filter(username=name), settings.LOGIN_FAILURES_PER_ACCOUNT, now
        )
        if until is not None:
            return Lock("account", until)
    if address:
        until = _lock_until(
            LoginFailure.objects.filter(address=address), settings.LOGIN_FAILURES_PER_ADDRESS, now
        )
        if until is not None:
            return Lock("address", until)
    return None


@transaction.atomic
def login_failure_record(
    *, username: str | None, address: str | None, now: datetime
) -> Lock | None:
    """Count one failure; returns the lock it caused (logged and recorded once), if any."""
    name = _normalise(username)
    LoginFailure.objects.filter(at__lte=now - _window()).delete()  # the window is all we keep
    LoginFailure.objects.create(username=name, address=address, at=now)
    lock = login_lock_get(username=name, address=address, now=now)
    if lock is not None:
        _lockout_record(lock, name=name, address=address, now=now)
    return lock


def _lockout_record(lock: Lock, *, name: str, address: str | None, now: datetime) -> None:
    key = name if lock.scope == "account" else (address or "")
    # One record per lockout: a failure that extends a running lock only moves its end.
    if LockoutRecord.objects.filter(scope=lock.scope, key=key, until__gt=now).update(
        until=lock.until
    ):
        return
    failures = LoginFailure.objects.filter(
        at__gt=now - _window(),
        **({"username": name} if lock.scope == "account" else {"address": address}),
    ).count()
    LockoutRecord.objects.create(
        scope=lock.scope,
        key=key,
        failures=failures,
        address=address,
        locked_at=now,
        until=lock.until,
    )
    log.warning(
        "sign-in locked: %s %r after %d failed attempts (last from %s) until %s",
        lock.scope, key, failures, address, lock.until.isoformat(),
    )  # fmt: skip


def login_failures_clear(*, username: str | None) -> None:
    """A successful sign-in wipes the account's failures (not the address's)."""
    LoginFailure.objects.filter(username=_normalise(username)).delete()
