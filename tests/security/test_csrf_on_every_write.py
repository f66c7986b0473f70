"""Every state-changing route, enumerated from the resolver, refuses a session without a CSRF token.

The routes and their methods come from the permission matrix's enumeration, so a new URL is
covered the day it is added. A signed-in manager (the widest reach) posts valid-looking bodies
through a client that enforces CSRF like a browser; every write must answer 403 and change
nothing. The same writes with the token go through (the matrix shows 2xx/3xx), so the 403 is
CSRF and not the permission gate.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from dispatch.models import CallEvent, Escalation, ServiceCall
from tests.security.routes import ADMIN, all_routes, body_for, url_for

pytestmark = pytest.mark.django_db

WRITES = ("POST", "PUT", "PATCH", "DELETE")
CASES = [
    (route, method)
    for route in all_routes()
    if not route.suffix and route.path != ADMIN
    for method in route.methods
    if method in WRITES
]


def snapshot() -> tuple:
    return (
        list(ServiceCall.objects.order_by("pk").values_list("pk", "version", "status")),
        CallEvent.objects.count(),
        Escalation.objects.count(),
    )


def send(client: Client, route, method: str, world: dict):
    url, body = url_for(route, world), body_for(route, method, world)
    if route.path.startswith("/api/"):
        return client.generic(method, url, _json(body), content_type="application/json")
    return client.generic(
        method, url, _form(body), content_type="application/x-www-form-urlencoded"
    )


def _json(body: dict) -> str:

    return json.dumps(body)


def _form(body: dict) -> str:

    return urlencode(body)


def test_there_are_writes_to_check():
    assert len(CASES) >= 20


@pytest.mark.parametrize(("route", "method"), CASES, ids=[f"{m} {r.path}" for r, m in CASES])
def test_a_session_write_without_a_csrf_token_is_refused(world, route, method):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["mgr"])
    before = snapshot()
    response = send(client, route, method, world)
    assert response.status_code == 403, f"{method} {route.path}: {response.status_code}"
    assert b"CSRF" in response.content
    assert snapshot() == before


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_a_login_form_posted_without_a_csrf_token_is_refused(url):
    client = Client(enforce_csrf_checks=True)
    response = client.post(url, {"username": "mia", "password": "whatever"})
    assert response.status_code == 403


def test_the_same_write_with_the_token_goes_through(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["mgr"])
    client.get("/board/")  # sets the CSRF cookie, as a page load does
    token = client.cookies["csrftoken"].value
    call = world["call"]
    response = client.post(
        f"/api/v1/calls/{call.pk}/escalate/",
        {"reason": "complaint"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201
