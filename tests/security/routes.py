"""The URL resolver as a list of routes, and how to call each one with a valid body.

Shared by the permission matrix and the CSRF check (tests/security/), so both cover every URL
the day it is added. See test_permission_matrix.py for what the names mean.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from dispatch.models import ServiceCall
from tests.conftest import DAY

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
    # Suggest / rescue: tom's call and tina's waiting call trade places.
    ("/board/swap/", "POST"): {
        "call": "{call}",
        "other": "{theirs}",
        "expected_version": "{version}",
        "other_expected_version": "{theirs_version}",
    },
    ("/api/v1/calls/<pk>/swap/", "POST"): {
        "other": "{theirs}",
        "expected_version": "{version}",
        "other_expected_version": "{theirs_version}",
    },
    # The technician's day: `{version}` is the version of the call the URL names.
    ("/api/v1/calls/<pk>/status/", "POST"): {"status": "en_route", "expected_version": "{version}"},
    ("/api/v1/calls/<pk>/claim/", "POST"): {"expected_version": "{version}"},
    ("/api/v1/calls/<pk>/handoff/", "POST"): {
        "technician": "{tina}",
        "expected_version": "{version}",
    },
    ("/me/location/", "POST"): {"lat": 41.9, "lng": -87.6},
    ("/me/calls/<call_id>/status/", "POST"): {
        "status": "en_route",
        "expected_version": "{version}",
    },
    ("/me/calls/<call_id>/move/", "POST"): {"direction": "down", "expected_version": "{version}"},
    ("/me/calls/<call_id>/claim/", "POST"): {"expected_version": "{version}"},
    ("/me/calls/<call_id>/handoff/offer/", "POST"): {
        "technician": "{tina}",
        "expected_version": "{version}",
    },
    ("/me/offers/<offer_id>/decline/", "POST"): {"note": "Full today"},
    ("/api/v1/handoffs/<pk>/decline/", "POST"): {"note": "Full today"},
    # Asking the technician first: the named call (tom's, waiting) is not under way, so an
    # office user past the gate is refused by the rule (400); the ask `<pk>` is answered.
    ("/api/v1/calls/<pk>/asks/", "POST"): {"expected_version": "{version}"},
    ("/api/v1/asks/<pk>/answer/", "POST"): {"answer": "hand_over"},
    ("/me/asks/<ask_id>/answer/", "POST"): {"answer": "yes"},
    ("/board/ask/", "POST"): {"call": "{call}", "expected_version": "{version}"},
    ("/calls/<call_id>/edit/", "POST"): {
        "summary": "Leaking boiler, basement",
        "priority": "normal",
        "duration_minutes": 60,
        "expected_version": "{version}",
    },
    ("/calls/<call_id>/cancel/", "POST"): {
        "reason": "Customer fixed it",
        "expected_version": "{version}",
    },
    # The week view's move to another day: tom's call to the day after DAY, his queue there.
    ("/board/week/move/", "POST"): {
        "call": "{call}",
        "to_day": (DAY + timedelta(days=1)).isoformat(),
        "technician": "{tom}",
        "expected_version": "{version}",
        "days": "week",
    },
    # Booking: a window of the CSR's own with an override reason (no offer needed), asking for
    # windows, a turned-away caller.
    ("/book/", "POST"): {
        "action": "offers",
        "customer": "{customer}",
        "site": "{site}",
        "duration_minutes": 60,
    },
    ("/api/v1/bookings/", "POST"): {
        "customer": "{customer}",
        "site": "{site}",
        "summary": "Dripping tap",
        "duration_minutes": 60,
        "window_start": f"{DAY.isoformat()}T13:00:00-05:00",
        "window_end": f"{DAY.isoformat()}T15:00:00-05:00",
        "override_reason": "Customer can only do the afternoon",
    },
    ("/api/v1/bookings/offers/", "POST"): {"site": "{site}", "duration_minutes": 60},
    # Plan the day: a one-second plan of tom's team's day; the world's plan changes nothing.
    ("/api/v1/plans/", "POST"): {"day": DAY.isoformat(), "team": "{team}", "seconds": 1},
    ("/board/plan/", "POST"): {"day": DAY.isoformat(), "team": "{team}", "seconds": 1},
    # The on-call rota: tina on call tonight (tom already is, on the span `<shift_id>` names).
    ("/rota/", "POST"): {
        "technician": "{tina}",
        "starts_at": f"{DAY.isoformat()}T17:00",
        "ends_at": f"{(DAY + timedelta(days=1)).isoformat()}T08:00",
        "note": "covers the night",
    },
    ("/api/v1/bookings/turned-away/", "POST"): {
        "reason": "no_capacity",
        "customer": "{customer}",
        "note": "Full week",
    },
}

# A claim names an unassigned call (any technician's to take); every other call URL names tom's.
UNASSIGNED_CALL_ROUTES = ("/me/calls/<call_id>/claim/", "/api/v1/calls/<pk>/claim/")


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
        # (DRF adds "head" to this dict on first use; HEAD and OPTIONS only ever read.)
        return tuple(m.upper() for m in callback.actions if m in DRF_METHODS)
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


RESOURCE_OF_PK = {
    "calls": "call",
    "customers": "customer",
    "sites": "site",
    "skills": "skill",
    "technicians": "tom",
    "escalations": "escalation",
    "handoffs": "offer",
    "asks": "ask",
    "plans": "plan",
    "rota": "on_call",
}


def url_for(route: Route, world: dict) -> str:
    path = route.path

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name == "token":
            return world["call"].tracking_token
        if name == "escalation_id":
            return str(world["escalation"].pk)
        if name == "ask_id":
            return str(world["ask"].pk)
        if name == "offer_id":
            return str(world["offer"].pk)
        if name == "plan_id":
            return str(world["plan"].pk)
        if name in ("call_id", "pk") and path in UNASSIGNED_CALL_ROUTES:
            return str(world["unassigned"].pk)
        if name == "call_id":
            return str(world["call"].pk)
        resource = path[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        return str(world[RESOURCE_OF_PK[resource]].pk)

    url = re.sub(r"<(\w+)>", fill, path)
    if not route.suffix:
        return url
    return (url if route.keeps_slash else url.rstrip("/")) + ".json"


def body_for(route: Route, method: str, world: dict) -> dict[str, Any]:
    named = world["unassigned"] if route.path in UNASSIGNED_CALL_ROUTES else world["call"]
    call = ServiceCall.objects.get(pk=world["call"].pk)
    theirs = ServiceCall.objects.get(pk=world["theirs"].pk)
    values = {
        "version": ServiceCall.objects.get(pk=named.pk).version,
        "theirs": theirs.pk,
        "theirs_version": theirs.version,
        "tina": world["tina"].pk,
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
    # The board's move and a suggestion's swap are htmx posts: the status says the outcome.
    htmx = ("/board/move/", "/board/swap/", "/board/ask/", "/board/week/move/")
    headers = {"HX-Request": "true"} if route.path in htmx else {}
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
