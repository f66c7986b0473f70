"""The board's map page: every open call of the day and each technician's route in queue order,
positions only for those allowed to see them, and a policy that admits only the tile host."""

from __future__ import annotations

import re

import pytest

from config.csp import STRICT_POLICY
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db

MAP = f"/board/map/?day={DAY.isoformat()}&team=all"


@pytest.fixture(autouse=True)
def _morning(clock_at):
    clock_at(local(7, 30))


def test_the_map_lists_every_call_and_each_route_in_order(client, dispatcher, tom, make_call):
    second = make_call(tom, summary="Radiator", position=1)
    first = make_call(tom, summary="Boiler", position=0)
    loose = make_call(summary="Leak")
    tom.last_lat, tom.last_lng = 41.91, -87.66
    tom.save()
    client.force_login(dispatcher)
    html = client.get(MAP).content.decode()
    route = re.findall(r'class="map-call risk-\w+" data-call="(\d+)" data-tech', html)
    assert route == [str(first.pk), str(second.pk)]
    assert f'class="map-call unassigned" data-call="{loose.pk}"' in html
    assert 'data-lat="41.910000" data-lng="-87.660000"' in html  # the last known position
    assert "3 calls" in html


def test_a_csr_sees_the_calls_but_no_technician_position(client, csr, tom, make_call):
    make_call(tom)
    tom.last_lat, tom.last_lng = 41.91, -87.66
    tom.save()
    client.force_login(csr)
    html = client.get(MAP).content.decode()
    assert "position not shown" in html and "41.91" not in html and "41.88" not in html


def test_a_technician_is_refused(client, tom):
    client.force_login(tom.user)
    assert client.get(MAP).status_code == 403


def test_the_policy_admits_the_tile_host_only_on_the_map(client, dispatcher, settings):
    settings.MAP_TILE_URL = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    client.force_login(dispatcher)
    response = client.get(MAP)
    assert (
        "img-src 'self' data: https://*.tiles.example.org;" in response["Content-Security-Policy"]
    )
    assert (
        'data-tile-url="https://{s}.tiles.example.org/{z}/{x}/{y}.png"' in response.content.decode()
    )
    assert client.get(f"/board/?day={DAY}")["Content-Security-Policy"] == STRICT_POLICY


def test_without_a_tile_url_the_policy_stays_strict_and_no_tiles_load(client, dispatcher, settings):
    settings.MAP_TILE_URL = ""
    client.force_login(dispatcher)
    response = client.get(MAP)
    assert response["Content-Security-Policy"] == STRICT_POLICY
    assert 'data-tile-url=""' in response.content.decode()


def test_a_technician_on_the_way_reads_en_route_in_words(client, dispatcher, tom, make_call):
    make_call(tom)
    tom.status = "en_route"
    tom.save()
    client.force_login(dispatcher)
    html = client.get(MAP).content.decode()
    assert '<span class="muted">en route' in html and ">en_route" not in html
