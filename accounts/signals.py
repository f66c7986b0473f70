"""Failed and successful sign-ins, from whichever door (Django's auth signals)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from accounts.backends import client_address
from accounts.services import login_failure_record, login_failures_clear
from common import clock


@receiver(user_login_failed)
def _record_failure(sender, credentials, request=None, **kwargs) -> None:
    if request is not None and getattr(request, "login_lock", None) is not None:
        return  # refused by the gate: already locked, the password was never tried
    lock = login_failure_record(
        username=credentials.get("username"), address=client_address(request), now=clock.now()
    )
    if lock is not None and request is not None:
        request.login_lock = lock


@receiver(user_logged_in)
def _clear_failures(sender, request, user, **kwargs) -> None:
    login_failures_clear(username=user.get_username())
