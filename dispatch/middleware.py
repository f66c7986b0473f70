"""PostgreSQL down or restarting: answer 503 with a message at once, never a 500 or a hang.

A request that meets a broken or refused database connection fails inside its own transaction,
so nothing is half-applied; the person is told to try again in a moment. Django drops the broken
connection at the end of the request (CONN_HEALTH_CHECKS checks a reused one before the next), so
web and worker processes recover by themselves when the database is back, without a restart.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

log = logging.getLogger(__name__)

# A change is one transaction: it was saved whole or not at all. Which one is unknown only if
# the outage struck between its commit and the answer, so the message does not promise either.
UNAVAILABLE_MESSAGE = (
    "The database is unavailable right now. Please try again in a few seconds; reload to see "
    "whether your last change was saved."
)
RETRY_AFTER_SECONDS = "5"


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": UNAVAILABLE_MESSAGE}, status=503)
    else:
        response = HttpResponse(UNAVAILABLE_MESSAGE, status=503, content_type="text/plain")
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def _is_database_down(exc: BaseException | None) -> bool:
    # Deadlocks and serialization failures are OperationalErrors too, but the move service
    # retries them and answers Busy (503) itself; whatever reaches here is a lost connection.
    return isinstance(exc, OperationalError | InterfaceError)


class DatabaseUnavailableMiddleware:
    """Views (HTML and API) that meet a database outage answer 503 with a message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not _is_database_down(exception):
            return None
        log.warning(
            "database unavailable during %s %s: %s", request.method, request.path, exception
        )
        return database_unavailable_response(request)


def server_error(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """handler500: an outage met outside a view (session or auth middleware) is a 503 too."""
    if _is_database_down(sys.exc_info()[1]):
        log.warning("database unavailable (outside a view) during %s", request.path)
        return database_unavailable_response(request)
    return defaults.server_error(request, *args, **kwargs)
