"""The booking page's addresses (type, "Find address", pick a match) and turn-aways recorded
from the first step of a call; bad input on both keeps what was typed and saves nothing."""

from __future__ import annotations

import html
import re

import pytest

from customers.models import Customer, Site
from dispatch.models import CallCategory, ServiceCall, TurnedAwayCall
from tests.conftest import local
from tests.customers.fake_nominatim import FakeNominatim

pytestmark = pytest.mark.django_db
URL = "/book/"
HALSTED = "41.903673,-87.647217"  # 1200 N Halsted St on the offline street list


@pytest.fixture(autouse=True)
def _morning(clock_at, settings):
    clock_at(local(7, 30))
    settings.GEOCODER_URL = ""


@pytest.fixture
def leak(skills):
    category = CallCategory.objects.create(code="leak", name="Leak", default_duration_minutes=60)
    category.skills.set([skills["plumbing"]])
    return category


@pytest.fixture
def new_caller(north, leak) -> dict:
    return {
        "customer_name": "Jo Park",
        "contract": "time_and_materials",
        "phone": "312 555 0199",
        "address": "1200 N Halsted St",
        "summary": "Drip",
        "category": leak.pk,
        "team": north.pk,
    }


def picks(page: str) -> list[str]:
    return re.findall(r'name="geo_pick" value="([^"]*)"', page)


def nothing_saved() -> bool:
    return not (
        Customer.objects.exists()
        or Site.objects.exists()
        or ServiceCall.objects.exists()
        or TurnedAwayCall.objects.exists()
    )


def test_a_new_customer_is_booked_by_address_alone(csr, tom, new_caller, client):
    client.force_login(csr)
    page = client.post(URL, new_caller | {"action": "geocode"}).content.decode()
    assert "1200 N Halsted St, Chicago, IL" in page and "offline street list" in page
    assert picks(page) == [HALSTED, ""]
    picked = new_caller | {"geo_pick": HALSTED}
    offers = client.post(URL, picked | {"action": "offers"})
    assert offers.status_code == 200
    page = offers.content.decode()
    assert 'name="lat" value="41.903673"' in page and 'name="lng" value="-87.647217"' in page
    offer = re.search(r'name="offer" value="([^"]+)"', page).group(1)
    response = client.post(
        URL, picked | {"action": "book", "offer": offer, "assign_to": "dispatcher"}
    )
    assert response.status_code == 302
    site = ServiceCall.objects.get().site
    assert (site.address, site.lat, site.lng) == ("1200 N Halsted St", 41.903673, -87.647217)


def test_typed_coordinates_stay_possible_beside_the_matches(csr, tom, new_caller, client):
    client.force_login(csr)
    typed = new_caller | {"lat": "41.95", "lng": "-87.7", "geo_pick": ""}
    page = client.post(URL, typed | {"action": "offers"}).content.decode()
    offer = re.search(r'name="offer" value="([^"]+)"', page).group(1)
    client.post(URL, typed | {"action": "book", "offer": offer, "assign_to": "dispatcher"})
    site = Site.objects.get()
    assert (site.lat, site.lng) == (41.95, -87.7)


def test_the_service_answers_first_and_its_failure_is_said_on_the_page(
    csr, new_caller, client, settings
):
    client.force_login(csr)
    with FakeNominatim() as fake:
        settings.GEOCODER_URL = fake.url
        settings.GEOCODER_TIMEOUT_SECONDS = 0.5
        page = client.post(URL, new_caller | {"action": "geocode"}).content.decode()
        assert "North Halsted Street, Goose Island" in page
        assert picks(page) == ["41.903547,-87.648454", ""]
        assert 'id="geocoder-notice"' not in page
        fake.mode = "error"
        page = client.post(URL, new_caller | {"action": "geocode"}).content.decode()
    assert "could not be used (it answered HTTP 500)" in page and 'id="geocoder-notice"' in page
    assert picks(page) == [HALSTED, ""]
    assert nothing_saved()


def test_a_place_name_from_the_service_is_shown_as_text(csr, new_caller, client, settings):
    client.force_login(csr)
    with FakeNominatim() as fake:
        settings.GEOCODER_URL = fake.url
        page = client.post(URL, new_caller | {"address": "1 evil", "action": "geocode"})
    text = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Evil St" in text
    assert "<script>alert" not in text


@pytest.mark.parametrize(
    ("address", "status", "message"),
    [
        ("", 400, "Type the address first"),
        ("12 Nowhere Lane", 200, "No address matches “12 Nowhere Lane”"),
        ("9" * 10_240, 400, "Address: Ensure this value has at most 300 characters"),
    ],
)
def test_bad_addresses_get_a_message_keep_the_text_and_save_nothing(
    csr, new_caller, client, address, status, message
):
    client.force_login(csr)
    response = client.post(URL, new_caller | {"address": address, "action": "geocode"})
    page = html.unescape(response.content.decode())
    assert response.status_code == status and message in page
    assert f'value="{address}"' in page or not address
    assert 'value="Jo Park"' in page and picks(page) == []
    assert nothing_saved()


def test_a_nul_in_the_address_is_refused_before_anything_is_read(csr, new_caller, client):
    client.force_login(csr)
    response = client.post(URL, new_caller | {"address": "1200 N\x00 Halsted", "action": "geocode"})
    assert response.status_code == 400 and "NUL character" in response.content.decode()
    assert nothing_saved()


def test_a_forged_pick_is_refused_with_what_was_typed_kept(csr, new_caller, client):
    client.force_login(csr)
    response = client.post(URL, new_caller | {"geo_pick": "91,0", "action": "offers"})
    page = response.content.decode()
    assert response.status_code == 400 and "Find address" in page and 'value="Jo Park"' in page
    assert nothing_saved()


def test_a_turn_away_is_offered_and_recorded_before_any_window_is_found(
    csr, north, tom, leak, client
):
    client.force_login(csr)
    page = client.get(URL).content.decode()
    assert 'id="turn-away-button"' in page and 'id="offers"' not in page
    first_step = {
        "customer_name": "Sam Lee",
        "summary": "Boiler out",
        "category": leak.pk,
        "team": north.pk,
        "turn_away_reason": "out_of_area",
        "turn_away_note": "Lives in Gary",
        "action": "turn_away",
    }
    response = client.post(URL, first_step)
    assert response.status_code == 302
    row = TurnedAwayCall.objects.get()
    assert (row.caller_name, row.reason, row.note, row.windows_offered, row.recorded_by) == (
        "Sam Lee",
        "out_of_area",
        "Lives in Gary",
        0,
        csr,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"turn_away_reason": ""}, "Choose why the call was turned away"),
        ({"customer_name": ""}, "Give the caller's name"),
        ({"turn_away_note": "n" * 10_240}, "Turn away note: Ensure this value has at most 2000"),
        ({"turn_away_reason": "other", "turn_away_note": "  "}, "Say why in the note"),
    ],
)
def test_a_bad_turn_away_keeps_what_was_typed_and_records_nothing(
    csr, north, leak, client, change, message
):
    client.force_login(csr)
    data = {
        "customer_name": "Sam Lee",
        "summary": "Boiler out",
        "team": north.pk,
        "turn_away_reason": "no_capacity",
        "action": "turn_away",
    } | change
    response = client.post(URL, data)
    page = html.unescape(response.content.decode())
    assert response.status_code == 400 and message in page
    assert 'value="Boiler out"' in page
    assert not TurnedAwayCall.objects.exists()
