"""Escalating a call through the API, by role, and the escalation queue."""

from __future__ import annotations

import pytest

from dispatch.models import Escalation

pytestmark = pytest.mark.django_db


def escalate(client, call, reason="complaint", note="Customer is furious"):
    return client.post(
        f"/api/v1/calls/{call.pk}/escalate/", {"reason": reason, "note": note}, format="json"
    )


@pytest.mark.parametrize("who", ["csr", "dispatcher", "manager"])
def test_office_staff_escalate_any_call(api, request, who, tom, make_call):
    call = make_call(tom, priority="normal")
    response = escalate(api.as_user(request.getfixturevalue(who)), call)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reason"] == "complaint" and body["status"] == "open" and body["raised_by"]
    call.refresh_from_db()
    assert call.priority == "high"
    assert call.events.filter(kind="escalated").count() == 1


def test_a_technician_escalates_own_calls_only(api, tom, tina, make_call):
    mine, theirs, open_call = make_call(tom), make_call(tina), make_call()
    client = api.as_user(tom.user)
    assert escalate(client, mine).status_code == 201
    assert escalate(client, theirs).status_code == 404
    assert escalate(client, open_call).status_code == 403


def test_a_second_escalation_while_one_is_open_is_a_conflict(api, dispatcher, make_call):
    call = make_call()
    client = api.as_user(dispatcher)
    assert escalate(client, call).status_code == 201
    response = escalate(client, call, reason="safety")
    assert (
        response.status_code == 409
        and "already has an open escalation" in response.json()["detail"]
    )
    assert Escalation.objects.filter(call=call).count() == 1


def test_bad_reason_or_closed_call_is_a_clear_400(api, dispatcher, make_call):
    client = api.as_user(dispatcher)
    response = escalate(client, make_call(), reason="bored")
    assert response.status_code == 400 and response.json()["field"] == "reason"
    response = escalate(client, make_call(status="cancelled"))
    assert response.status_code == 400 and "nothing to escalate" in response.json()["detail"]


def test_anonymous_cannot_escalate(api, make_call):
    assert escalate(api, make_call()).status_code in (401, 403)


def test_escalation_queue_lists_safety_first_for_office_staff_only(api, dispatcher, tom, make_call):
    complaint, hazard = make_call(summary="Cold radiator"), make_call(summary="Sparks")
    client = api.as_user(dispatcher)
    escalate(client, complaint)
    escalate(client, hazard, reason="safety")
    rows = client.get("/api/v1/escalations/?status=open").json()["results"]
    assert [r["call_summary"] for r in rows] == ["Sparks", "Cold radiator"]
    assert api.as_user(tom.user).get("/api/v1/escalations/").status_code == 403
