"""The board's map page: every open call of the day and each technician's route in queue order,
positions only for those allowed to see them, and a policy that admits only the tile host."""

from __future__ import annotations

import re

import pytest

from config.csp import STRICT_POLICY
from dispatch.services.moves import call_move
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


def test_each_call_offers_suggest_and_the_timeline_focused_on_it(
    client, dispatcher, tom, make_call
):
    call = make_call(tom, summary='<b onclick="x()">Boiler</b>', risk="at_risk")
    loose = make_call(summary="Leak")
    client.force_login(dispatcher)
    html = client.get(MAP).content.decode()
    for pk in (call.pk, loose.pk):
        timeline = f"/board/?day={DAY.isoformat()}&amp;team=all&amp;focus={pk}#call-{pk}"
        assert f'data-timeline-url="{timeline}"' in html
        assert f'<a href="{timeline}">Timeline</a>' in html  # the same link without JavaScript
        assert f'data-suggest-url="/calls/{pk}/suggest/"' in html
    assert 'data-summary="&lt;b onclick=&quot;x()&quot;&gt;Boiler&lt;/b&gt;"' in html
    assert '<b onclick="x()">' not in html
    assert 'data-risk-words="At risk"' in html
    assert 'id="map-panel"' in html


def _map_poll(team="all") -> str:
    return f"/board/columns/?view=map&day={DAY.isoformat()}&team={team}"


def test_the_map_polls_the_boards_fingerprint_and_gets_its_lists_when_it_changes(
    client, dispatcher, tom, tina, make_call
):
    call = make_call(tom, summary="Boiler")
    client.force_login(dispatcher)
    page = client.get(MAP).content.decode()
    version = re.search(r'id="map"[^>]*data-version="([^"]+)"', page).group(1)
    assert f'data-poll-url="{_map_poll()}"'.replace("&", "&amp;") in page
    # The page's version is the board's: the poll answers 304 to it.
    assert client.get(_map_poll(), HTTP_IF_NONE_MATCH=f'"{version}"').status_code == 304
    board = client.get(f"/board/columns/?view=timeline&day={DAY.isoformat()}&team=all")
    assert board["ETag"] == f'"{version}"'  # one fingerprint for the boards and the map
    call_move(
        user=dispatcher,
        call_id=call.pk,
        technician_id=tina.pk,
        position=0,
        expected_version=call.version,
        now=local(7, 30),
    )
    response = client.get(_map_poll(), HTTP_IF_NONE_MATCH=f'"{version}"')
    assert response.status_code == 200 and response["ETag"] != f'"{version}"'
    html = response.content.decode()
    assert 'id="map-techs"' in html and "<html" not in html
    assert re.search(rf'data-call="{call.pk}" data-tech="{tina.pk}"', html)
    assert client.get(_map_poll(), HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_the_map_poll_is_for_office_staff(client, tom, make_call):
    make_call(tom)
    client.force_login(tom.user)
    response = client.get(_map_poll(tom.team_id))
    assert response.status_code == 403


def test_the_list_beside_the_map_says_what_the_board_says_not_on_time_for_everything(
    client, dispatcher, tom, make_call
):
    """Issue 15: the map called an unassigned call and one with no deadline "On time", where the
    board says "Unassigned" and "No deadline" (dispatch/pages/risk_words.standing_label)."""
    loose = make_call(summary="Leak", deadline=local(12))
    open_ended = make_call(tom, summary="Boiler", deadline=None)
    timed = make_call(tom, summary="Radiator", deadline=local(16))
    client.force_login(dispatcher)
    html = client.get(MAP).content.decode()

    def item(call) -> str:
        start = html.index(f'data-call="{call.pk}"')
        return html[start : html.index("</li>", start)]

    assert 'data-risk-words="Unassigned"' in item(loose)
    assert "standing-unassigned" in item(loose) and ">On time<" not in item(loose)
    assert 'data-risk-words="No deadline"' in item(open_ended)
    assert ">No deadline</span>" in item(open_ended) and "On time" not in item(open_ended)
    assert 'data-risk-words="On time"' in item(timed)
