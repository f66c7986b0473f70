"""Issue 19: every signed-in role read every technician's home and live location from
`GET /api/v1/technicians/{id}/` and the list. Only the technician themselves, a dispatcher of
their team and a manager see it now; everyone else gets the technician with it as null."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LOCATION = ("home_lat", "home_lng", "last_lat", "last_lng", "last_seen_at")


@pytest.fixture
def located_tom(tom, morning):
    tom.last_lat, tom.last_lng, tom.last_seen_at = 41.95, -87.7, morning
    tom.save()
    return tom


@pytest.fixture
def sam(south):
    """A dispatcher of another team."""
    user = make_user("sam", "dispatcher")
    south.staff.add(user)
    return user


def location(data: dict) -> tuple:
    return tuple(data[name] for name in LOCATION)


def read(api, user, tech) -> dict:
    response = api.as_user(user).get(f"/api/v1/technicians/{tech.pk}/")
    assert response.status_code == 200
    return response.json()


def listed(api, user, tech) -> dict:
    response = api.as_user(user).get("/api/v1/technicians/")
    assert response.status_code == 200
    return next(t for t in response.json()["results"] if t["id"] == tech.pk)


@pytest.mark.parametrize("reader", ["self", "dispatcher", "manager"])
@pytest.mark.parametrize("how", [read, listed])
def test_the_technician_their_teams_dispatcher_and_a_manager_see_the_location(
    api, located_tom, dispatcher, manager, reader, how
):
    user = {"self": located_tom.user, "dispatcher": dispatcher, "manager": manager}[reader]
    data = how(api, user, located_tom)
    assert location(data)[:4] == (41.88, -87.63, 41.95, -87.7)
    assert data["last_seen_at"] is not None


@pytest.mark.parametrize("reader", ["csr", "teammate", "other_team_dispatcher"])
@pytest.mark.parametrize("how", [read, listed])
def test_everyone_else_gets_the_technician_without_the_location(
    api, located_tom, csr, tina, sam, reader, how
):
    user = {"csr": csr, "teammate": tina.user, "other_team_dispatcher": sam}[reader]
    data = how(api, user, located_tom)
    assert location(data) == (None,) * 5
    assert (data["id"], data["name"], data["team_name"]) == (located_tom.pk, "Tom", "North")


def test_a_status_report_answers_with_the_location_only_to_those_who_may_see_it(
    api, tom, sam, dispatcher
):
    url = f"/api/v1/technicians/{tom.pk}/status/"
    own = api.as_user(tom.user).post(url, {"lat": 41.9, "lng": -87.6}, format="json")
    assert (own.json()["last_lat"], own.json()["last_lng"]) == (41.9, -87.6)
    # A dispatcher of another team may set a status (the matrix allows it) but not see where.
    other = api.as_user(sam).post(url, {"status": "en_route"}, format="json")
    assert other.status_code == 200 and other.json()["last_lat"] is None


def test_the_schema_says_the_location_may_be_null_when_read(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(out))
    schemas = yaml.safe_load(out.read_text())["components"]["schemas"]
    for name in LOCATION:
        read_as = schemas["Technician"]["properties"][name]
        assert read_as.get("nullable") is True, name
        assert "dispatcher of their team" in read_as["description"]
    # Written by a manager, the home base stays required and not null.
    written = schemas["TechnicianRequest"]
    assert {"home_lat", "home_lng"} <= set(written["required"])
    assert not written["properties"]["home_lat"].get("nullable")
