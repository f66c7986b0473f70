"""Reads that may use a replica (docs/scaling.md "A read replica").

Installed only when DATABASE_REPLICA_URL is set (config/settings.py): then the `replica` alias
exists, `ReplicaRouter` is in DATABASE_ROUTERS and `ReplicaReadsMiddleware` in MIDDLEWARE.

What goes where:
- A GET or HEAD of one of `REPLICA_VIEWS` (the board and its poll and map, the reports, the API's
  lists) reads from the replica, unless the same session wrote within REPLICA_PIN_SECONDS.
- Everything else reads from the primary: other pages, every non-safe request, Celery tasks and
  management commands (no request marks them), and every read inside a transaction.
- Sign-in state (users, groups, sessions, tokens) always reads from the primary, so a removed
  role or a signed-out session counts at once, whatever the replica's lag.
- Every write goes to the primary; migrations run there only.

Pinning: any non-safe request sets the `primary_pin` cookie (and, for an API token, a cache key
of the token's hash) for REPLICA_PIN_SECONDS, so the writer's next reads see its own write.
"""

from __future__ import annotations

import hashlib
import time
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.http import HttpRequest, HttpResponse

REPLICA_ALIAS = "replica"
PIN_COOKIE = "primary_pin"
# URL names (namespace:name) whose GET reads may be a replica's few seconds behind.
REPLICA_VIEWS = frozenset(
    {
        "pages:home",
        "pages:board",
        "pages:board-columns",
        "pages:board-map",
        "pages:dashboard",
        "pages:report-concessions",
        "api:call-list",
        "api:customer-list",
        "api:site-list",
        "api:skill-list",
        "api:technician-list",
        "api:escalations",
        "api:call-events",
    }
)
# Apps whose rows decide who is signed in and with which roles: never read from a replica.
PRIMARY_ONLY_APPS = frozenset({"auth", "sessions", "authtoken", "accounts", "contenttypes"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _replica_reads.get() or model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        # A transaction's reads must see its own writes and hold its locks: the primary.
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database and its copy

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def _token_pin_key(authorization: str) -> str:
    return "primary-pin:" + hashlib.sha256(authorization.encode()).hexdigest()[:32]


def _pinned(request: HttpRequest) -> bool:
    """Did this session (browser cookie, or API token) write within REPLICA_PIN_SECONDS?"""
    try:
        if float(request.COOKIES.get(PIN_COOKIE, "0")) > time.time():
            return True
    except ValueError:
        pass  # a mangled cookie pins nothing; it is replaced on the next write
    authorization = request.headers.get("Authorization")
    return bool(authorization) and cache.get(_token_pin_key(authorization)) is not None


def _pin(request: HttpRequest, response: HttpResponse) -> None:
    seconds = settings.REPLICA_PIN_SECONDS
    if seconds <= 0:
        return
    response.set_cookie(
        PIN_COOKIE,
        f"{time.time() + seconds:.3f}",
        max_age=seconds,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    authorization = request.headers.get("Authorization")
    if authorization:
        cache.set(_token_pin_key(authorization), 1, seconds)


class ReplicaReadsMiddleware:
    """Marks the requests whose reads may go to the replica, and pins writers to the primary."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.replica = REPLICA_ALIAS in connections.settings

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _replica_reads.set(False)
        try:
            response = self.get_response(request)
        finally:
            _replica_reads.reset(token)
        if request.method not in SAFE_METHODS:
            _pin(request, response)
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            self.replica
            and request.method in SAFE_METHODS
            and match is not None
            and match.view_name in REPLICA_VIEWS
            and not _pinned(request)
        ):
            _replica_reads.set(True)
        return None


def read_alias(model) -> str:
    """The alias a raw read of `model`'s table should use (the router's answer)."""
    return router.db_for_read(model)
