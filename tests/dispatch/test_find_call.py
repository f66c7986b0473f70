"""Finding a call (issue 15, story A): one matching rule for the "Find a call" page, the API's
`?search=` and the booking page's customer search; and the board's filters on the API list."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from common import clock
from customers.models import Customer, Site
from tests.conftest import DAY

pytestmark = pytest.mark.django_db

CALLS = "/api/v1/calls/"


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, morning):
    monkeypatch.setattr(clock, "now", lambda: morning)
    return morning


@pytest.fixture
def callers(make_call):
    """Three callers: the bakery (a formatted phone), a dentist, and an old closed job."""
    bakery = Customer.objects.create(
        name="Acme Bakery", contract="time_and_materials", phone="(312) 555-0162"
    )
    dentist = Customer.objects.create(
        name="Bright Smiles", contract="full_service", phone="773 555 6200"
    )
    bakery_site = Site.objects.create(customer=bakery, address="62 Oak Ave", lat=41.9, lng=-87.6)
    dentist_site = Site.objects.create(
        customer=dentist, address="9 Lake Shore Dr", lat=41.9, lng=-87.6
    )
    return {
        "bakery": make_call(customer=bakery, site=bakery_site, summary="Oven dead"),
        "dentist": make_call(customer=dentist, site=dentist_site, summary="No water"),
        "old": make_call(
            customer=bakery,
            site=bakery_site,
            status="completed",
            scheduled_day=DAY - timedelta(days=90),
        ),
    }


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {c["id"] for c in response.json()["results"]}


def test_api_search_matches_name_phone_address_and_call_number(api, dispatcher, callers):
    client = api.as_user(dispatcher)
    bakery, dentist, old = callers["bakery"], callers["dentist"], callers["old"]
    assert ids(client.get(CALLS, {"search": "acme"})) == {bakery.pk, old.pk}
    # The phone is stored "(312) 555-0162": digits match whatever separators were typed.
    assert ids(client.get(CALLS, {"search": "312-555 0162"})) == {bakery.pk, old.pk}
    assert ids(client.get(CALLS, {"search": "5550162"})) == {bakery.pk, old.pk}
    assert ids(client.get(CALLS, {"search": "lake shore"})) == {dentist.pk}
    assert ids(client.get(CALLS, {"search": f"#{dentist.pk}"})) == {dentist.pk}
    assert dentist.pk in ids(client.get(CALLS, {"search": str(dentist.pk)}))
    assert ids(client.get(CALLS, {"search": "nobody"})) == set()


def test_a_short_number_is_a_call_number_not_a_phone(api, dispatcher, callers):
    # "62" is in both phones and in the bakery's address ("62 Oak Ave"): it finds the address
    # and call #62 (whichever that is in this database), never a phone.
    found = ids(api.as_user(dispatcher).get(CALLS, {"search": "62"}))
    assert found - {62} == {callers["bakery"].pk, callers["old"].pk}
    assert ids(api.as_user(dispatcher).get(CALLS, {"search": "6200"})) == {callers["dentist"].pk}


def test_api_search_stays_inside_a_technicians_reach(api, tom, tina, callers, make_call):
    theirs = make_call(tina, customer=callers["bakery"].customer, site=callers["bakery"].site)
    found = ids(api.as_user(tom.user).get(CALLS, {"search": "acme"}))
    assert theirs.pk not in found and callers["old"].pk not in found
    assert found == {callers["bakery"].pk}  # unassigned and new: every technician may claim it


def test_api_filters_by_skill_and_reschedules(api, dispatcher, tom, make_call, skills):
    plumbing = make_call(skills=[skills["plumbing"]])
    both = make_call(skills=[skills["plumbing"], skills["hvac"]], reschedule_count=2)
    make_call(skills=[skills["electrical"]], reschedule_count=1)
    client = api.as_user(dispatcher)
    assert ids(client.get(CALLS, {"skill": "plumbing"})) == {plumbing.pk, both.pk}
    assert ids(client.get(CALLS, {"skill": "hvac,plumbing"})) == {plumbing.pk, both.pk}
    assert ids(client.get(CALLS, {"reschedules_min": 2})) == {both.pk}
    assert len(ids(client.get(CALLS, {"reschedules_min": 0}))) == 3
    assert ids(client.get(CALLS, {"skill": "plumbing", "reschedules_min": 1})) == {both.pk}


@pytest.mark.parametrize(
    "query",
    [{"skill": "welding"}, {"reschedules_min": "-1"}, {"reschedules_min": "often"}],
)
def test_bad_board_filters_are_a_400_naming_the_parameter(api, dispatcher, skills, query):
    response = api.as_user(dispatcher).get(CALLS, query)
    assert response.status_code == 400
    assert response.json()["field"] == next(iter(query))


def test_the_schema_documents_the_new_parameters(tmp_path: Path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    calls = text[text.index("  /api/v1/calls/:") : text.index("  /api/v1/calls/{id}/:")]
    for name in ("search", "skill", "reschedules_min", "risk", "priority", "status"):
        assert f"name: {name}\n" in calls, name
