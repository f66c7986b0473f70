"""The call page's Edit and Cancel: the API's services behind plain forms; a refusal keeps what
was typed, says why and saves nothing."""

from __future__ import annotations

import pytest

from dispatch.models import CallEvent, ServiceCall
from tests.conftest import local

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nine(clock_at):
    clock_at(local(9))


def edit(client, call, **changes):
    body = {
        "summary": call.summary,
        "description": call.description,
        "priority": call.priority,
        "duration_minutes": call.duration_minutes,
        "expected_version": ServiceCall.objects.get(pk=call.pk).version,
    }
    return client.post(f"/calls/{call.pk}/edit/", body | changes)


def test_the_office_edits_a_call_from_its_page(client, dispatcher, tom, make_call):
    call = make_call(tom)
    client.force_login(dispatcher)
    page = client.get(f"/calls/{call.pk}/").content.decode()
    assert 'id="call-edit"' in page and 'id="call-cancel"' in page
    response = edit(client, call, summary="Leak under the sink", priority="high")
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.summary, call.priority, call.version) == ("Leak under the sink", "high", 2)
    event = call.events.get(kind="edited")
    assert event.payload["before"]["summary"] == "No hot water"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"summary": ""}, "Summary: This field is required."),
        ({"summary": "x" * 10_000}, "at most 200 characters"),
        ({"duration_minutes": "soon"}, "Duration minutes: Enter a whole number."),
        ({"duration_minutes": "2000"}, "Duration minutes"),
        ({"priority": "whenever"}, "Priority: Select a valid choice."),
    ],
)
def test_bad_input_is_refused_in_words_keeps_what_was_typed_and_saves_nothing(
    client, dispatcher, make_call, changes, words
):
    call = make_call(description="Basement, behind the boiler")
    client.force_login(dispatcher)
    response = edit(client, call, description="Typed <b>note</b>", **changes)
    page = response.content.decode()
    assert response.status_code == 400
    assert words in page and 'id="call-edit-error"' in page
    assert "Typed &lt;b&gt;note&lt;/b&gt;" in page  # kept, and escaped
    assert ServiceCall.objects.get(pk=call.pk).version == call.version
    assert not CallEvent.objects.filter(call=call, kind="edited").exists()


def test_a_stale_edit_is_a_conflict_that_keeps_the_typing(client, dispatcher, make_call):
    call = make_call()
    ServiceCall.objects.filter(pk=call.pk).update(version=7)
    client.force_login(dispatcher)
    response = edit(client, call, summary="Mine", expected_version=1)
    assert response.status_code == 409
    assert 'value="Mine"' in response.content.decode()
    assert ServiceCall.objects.get(pk=call.pk).summary == "No hot water"


def test_cancelling_needs_a_reason_and_tells_the_technician_on_the_way(
    client, dispatcher, tom, make_call
):
    call = make_call(tom, status="en_route", en_route_at=local(8, 50))
    client.force_login(dispatcher)
    empty = client.post(f"/calls/{call.pk}/cancel/", {"reason": " ", "expected_version": 1})
    assert empty.status_code == 400 and "Reason: This field is required." in empty.content.decode()
    assert ServiceCall.objects.get(pk=call.pk).status == "en_route"
    done = client.post(
        f"/calls/{call.pk}/cancel/", {"reason": "Customer fixed it", "expected_version": 1}
    )
    assert done.status_code == 302
    assert ServiceCall.objects.get(pk=call.pk).status == "cancelled"
    told = call.events.get(kind="tech_notified")
    assert told.payload["technician"] == tom.pk and "Customer fixed it" in told.payload["message"]
    after = client.get(f"/calls/{call.pk}/").content.decode()
    assert 'id="call-cancel"' not in after  # a closed call offers neither form


def test_a_technician_neither_sees_nor_uses_the_forms(client, tom, make_call):
    call = make_call(tom)
    client.force_login(tom.user)
    assert 'id="call-edit"' not in client.get(f"/calls/{call.pk}/").content.decode()
    assert edit(client, call, summary="Mine").status_code == 403
    assert ServiceCall.objects.get(pk=call.pk).summary == "No hot water"
