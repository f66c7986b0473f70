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
    team   sam, a dispatcher of team South (teams do not limit office staff: docs/design.md)

Methods: for API views, every method the view implements; for function views GET and POST
(a GET-only page answers POST with 405, which the table records). A write needs a valid body in
routes.BODIES (keyed like the table) so that a status says who may, not what was malformed.

Objects: `<pk>` / `<call_id>` is tom's assigned call (or, by the path's resource, its customer,
site, a skill, tom himself), `<escalation_id>` an open escalation on that call, `<token>` its
tracking token (the escalation is on tom's second call), `<offer_id>` (and `handoffs/<pk>`) an
open hand-off offer from tom to tina on his third call, so `own` is its maker and `other` the
teammate it was offered to. A claim (`/claim/`) names an unassigned call instead, which either
technician may take; a swap trades tom's call with a waiting call of tina's. Each request runs
in a savepoint that is rolled back, so personas never see each other's changes. Format-suffix
routes (`calls.json`) must answer GET like their base route.

`/board/events/` (the board's stream) answers 204 here: the test client is not an ASGI server,
and under WSGI the stream is off (tests/dispatch/test_board_events.py checks the stream and its
door over real HTTP from uvicorn).

Statuses: 2xx allowed; 302 a redirect (anonymous HTML to the login page; an HTML form post back to
its page, with the outcome in a message); 401/403 not allowed; 404 outside the user's reach (its
existence is not revealed); 405 method not offered; 400 past the gate but refused by a rule.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.conftest import PASSWORD
from tests.security.routes import ADMIN, all_cases, all_routes, client_for, request_as

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
/rota/                                       GET     302  403  403  403  403  200  403
/rota/                                       POST    302  403  403  403  403  302  403
/rota/<shift_id>/remove/                     GET     302  405  405  405  405  405  405
/rota/<shift_id>/remove/                     POST    302  403  403  403  403  302  403
/reports/concessions/                        GET     302  403  200  403  403  200  200
/reports/concessions/                        POST    302  405  405  405  405  405  405
/                                            GET     302  302  302  302  302  302  302
/                                            POST    302  302  302  302  302  302  302
/board/                                      GET     302  200  200  200  200  200  200
/board/                                      POST    302  405  405  405  405  405  405
/board/columns/                              GET     302  200  200  200  200  200  200
/board/columns/                              POST    302  405  405  405  405  405  405
/board/events/                               GET     302  204  204  204  204  204  204
/board/events/                               POST    302  405  405  405  405  405  405
/board/map/                                  GET     302  200  200  403  403  200  200
/board/map/                                  POST    302  405  405  405  405  405  405
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
/api/v1/calls/<pk>/rescue/                   GET     403  200  200  403  404  200  200
/api/v1/calls/<pk>/send-now/                 GET     403  200  200  403  404  200  200
/api/v1/calls/<pk>/swap/                     POST    403  200  200  404  404  200  200
/api/v1/bookings/                            POST    403  201  201  403  403  201  201
/api/v1/bookings/offers/                     POST    403  200  200  403  403  200  200
/api/v1/bookings/turned-away/                POST    403  201  201  403  403  201  201
/api/v1/capacity/                            GET     403  200  200  403  403  200  200
/api/v1/plans/                               POST    403  403  201  403  403  201  201
/api/v1/plans/<pk>/                          GET     403  403  200  403  403  200  200
/api/v1/plans/<pk>/apply/                    POST    403  403  200  403  403  200  200
/board/plan/                                 GET     302  403  200  403  403  200  200
/board/plan/                                 POST    302  403  302  403  403  302  302
/board/plan/<plan_id>/                       GET     302  403  200  403  403  200  200
/board/plan/<plan_id>/                       POST    302  403  200  403  403  200  200
/board/plan/<plan_id>/apply/                 GET     302  405  405  405  405  405  405
/board/plan/<plan_id>/apply/                 POST    302  403  302  403  403  302  302
/board/plan/<plan_id>/discard/               GET     302  405  405  405  405  405  405
/board/plan/<plan_id>/discard/               POST    302  403  302  403  403  302  302
/api/v1/calls/<pk>/status/                   POST    403  403  200  200  404  200  200
/api/v1/calls/<pk>/claim/                    POST    403  403  403  200  200  403  403
/api/v1/calls/<pk>/handoff/                  POST    403  403  403  201  404  403  403
/api/v1/handoffs/                            GET     403  200  200  200  200  200  200
/api/v1/handoffs/<pk>/accept/                POST    403  404  404  404  200  404  404
/api/v1/handoffs/<pk>/decline/               POST    403  404  404  404  200  404  404
/api/v1/handoffs/<pk>/withdraw/              POST    403  404  404  200  404  404  404
/api/v1/calls/<pk>/messages/                 GET     403  200  200  403  404  200  200
/api/v1/calls/<pk>/asks/                     GET     403  200  200  200  404  200  200
/api/v1/calls/<pk>/asks/                     POST    403  403  400  403  404  400  400
/api/v1/asks/                                GET     403  200  200  200  200  200  200
/api/v1/asks/<pk>/answer/                    POST    403  403  403  200  404  403  403
/me/asks/<ask_id>/answer/                    GET     302  405  405  405  405  405  405
/me/asks/<ask_id>/answer/                    POST    302  403  403  302  404  403  403
/board/ask/                                  GET     302  405  405  405  405  405  405
/calls/<call_id>/edit/                       GET     302  405  405  405  405  405  405
/calls/<call_id>/edit/                       POST    302  302  302  403  404  302  302
/calls/<call_id>/cancel/                     GET     302  405  405  405  405  405  405
/calls/<call_id>/cancel/                     POST    302  302  302  403  404  302  302
/board/ask/                                  POST    302  403  400  403  404  400  400
/me/                                         GET     302  403  403  200  200  403  403
/me/                                         POST    302  405  405  405  405  405  405
/me/version/                                 GET     302  403  403  200  200  403  403
/me/version/                                 POST    302  405  405  405  405  405  405
/me/location/                                GET     302  405  405  405  405  405  405
/me/location/                                POST    302  403  403  302  302  403  403
/me/calls/<call_id>/status/                  GET     302  405  405  405  405  405  405
/me/calls/<call_id>/status/                  POST    302  403  302  302  404  302  302
/me/calls/<call_id>/move/                    GET     302  405  405  405  405  405  405
/me/calls/<call_id>/move/                    POST    302  403  403  302  404  403  403
/me/calls/<call_id>/claim/                   GET     302  405  405  405  405  405  405
/me/calls/<call_id>/claim/                   POST    302  403  403  302  302  403  403
/me/calls/<call_id>/handoff/                 GET     302  403  403  200  404  403  403
/me/calls/<call_id>/handoff/                 POST    302  405  405  405  405  405  405
/me/calls/<call_id>/handoff/offer/           GET     302  405  405  405  405  405  405
/me/calls/<call_id>/handoff/offer/           POST    302  403  403  302  404  403  403
/me/offers/<offer_id>/accept/                GET     302  405  405  405  405  405  405
/me/offers/<offer_id>/accept/                POST    302  403  403  404  302  403  403
/me/offers/<offer_id>/decline/               GET     302  405  405  405  405  405  405
/me/offers/<offer_id>/decline/               POST    302  403  403  404  302  403  403
/me/offers/<offer_id>/withdraw/              GET     302  405  405  405  405  405  405
/me/offers/<offer_id>/withdraw/              POST    302  403  403  302  404  403  403
/book/                                       GET     302  200  200  403  403  200  200
/book/                                       POST    302  200  200  403  403  200  200
/calls/find/                                 GET     302  200  200  403  403  200  200
/calls/find/                                 POST    302  405  405  405  405  405  405
/calls/<call_id>/suggest/                    GET     302  200  200  200  404  200  200
/calls/<call_id>/suggest/                    POST    302  405  405  405  405  405  405
/board/swap/                                 GET     302  405  405  405  405  405  405
/board/swap/                                 POST    302  200  200  404  404  200  200
/board/week/move/                            GET     302  405  405  405  405  405  405
/board/week/move/                            POST    302  200  200  403  404  200  200
"""


def _parse(text: str) -> dict[tuple[str, str], dict[str, int]]:
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for line in text.strip().splitlines():
        route, method, *statuses = line.split()
        assert (route, method) not in rows, f"two rows for {route} {method}"
        rows[route, method] = dict(zip(PERSONAS, map(int, statuses), strict=True))
    return rows


MATRIX = _parse(MATRIX_TEXT)

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


@pytest.mark.parametrize(
    "path", ["/api/v1/bookings/", "/api/v1/bookings/offers/", "/api/v1/bookings/turned-away/"]
)
def test_a_technician_is_refused_booking_before_the_body_is_read(world, path):
    # The body's checks (400) answered a technician before the role check did, and they look the
    # site up among all sites, so the answer differed for a site id that exists.
    client = client_for(world["users"]["own"])
    for site in (world["site"].pk, 987_654):
        response = client.post(path, {"site": site}, content_type="application/json")
        assert response.status_code == 403, (path, site, response.content)
