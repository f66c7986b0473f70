"""Issue 19: a NUL character in a form field, a query string or a path answered 500 (PostgreSQL
cannot hold one), and a JSON body nested 1,000 deep answered an HTML 500 on every JSON endpoint.
Each is now a 400 with a message a person can act on: HTML for pages, JSON for the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from dispatch.models import CallEvent, Escalation
from technicians.models import HandoffOffer
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NUL = "bad\x00text"


def client_for(user=None, **headers) -> Client:
    client = Client(raise_request_exception=False, **headers)
    if user is not None:
        client.force_login(user)
    return client


def assert_page_400(response, *words: str) -> None:
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "NUL character" in text
    for word in words:
        assert word in text


@pytest.fixture
def calls(tom, make_call, dispatcher):
    call = make_call(tom, status="assigned")
    escalation = Escalation.objects.create(
        call=make_call(tom, status="assigned"), reason="complaint", raised_by=dispatcher
    )
    return {"call": call, "escalation": escalation}


FORMS = {
    # name: (who posts, the URL, the form, the field holding the NUL)
    "escalation note": (
        "dispatcher",
        "/calls/{call}/escalate/",
        {"reason": "complaint", "note": NUL},
        "note",
    ),
    "move reason": (
        "dispatcher",
        "/board/move/",
        {"call": "{call}", "technician": "{tina}", "position": 0, "reason": NUL},
        "reason",
    ),
    "can't-complete reason": (
        "tom",
        "/me/calls/{call}/status/",
        {"status": "cant_complete", "expected_version": 1, "reason": NUL},
        "reason",
    ),
    "hand-off note": (
        "tom",
        "/me/calls/{call}/handoff/offer/",
        {"technician": "{tina}", "expected_version": 1, "note": NUL},
        "note",
    ),
    "resolution": (
        "manager",
        "/escalations/{escalation}/resolve/",
        {"strategy": "apologise", "resolution": NUL, "customer_message": "Sorry"},
        "resolution",
    ),
    "customer message": (
        "manager",
        "/escalations/{escalation}/resolve/",
        {"strategy": "apologise", "resolution": "Done", "customer_message": NUL},
        "customer_message",
    ),
}


@pytest.mark.parametrize("name", FORMS)
def test_a_nul_in_any_page_form_field_is_a_400_naming_the_field_and_saves_nothing(
    calls, tom, tina, dispatcher, manager, name
):
    who, url, form, field = FORMS[name]
    user = {"dispatcher": dispatcher, "tom": tom.user, "manager": manager}[who]
    ids = {"call": calls["call"].pk, "escalation": calls["escalation"].pk, "tina": tina.pk}
    form = {k: v.format(**ids) if isinstance(v, str) and "{" in v else v for k, v in form.items()}
    before = (CallEvent.objects.count(), HandoffOffer.objects.count())
    response = client_for(user).post(url.format(**ids), form)
    assert_page_400(response, f"“{field}”")
    assert (CallEvent.objects.count(), HandoffOffer.objects.count()) == before
    assert Escalation.objects.get().status == "open"


def test_an_htmx_post_gets_a_fragment_to_swap_in(calls, dispatcher):
    call = calls["call"]
    response = client_for(dispatcher, HTTP_HX_REQUEST="true").post(
        f"/calls/{call.pk}/escalate/", {"reason": "complaint", "note": NUL}
    )
    assert response.status_code == 400
    assert response.content.decode().startswith('<p class="notice error" role="alert">')


def test_a_nul_in_a_query_string_is_a_400(csr):
    response = client_for(csr).get("/book/?q=%00")
    assert_page_400(response, "“q”")


def test_a_nul_in_a_path_is_a_400_without_signing_in():
    response = client_for().get("/track/abc%00/")
    assert_page_400(response, "Check the link")


def test_under_the_api_a_nul_in_the_address_answers_json(dispatcher):
    client = client_for(dispatcher)
    for url in ("/api/v1/calls/?status=%00", "/api/v1/calls/1%00/"):
        response = client.get(url)
        assert response.status_code == 400
        assert "NUL character" in response.json()["detail"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1000, 100])
def test_deeply_nested_json_is_a_json_400_on_every_json_endpoint(calls, dispatcher, manager, depth):
    esc = calls["escalation"]
    signed_in = {
        "/api/v1/calls/": dispatcher,
        f"/api/v1/calls/{calls['call'].pk}/move/": dispatcher,
        f"/api/v1/escalations/{esc.pk}/resolve/": manager,
        "/api/v1/auth/token/": None,
    }
    for url, user in signed_in.items():
        response = client_for(user).post(url, nested(depth), content_type="application/json")
        assert response.status_code == 400, url
        assert response["Content-Type"] == "application/json"
        assert "nested too deeply" in response.json()["detail"], url


def test_ordinary_json_still_works_on_the_token_endpoint(dispatcher):
    body = json.dumps({"username": "dana", "password": PASSWORD})
    response = client_for().post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 200 and response.json()["token"]
