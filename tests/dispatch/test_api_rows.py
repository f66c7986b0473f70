"""The calls list is served from rows (selectors.call_rows + call_rows_data) and must say
exactly what CallSerializer says for the same calls: same keys, order and values."""

from __future__ import annotations

import json

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory, force_authenticate

from dispatch import selectors
from dispatch.api.calls import CallSerializer
from dispatch.models import ServiceCall
from tests.conftest import DAY, local

CALLS = "/api/v1/calls/"


@pytest.fixture
def varied_calls(make_call, tom, tina, skills, customer):
    customer.name = "O'Brien & <Sons>"
    customer.save()
    return [
        make_call(summary="waiting, due soon", deadline=local(9, 20), priority="emergency"),
        make_call(summary="waiting, no deadline", description='gate code 12 "back"'),
        make_call(summary="waiting, late", deadline=local(8, 0), window_start=local(7, 0)),
        make_call(
            tom,
            summary="queued",
            skills=[skills["plumbing"], skills["hvac"]],
            window_start=local(10, 0),
            deadline=local(12, 0),
            eta=local(10, 5),
            planned_start=local(10, 5),
            planned_finish=local(11, 5),
            slack_minutes=54.9,
            risk="at_risk",
            overtime=True,
            eta_computed_at=local(9, 0),
            promised_eta=local(10, 30),
            reschedule_count=3,
        ),
        make_call(tom, summary="on site", status="on_site", risk="", slack_minutes=-12.5),
        make_call(tina, summary="done", status="completed", actual_minutes=47, position=None),
        make_call(summary="tomorrow", scheduled_day=DAY.replace(day=DAY.day + 1)),
    ]


def _expected(user, params: dict) -> list[dict]:
    # The serializer as the list used to run it: model instances from the same door.
    request = APIRequestFactory().get(CALLS, params)
    force_authenticate(request, user=user)
    drf_request = Request(request)
    drf_request.user = user
    calls = selectors.calls_visible_to(user).order_by(*ServiceCall._meta.ordering)
    data = CallSerializer(calls, many=True, context={"request": drf_request}).data
    return json.loads(json.dumps(data))


@pytest.mark.parametrize("who", ["dispatcher", "csr", "manager"])
def test_calls_list_rows_match_the_call_serializer(api, clock_at, varied_calls, who, request):
    clock_at(local(9))
    user = request.getfixturevalue(who)
    response = api.as_user(user).get(CALLS, {"page_size": 200})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(varied_calls)
    expected = _expected(user, {"page_size": 200})
    assert body["results"] == expected
    # Key order too: clients diff responses and the schema lists fields in this order.
    assert [list(r) for r in body["results"]] == [list(r) for r in expected]
    assert any("tracking_url" in r for r in body["results"])


def test_calls_list_rows_keep_filters_and_pages(api, clock_at, dispatcher, tom, varied_calls):
    clock_at(local(9))
    client = api.as_user(dispatcher)
    mine = client.get(CALLS, {"technician": tom.pk}).json()["results"]
    assert {c["summary"] for c in mine} == {"queued", "on site"}
    first = client.get(CALLS, {"page_size": 3}).json()
    second = client.get(CALLS, {"page_size": 3, "page": 2}).json()
    expected = _expected(dispatcher, {})
    assert first["results"] + second["results"] == expected[:6]
    assert first["next"] and first["count"] == len(varied_calls)


@pytest.mark.parametrize("base", ["https://dispatch.example.com", "http://127.0.0.1:8000"])
def test_tracking_link_reversed_once_is_the_same_link(settings, base):
    """The list reverses the tracking URL once per page; every token must still get exactly
    the link that messages and pages give (any token new_tracking_token can make)."""
    from dispatch.models import new_tracking_token

    settings.PUBLIC_BASE_URL = base
    link = selectors.tracking_url_maker()
    tokens = [new_tracking_token() for _ in range(200)] + ["-_Az09", "a" * 22]
    assert [link(t) for t in tokens] == [selectors.tracking_url(t) for t in tokens]
