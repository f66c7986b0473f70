"""Geocoding: the Nominatim-compatible service against a local fake server, and the offline
Chicago street list it falls back on (customers/geocoding/)."""

from __future__ import annotations

import pytest

from common.errors import InvalidInput
from customers.geocoding import geocode, offline, pick_coordinates
from customers.geocoding.nominatim import search_url
from customers.geocoding.streets import STREETS
from tests.customers.fake_nominatim import FakeNominatim


@pytest.fixture
def nominatim(settings):
    with FakeNominatim() as fake:
        settings.GEOCODER_URL = fake.url
        settings.GEOCODER_USER_AGENT = "dispatch-tests/1 (test@example.com)"
        settings.GEOCODER_TIMEOUT_SECONDS = 0.5
        yield fake


def test_the_service_is_asked_in_its_own_protocol_and_its_places_come_back(nominatim):
    lookup = geocode("1200 N Halsted St")
    assert lookup.notice == ""
    [match] = lookup.matches
    assert match.source == "service" and (match.lat, match.lng) == (41.9035473, -87.6484539)
    assert match.label.startswith("1200, North Halsted Street")
    [request] = nominatim.requests
    assert request["path"] == "/search"
    assert request["query"]["q"] == "1200 N Halsted St"
    assert request["query"]["format"] == "jsonv2" and request["query"]["limit"] == "5"
    assert request["headers"]["User-Agent"] == "dispatch-tests/1 (test@example.com)"


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("slow", "no answer within 0.5 s"),
        ("error", "it answered HTTP 500"),
        ("garbage", "its answer was not JSON"),
        ("wrong", "its answer was not a list of places"),
    ],
)
def test_a_failing_service_falls_back_to_the_street_list_and_says_why(nominatim, mode, reason):
    nominatim.mode = mode
    lookup = geocode("1200 N Halsted St")
    nominatim.release.set()
    assert len(nominatim.requests) == 1
    assert reason in lookup.notice and "offline street list" in lookup.notice
    [match] = lookup.matches
    assert match.source == "offline" and match.label == "1200 N Halsted St, Chicago, IL"


def test_a_service_that_cannot_be_reached_falls_back_too(settings):
    with FakeNominatim() as fake:
        url = fake.url
    settings.GEOCODER_URL = url  # the server is gone: connection refused
    lookup = geocode("1200 N Halsted St")
    assert "could not be reached" in lookup.notice and lookup.matches[0].source == "offline"


def test_nothing_from_the_service_is_asked_of_the_street_list(nominatim):
    lookup = geocode("4600 N Lincoln Ave")
    assert len(nominatim.requests) == 1 and lookup.notice == ""
    assert [m.label for m in lookup.matches] == ["4600 N Lincoln Ave, Chicago, IL"]


def test_only_http_and_https_service_urls_are_opened(settings):
    settings.GEOCODER_URL = "file:///etc/passwd"
    lookup = geocode("1200 N Halsted St")
    assert "not an http:// or https:// address" in lookup.notice
    assert lookup.matches[0].source == "offline"
    assert search_url("https://geo.example/nominatim/", "a b", 3) == (
        "https://geo.example/nominatim/search?q=a+b&format=jsonv2&limit=3&addressdetails=0"
    )
    assert search_url("http://geo.example/search", "x", 1).startswith("http://geo.example/search?")


def test_without_a_service_the_street_list_answers_quietly(settings):
    settings.GEOCODER_URL = ""
    lookup = geocode("  1200   n halsted street, Chicago, IL 60642 ")
    assert lookup.notice == "" and lookup.text == "1200 n halsted street, Chicago, IL 60642"
    [match] = lookup.matches
    # Goose Island, a block from where the city's own map puts 1200 N Halsted.
    assert abs(match.lat - 41.9035) < 0.002 and abs(match.lng - (-87.6485)) < 0.003


def test_the_street_list_places_numbers_along_the_street():
    north, south = offline.search("1200 Halsted")  # no direction: both sides of Madison
    assert north.label.startswith("1200 N") and south.label.startswith("1200 S")
    assert north.lng == south.lng and north.lat > 41.88195 > south.lat
    # 800 numbers to the mile: 1600 N is twice as far north of Madison as 800 N.
    [at_800], [at_1600] = offline.search("800 N Halsted St"), offline.search("1600 N Halsted")
    assert at_1600.lat - 41.88195 == pytest.approx(2 * (at_800.lat - 41.88195), abs=1e-5)
    [wrigley] = offline.search("1060 W Addison St")  # the ballpark, on a grid street
    assert abs(wrigley.lat - 41.9484) < 0.003 and abs(wrigley.lng - (-87.6553)) < 0.003
    [on_clark] = offline.search("3600 N Clark St")  # a diagonal, between its points
    assert on_clark.lat == wrigley.lat and abs(on_clark.lng - wrigley.lng) < 0.001


@pytest.mark.parametrize(
    "text",
    ["99999 N Halsted St", "1200 W Halsted St", "12 Nowhere Lane", "Halsted St", "N Halsted"],
)
def test_what_is_not_an_address_on_the_list_matches_nothing(text):
    assert offline.search(text) == []


def test_the_list_covers_the_city_and_every_street_the_demo_uses():
    from dispatch.demo.reference import REGIONS

    assert len(STREETS) >= 100
    axis = {"N": "ns", "S": "ns", "E": "ew", "W": "ew"}
    by_name = {street.name: street for street in STREETS}
    for region in REGIONS:
        for written in region.streets:
            direction, name = written.split(" ", 1)
            street = by_name[name]
            assert street.axis == axis[direction], written
            low, high = street.numbers
            number = (high if direction in "NE" else -low) // 2
            [match] = offline.search(f"{number} {written}")
            assert match.label == f"{number} {written}, Chicago, IL"


@pytest.mark.parametrize("text", ["", "   ", "x" * 301, "12 Elm\x00 St"])
def test_empty_or_oversized_text_is_refused_with_a_message(text, settings):
    settings.GEOCODER_URL = ""
    with pytest.raises(InvalidInput) as caught:
        geocode(text)
    assert caught.value.field == "address"


def test_a_picked_match_reads_back_as_coordinates():
    assert pick_coordinates("41.903673,-87.647217") == (41.903673, -87.647217)
    for bad in ("", "41.9", "x,y", "91,0", "0,181", "nan,1"):
        assert pick_coordinates(bad) is None, bad
