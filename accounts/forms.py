"""Sign-in forms that say plainly when sign-in is locked (instead of "wrong password")."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


class _LockMessage:
    request: object

    def get_invalid_login_error(self) -> ValidationError:
        lock = getattr(self.request, "login_lock", None)
        if lock is not None:
            return ValidationError(lock.message, code="locked")
        return super().get_invalid_login_error()


class ThrottledAuthenticationForm(_LockMessage, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(_LockMessage, AdminAuthenticationForm):
    pass
