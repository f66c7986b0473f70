"""Map domain errors to HTTP for the API: one place, one shape ({"detail": ..., "field": ...})."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from dispatch.errors import DispatchError


def exception_handler(exc, context):
    if isinstance(exc, DispatchError):
        body = {"detail": exc.message}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)
