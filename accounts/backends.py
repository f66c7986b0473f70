"""The gate in front of every password check (HTML login, admin, API token)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from accounts.services import login_lock_get
from dispatch import clock


def client_address(request) -> str | None:
    # REMOTE_ADDR only: behind a proxy, set it from the proxy's header in the proxy/WSGI layer
    # (a client-supplied X-Forwarded-For would let anyone pick their own address).
    return (request.META.get("REMOTE_ADDR") or None) if request is not None else None


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
