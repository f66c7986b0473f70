"""Nothing of one technician's work reaches another technician, on any list or page.

Tom's call has a customer and a site of its own, so a leak of any of them (the call, its
summary, its customer's name, the address) shows up as a recognisable string or id in what tina
is served. Office staff see the same things, which proves the strings would be found.
"""

from __future__ import annotations

import pytest

from common import clock
from customers.models import Customer, Site
from tests.conftest import DAY

pytestmark = pytest.mark.django_db

SECRET_SUMMARY = "Quartz-boiler job for tom only"
SECRET_CUSTOMER = "Zephyr Secretive Widgets"
SECRET_ADDRESS = "99 Hidden Lane"

API_LISTS = ["/api/v1/calls/", "/api/v1/customers/", "/api/v1/sites/"]
PAGES = [
    f"/board/?day={DAY.isoformat()}",
    f"/board/?day={DAY.isoformat()}&team=all",
    f"/board/columns/?day={DAY.isoformat()}",
]


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, morning):
    monkeypatch.setattr(clock, "now", lambda: morning)


@pytest.fixture
def toms_call(tom, make_call):
    customer = Customer.objects.create(name=SECRET_CUSTOMER, contract="full_service")
    site = Site.objects.create(customer=customer, address=SECRET_ADDRESS, lat=41.9, lng=-87.6)
    return make_call(tom, summary=SECRET_SUMMARY, customer=customer, site=site)


@pytest.fixture
def tinas_call(tina, make_call):
    return make_call(tina, summary="Tina's own fuse box")


def served(client, url: str) -> str:
    response = client.get(url, {"page_size": 500} if url.startswith("/api/") else None)
    assert response.status_code == 200, url
    return response.content.decode()


def leaks(text: str, call, url: str = "") -> list[str]:
    found = [s for s in (SECRET_SUMMARY, SECRET_CUSTOMER, SECRET_ADDRESS) if s in text]
    # By id too: on a board the card's DOM id, in the calls list the JSON id.
    if f'id="call-{call.pk}"' in text or (
        url.startswith("/api/v1/calls/") and f'"id":{call.pk},' in text.replace(" ", "")
    ):
        found.append(f"call #{call.pk}")
    return found


@pytest.mark.parametrize("url", API_LISTS + PAGES)
def test_another_technician_is_served_nothing_of_toms_call(
    client, tina, toms_call, tinas_call, url
):
    client.force_login(tina.user)
    text = served(client, url)
    assert leaks(text, toms_call, url) == []


@pytest.mark.parametrize("url", API_LISTS + PAGES)
def test_office_staff_are_served_toms_call_so_the_check_can_see_a_leak(
    client, dispatcher, toms_call, url
):
    client.force_login(dispatcher)
    assert leaks(served(client, url), toms_call, url) != []


def test_tom_sees_his_own_call_where_tina_does_not(client, tom, toms_call):
    client.force_login(tom.user)
    for url in ["/api/v1/calls/", f"/board/?day={DAY.isoformat()}"]:
        assert SECRET_SUMMARY in served(client, url)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/calls/{pk}/",
        "/api/v1/calls/{pk}/events/",
        "/api/v1/calls/{pk}/candidates/",
        "/calls/{pk}/",
        "/calls/{pk}/move/",
    ],
)
def test_another_technician_asking_for_toms_call_by_id_is_told_it_does_not_exist(
    client, tina, toms_call, url
):
    client.force_login(tina.user)
    response = client.get(url.format(pk=toms_call.pk))
    assert response.status_code == 404
    assert leaks(response.content.decode(), toms_call) == []
