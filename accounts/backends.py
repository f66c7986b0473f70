"""The gate in front of every password check (HTML login, admin, API token)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import PermissionDenied

from accounts.services import login_lock_get
from common import clock


def client_address(request) -> str | None:
    """The address the per-address limit counts.

    Behind N proxies (TRUSTED_PROXY_COUNT) it is the address the outermost of ours saw: the N-th
    entry from the right of X-Forwarded-For. Entries further left are the client's to invent,
    so they are never used; without proxies X-Forwarded-For is ignored altogether. (Counting the
    proxy's own address would lock every user out together.)
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if proxies <= 0 or len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return remote
    return candidate


class LockoutGate:
    """First in AUTHENTICATION_BACKENDS: a locked account or address is refused before any
    backend looks at the password (PermissionDenied stops Django's `authenticate`). The lock
    rides on the request so the form or the token view can say why."""

    def authenticate(self, request, username=None, **credentials):
        lock = login_lock_get(username=username, address=client_address(request), now=clock.now())
        if lock is not None:
            if request is not None:
                request.login_lock = lock
            raise PermissionDenied(lock.message)
        # No get_user(): sessions always belong to the backend that checked the password (and
        # the test client's force_login picks the first backend that has one).
        return None
