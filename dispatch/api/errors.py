"""Map errors to HTTP for the API: one place, one shape ({"detail": ..., "field": ...})."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.db import IntegrityError
from django.http import JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import DispatchError

log = logging.getLogger(__name__)
UNIQUE_VIOLATION = "23505"


def exception_handler(exc, context):
    if isinstance(exc, DispatchError):
        body = {"detail": exc.message}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status_code)
    if isinstance(exc, IntegrityError):
        return _integrity_response(exc)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc.detail)
        if _only_codes(exc.get_codes()) == {"unique"}:
            # A duplicate is a conflict with what exists, as when the database catches it.
            response.status_code = 409
    return response


def _only_codes(codes: Any) -> set[str]:
    if isinstance(codes, dict):
        return set().union(*(_only_codes(v) for v in codes.values())) if codes else set()
    if isinstance(codes, list):
        return set().union(*(_only_codes(v) for v in codes)) if codes else set()
    return {str(codes)}


def _validation_body(detail: Any) -> dict[str, Any]:
    """DRF's nested {field: [messages]} keeps its place under `errors`; the first one leads."""
    path, message = _first_error(detail, ())
    field = ".".join(p for p in path if p != "non_field_errors")
    body: dict[str, Any] = {"detail": f"{field}: {message}" if field else message}
    if field:
        body["field"] = field
    body["errors"] = detail
    return body


def _first_error(detail: Any, path: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            return _first_error(value, (*path, str(key)))
    if isinstance(detail, list):
        for index, item in enumerate(detail):
            if item:  # a list of nested objects has {} for the valid ones
                inner = path if not isinstance(item, dict | list) else (*path, str(index))
                return _first_error(item, inner)
    return path, str(detail)


def _integrity_response(exc: IntegrityError) -> Response:
    # The last line of defence: input checks should have caught this before the database did.
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    log.warning("integrity error reached the API: %s", name or exc)
    message = _constraint_message(name) or "The change breaks a data rule and was not saved."
    code = getattr(exc.__cause__, "pgcode", None)
    return Response({"detail": message}, status=409 if code == UNIQUE_VIOLATION else 400)


def _constraint_message(name: str | None) -> str | None:
    if not name:
        return None
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if constraint.name == name:
                return str(constraint.get_violation_error_message())
    return None


def not_found(request, exception=None):
    """handler404: under /api/ a URL that matches no route (e.g. `calls/abc/move/`) answers in
    the API's JSON error shape, as every other API error does; pages keep Django's 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": f"No API endpoint at {request.path}."}, status=404)
    return page_not_found(request, exception)
