"""API tokens that expire: API_TOKEN_DAYS after they were issued (issue 19: they never did).

One rule, `token_expires_at`, read by the authentication (a stale token is refused with the way
out) and by the token endpoint (which replaces a stale token instead of handing it back).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from common import clock


def token_expires_at(token: Token) -> datetime:
    return token.created + timedelta(days=settings.API_TOKEN_DAYS)


def token_is_expired(token: Token, *, now: datetime) -> bool:
    return now >= token_expires_at(token)


@transaction.atomic
def token_issue(*, user, now: datetime) -> Token:
    """The user's token; an expired one is replaced by a fresh one (a new key, a new clock)."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and token_is_expired(token, now=now):
        token.delete()
        token = None
    if token is None:
        token = Token.objects.create(user=user)
        # `created` is auto_now_add (the real time); the lifetime counts from the services' now.
        Token.objects.filter(pk=token.pk).update(created=now)
        token.created = now
    return token


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing a token older than API_TOKEN_DAYS."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_is_expired(token, now=clock.now()):
            when = timezone.localtime(token_expires_at(token)).strftime("%Y-%m-%d %H:%M")
            raise exceptions.AuthenticationFailed(
                f"This API token expired at {when} (tokens last {settings.API_TOKEN_DAYS} "
                "days). Get a new one from POST /api/v1/auth/token/ with your username and "
                "password."
            )
        return user, token
