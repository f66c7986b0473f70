"""Every URL the resolver knows x every persona x every method, against one table of statuses.

The URL patterns are enumerated from Django's resolver (HTML pages, htmx fragments, API routes);
a pattern without a row in MATRIX fails `test_every_url_pattern_has_a_row_in_the_matrix`, so a new
URL cannot ship without someone deciding who may use it. Django's admin is one staff-only family
(`/admin/`), checked by its index page (and `test_the_admin_is_for_staff_only`).

How to add a row (one line in MATRIX_TEXT): the route as the resolver spells it, normalised to a
path (router regexes `^calls/(?P<pk>[^/.]+)/$` and converters `<int:pk>` both become `<pk>`; the
failing test prints the exact keys it wants), the method, then the expected status per persona:

    anon   nobody signed in
    csr    carl, a customer service rep of team North
    disp   dana, a dispatcher of team North
    own    tom, the technician whose call / escalation / record the URL names
    other  tina, another technician of the same team (the object is not hers)
    mgr    mia, a manager
    team   sam, a dispatcher of team South (teams do not limit office staff: DESIGN.md)

Methods: for API views, every method the view implements; for function views GET and POST
(a GET-only page answers POST with 405, which the table records). A write needs a valid body in
BODIES (keyed like the table) so that a status says who may, not what was malformed.

Objects: `<pk>` / `<call_id>` is tom's assigned call (or, by the path's resource, its customer,
site, a skill, tom himself), `<escalation_id>` an open escalation on that call, `<token>` its
tracking token (the escalation is on tom's second call). Each request runs in a savepoint that
is rolled back, so personas never see each other's changes. Format-suffix routes (`calls.json`)
must answer GET like their base route.

Statuses: 2xx allowed; 302 a redirect (anonymous HTML to the login page; an HTML form post back to
its page, with the outcome in a message); 401/403 not allowed; 404 outside the user's reach (its
existence is not revealed); 405 method not offered; 400 past the gate but refused by a rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from dispatch import clock
from dispatch.models import Escalation, ServiceCall
from tests.conftest import DAY, PASSWORD, make_user

pytestmark = pytest.mark.django_db

PERSONAS = ("anon", "csr", "disp", "own", "other", "mgr", "team")

# route                                      method anon  csr disp  own othr  mgr team
MATRIX_TEXT = """
/admin/                                      GET     302  302  302  302  302  302  302
/login/                                      GET     200  200  200  200  200  200  200
/login/                                      POST    200  200  200  200  200  200  200
/login/                                      PUT     200  200  200  200  200  200  200
/logout/                                     POST    302  302  302  302  302  302  302
/escalations/                                GET     302  200  200  403  403  200  200
/escalations/                                POST    302  405  405  405  405  405  405
/escalations/<escalation_id>/                GET     302  200  200  403  403  200  200
/escalations/<escalation_id>/                POST    302  405  405  405  405  405  405
/escalations/<escalation_id>/resolve/        GET     302  405  405  405  405  405  405
/escalations/<escalation_id>/resolve/        POST    302  403  403  403  403  302  403
/dashboard/                                  GET     302  403  200  403  403  200  200
/dashboard/                                  POST    302  405  405  405  405  405  405
/reports/concessions/                        GET     302  403  200  403  403  200  200
/reports/concessions/                        POST    302  405  405  405  405  405  405
/                                            GET     302  302  302  302  302  302  302
/                                            POST    302  302  302  302  302  302  302
/board/                                      GET     302  200  200  200  200  200  200
/board/                                      POST    302  405  405  405  405  405  405
/board/columns/                              GET     302  200  200  200  200  200  200
/board/columns/                              POST    302  405  405  405  405  405  405
/board/move/                                 GET     302  405  405  405  405  405  405
/board/move/                                 POST    302  200  200  200  404  200  200
/calls/<call_id>/                            GET     302  200  200  200  404  200  200
/calls/<call_id>/                            POST    302  405  405  405  405  405  405
/track/<token>/                              GET     200  200  200  200  200  200  200
/track/<token>/                              POST    405  405  405  405  405  405  405
/calls/<call_id>/escalate/                   GET     302  405  405  405  405  405  405
/calls/<call_id>/escalate/                   POST    302  302  302  302  404  302  302
/calls/<call_id>/move/                       GET     302  200  200  200  404  200  200
/calls/<call_id>/move/                       POST    302  405  405  405  405  405  405
/api/v1/auth/token/                          POST    400  400  400  400  400  400  400
/api/v1/status/                              GET     403  200  200  200  200  200  200
/api/v1/technicians/<pk>/status/             POST    403  403  200  200  403  200  200
/api/v1/calls/<pk>/move/                     POST    403  200  200  200  404  200  200
/api/v1/calls/<pk>/move/preview/             POST    403  200  200  200  404  200  200
/api/v1/calls/<pk>/cancel/                   POST    403  200  200  403  404  200  200
/api/v1/calls/<pk>/candidates/               GET     403  200  200  200  404  200  200
/api/v1/calls/<pk>/escalate/                 POST    403  201  201  201  404  201  201
/api/v1/escalations/                         GET     403  200  200  403  403  200  200
/api/v1/escalations/<pk>/resolve/            POST    403  403  403  403  403  200  403
/api/v1/calls/<pk>/events/                   GET     403  200  200  200  404  200  200
/api/v1/customers/                           GET     403  200  200  200  200  200  200
/api/v1/customers/                           POST    403  201  201  403  403  201  201
/api/v1/customers/<pk>/                      GET     403  200  200  200  404  200  200
/api/v1/customers/<pk>/                      PUT     403  200  200  403  403  200  200
/api/v1/customers/<pk>/                      PATCH   403  200  200  403  403  200  200
/api/v1/sites/                               GET     403  200  200  200  200  200  200
/api/v1/sites/                               POST    403  201  201  403  403  201  201
/api/v1/sites/<pk>/                          GET     403  200  200  200  404  200  200
/api/v1/sites/<pk>/                          PUT     403  200  200  403  403  200  200
/api/v1/sites/<pk>/                          PATCH   403  200  200  403  403  200  200
/api/v1/skills/                              GET     403  200  200  200  200  200  200
/api/v1/skills/                              POST    403  403  403  403  403  201  403
/api/v1/skills/<pk>/                         GET     403  200  200  200  200  200  200
/api/v1/skills/<pk>/                         PUT     403  403  403  403  403  200  403
/api/v1/skills/<pk>/                         PATCH   403  403  403  403  403  200  403
/api/v1/technicians/                         GET     403  200  200  200  200  200  200
/api/v1/technicians/                         POST    403  403  403  403  403  201  403
/api/v1/technicians/<pk>/                    GET     403  200  200  200  200  200  200
/api/v1/technicians/<pk>/                    PUT     403  403  403  403  403  200  403
/api/v1/technicians/<pk>/                    PATCH   403  403  403  403  403  200  403
/api/v1/calls/                               GET     403  200  200  200  200  200  200
/api/v1/calls/                               POST    403  201  201  403  403  201  201
/api/v1/calls/<pk>/                          GET     403  200  200  200  404  200  200
/api/v1/calls/<pk>/                          PATCH   403  200  200  403  404  200  200
/api/v1/                                     GET     403  200  200  200  200  200  200
/api/schema/                                 GET     200  200  200  200  200  200  200
/api/docs/                                   GET     200  200  200  200  200  200  200
"""

# Valid bodies for writes, keyed like the table; `{version}` etc. are filled per request.
TECHNICIAN = {
    "team": "{team}",
    "home_lat": 41.88,
    "home_lng": -87.63,
    "shift_start": "08:00:00",
    "shift_end": "17:00:00",
    "status": "available",
}
MOVE = {"technician": "{tom}", "position": 0, "expected_version": "{version}"}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("/login/", "POST"): {"username": "nobody", "password": "wrong"},
    ("/api/v1/auth/token/", "POST"): {"username": "nobody", "password": "wrong"},
    ("/board/move/", "POST"): {
        "call": "{call}",
        "technician": "{tom}",
        "position": 0,
        "expected_version": "{version}",
    },
    ("/calls/<call_id>/escalate/", "POST"): {"reason": "complaint", "note": "Customer called"},
    ("/escalations/<escalation_id>/resolve/", "POST"): {"strategy": "triage", "resolution": "ok"},
    ("/api/v1/calls/", "POST"): {
        "customer": "{customer}",
        "site": "{site}",
        "summary": "Dripping tap",
        "duration_minutes": 30,
        "scheduled_day": DAY.isoformat(),
    },
    ("/api/v1/calls/<pk>/", "PATCH"): {"summary": "Leaking boiler, basement"},
    ("/api/v1/calls/<pk>/move/", "POST"): MOVE,
    ("/api/v1/calls/<pk>/move/preview/", "POST"): MOVE,
    ("/api/v1/calls/<pk>/cancel/", "POST"): {"reason": "Customer fixed it"},
    ("/api/v1/calls/<pk>/escalate/", "POST"): {"reason": "complaint", "note": "Angry"},
    ("/api/v1/escalations/<pk>/resolve/", "POST"): {"strategy": "triage", "resolution": "ok"},
    ("/api/v1/technicians/<pk>/status/", "POST"): {"status": "en_route"},
    ("/api/v1/customers/", "POST"): {"name": "New Co", "contract": "full_service"},
    ("/api/v1/customers/<pk>/", "PATCH"): {"phone": "555-0100"},
    ("/api/v1/customers/<pk>/", "PUT"): {"name": "Acme", "contract": "full_service"},
    ("/api/v1/sites/", "POST"): {
        "customer": "{customer}",
        "label": "Depot",
        "address": "2 Elm St",
        "lat": 41.9,
        "lng": -87.6,
    },
    ("/api/v1/sites/<pk>/", "PATCH"): {"label": "Front"},
    ("/api/v1/sites/<pk>/", "PUT"): {
        "customer": "{customer}",
        "label": "Front",
        "address": "1 Main St",
        "lat": 41.9,
        "lng": -87.6,
    },
    ("/api/v1/skills/", "POST"): {"code": "roofing", "name": "Roofing"},
    ("/api/v1/skills/<pk>/", "PATCH"): {"name": "Plumbing and drains"},
    ("/api/v1/skills/<pk>/", "PUT"): {"code": "plumbing", "name": "Plumbing"},
    ("/api/v1/technicians/<pk>/", "PATCH"): {"name": "Tom T."},
    ("/api/v1/technicians/", "POST"): {**TECHNICIAN, "user": "{newcomer}", "name": "Nia"},
    ("/api/v1/technicians/<pk>/", "PUT"): {**TECHNICIAN, "user": "{tom_user}", "name": "Tom"},
}


def _parse(text: str) -> dict[tuple[str, str], dict[str, int]]:
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for line in text.strip().splitlines():
        route, method, *statuses = line.split()
        assert (route, method) not in rows, f"two rows for {route} {method}"
        rows[route, method] = dict(zip(PERSONAS, map(int, statuses), strict=True))
    return rows


MATRIX = _parse(MATRIX_TEXT)

# --- enumerating the resolver -------------------------------------------------------------------

ADMIN = "/admin/"
SUFFIX = re.compile(r"\\\.\(\?P<format>[^)]*\)/?\??\$?$|<drf_format_suffix:format>$")
GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
FUNCTION_VIEW_METHODS = ("GET", "POST")
DRF_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    path: str  # normalised: /api/v1/calls/<pk>/
    methods: tuple[str, ...]
    suffix: bool  # a DRF format-suffix twin of `path`
    # `calls/<pk>.json` for the router's routes, `api/v1/.json` for its root view
    keeps_slash: bool = False


def _normalise(raw: str) -> tuple[str, bool]:
    suffix = bool(SUFFIX.search(raw))
    path = SUFFIX.sub("", raw).replace("^", "").replace("$", "")
    path = CONVERTER.sub(r"<\1>", GROUP.sub(r"<\1>", path))
    if suffix and not path.endswith("/"):
        path += "/"
    return "/" + path, suffix


def _methods(pattern: URLPattern) -> tuple[str, ...]:
    callback = pattern.callback
    if getattr(callback, "actions", None):  # a DRF viewset route
        return tuple(m.upper() for m in callback.actions)
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None and hasattr(view_class, "http_method_names"):
        allowed = [m for m in DRF_METHODS if m in view_class.http_method_names]
        return tuple(m.upper() for m in allowed if hasattr(view_class, m))
    return FUNCTION_VIEW_METHODS


def _walk(patterns, prefix: str) -> Iterator[Route]:
    for pattern in patterns:
        raw = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if ("/" + raw).startswith(ADMIN):
                yield Route(ADMIN, ("GET",), False)
            else:
                yield from _walk(pattern.url_patterns, raw)
            continue
        path, suffix = _normalise(raw)
        methods = ("GET",) if suffix else _methods(pattern)
        yield Route(path, methods, suffix, keeps_slash=raw.endswith("<drf_format_suffix:format>"))


def all_routes() -> list[Route]:
    return list(dict.fromkeys(_walk(get_resolver().url_patterns, "")))


def all_cases() -> list[tuple[Route, str]]:
    return [(route, method) for route in all_routes() for method in route.methods]


# --- the cast and the objects -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, morning):
    monkeypatch.setattr(clock, "now", lambda: morning)


@pytest.fixture
def world(csr, dispatcher, manager, tom, tina, south, make_call, skills, customer, site):
    sam = make_user("sam", "dispatcher")
    south.staff.add(sam)
    call = make_call(tom, summary="Leaking boiler", status="assigned")
    # The escalation is on tom's second call, so escalating the first one can succeed.
    escalated = make_call(tom, summary="No heating", status="assigned")
    escalation = Escalation.objects.create(call=escalated, reason="complaint", raised_by=dispatcher)
    users: dict[str, User | None] = {
        "anon": None,
        "csr": csr,
        "disp": dispatcher,
        "own": tom.user,
        "other": tina.user,
        "mgr": manager,
        "team": sam,
    }
    return {
        "users": users,
        "call": call,
        "escalation": escalation,
        "tom": tom,
        "skill": skills["plumbing"],
        "customer": customer,
        "site": site,
        "newcomer": make_user("nia", None),
    }


RESOURCE_OF_PK = {
    "calls": "call",
    "customers": "customer",
    "sites": "site",
    "skills": "skill",
    "technicians": "tom",
    "escalations": "escalation",
}


def url_for(route: Route, world: dict) -> str:
    path = route.path

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name == "token":
            return world["call"].tracking_token
        if name == "escalation_id":
            return str(world["escalation"].pk)
        if name == "call_id":
            return str(world["call"].pk)
        resource = path[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        return str(world[RESOURCE_OF_PK[resource]].pk)

    url = re.sub(r"<(\w+)>", fill, path)
    if not route.suffix:
        return url
    return (url if route.keeps_slash else url.rstrip("/")) + ".json"


def body_for(route: Route, method: str, world: dict) -> dict[str, Any]:
    call = ServiceCall.objects.get(pk=world["call"].pk)
    values = {
        "version": call.version,
        "tom": world["tom"].pk,
        "call": call.pk,
        "customer": world["customer"].pk,
        "site": world["site"].pk,
        "team": world["tom"].team_id,
        "tom_user": world["tom"].user_id,
        "newcomer": world["newcomer"].pk,
    }
    body = BODIES.get((route.path, method), {})
    return {k: _fill(v, values) for k, v in body.items()}


def _fill(value: Any, values: dict[str, int]) -> Any:
    # "{version}" alone becomes the number itself; ids are numbers in the API too.
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return values[value[1:-1]]
    return value


def request_as(client: Client, route: Route, method: str, world: dict) -> int:
    url = url_for(route, world)
    body = body_for(route, method, world)
    headers = {"HX-Request": "true"} if route.path == "/board/move/" else {}
    with transaction.atomic():
        if method in ("GET", "DELETE"):
            response = client.generic(method, url, headers=headers)
        elif route.path.startswith("/api/"):
            response = getattr(client, method.lower())(
                url, body, content_type="application/json", headers=headers
            )
        else:
            response = client.post(url, body, headers=headers)
        transaction.set_rollback(True)
    return response.status_code


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# --- the checks ---------------------------------------------------------------------------------


def test_every_url_pattern_has_a_row_in_the_matrix():
    wanted = {(r.path, m) for r in all_routes() if not r.suffix for m in r.methods}
    missing = sorted(wanted - set(MATRIX))
    assert not missing, "URLs without a row in MATRIX_TEXT (add one line each):\n" + "\n".join(
        f"{path:<44} {method}" for path, method in missing
    )


def test_every_row_of_the_matrix_names_a_url_that_exists():
    wanted = {(r.path, m) for r in all_routes() if not r.suffix for m in r.methods}
    assert sorted(set(MATRIX) - wanted) == []


@pytest.mark.parametrize(
    ("route", "method"),
    all_cases(),
    ids=[f"{m} {r.path}{'.json' * r.suffix}" for r, m in all_cases()],
)
def test_each_persona_gets_the_status_in_the_matrix(world, route, method):
    expected = MATRIX.get((route.path, method))
    if expected is None:
        pytest.fail(f"no row for {route.path} {method}")
    got = {
        persona: request_as(client_for(user), route, method, world)
        for persona, user in world["users"].items()
    }
    assert got == expected, f"{method} {route.path}{'.json' * route.suffix}"


def test_the_admin_is_for_staff_only(client, world):
    staff = User.objects.create_superuser("root-admin", password=PASSWORD)
    for user in world["users"].values():
        response = client_for(user).get(ADMIN)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert client_for(staff).get(ADMIN).status_code == 200
