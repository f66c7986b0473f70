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


# --- the "Find a call" page, the header box, the booking page ------------------------------------


def test_find_page_lists_open_and_recent_calls_with_links(client, csr, callers, make_call):
    recent = make_call(
        customer=callers["bakery"].customer,
        site=callers["bakery"].site,
        status="completed",
        scheduled_day=DAY - timedelta(days=3),
    )
    client.force_login(csr)
    response = client.get("/calls/find/", {"q": "(312) 555-0162"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/calls/{callers["bakery"].pk}/"' in html
    assert f'href="/calls/{recent.pk}/"' in html
    # Closed 90 days ago: not "recent", so not listed; the dentist never matched.
    assert f'href="/calls/{callers["old"].pk}/"' not in html
    assert f'href="/calls/{callers["dentist"].pk}/"' not in html
    # Open first, then the recently closed.
    assert html.index(f"found-{callers['bakery'].pk}") < html.index(f"found-{recent.pk}")


def test_find_page_by_call_number_and_no_match(client, dispatcher, callers):
    client.force_login(dispatcher)
    html = client.get("/calls/find/", {"q": f"#{callers['dentist'].pk}"}).content.decode()
    assert f'href="/calls/{callers["dentist"].pk}/"' in html
    html = client.get("/calls/find/", {"q": "<b>zzz</b>"}).content.decode()
    assert "No call matches" in html
    assert "<b>zzz</b>" not in html and "&lt;b&gt;zzz&lt;/b&gt;" in html  # escaped


def test_find_page_is_for_the_office_only(client, tom):
    client.force_login(tom.user)
    assert client.get("/calls/find/", {"q": "acme"}).status_code == 403


@pytest.mark.parametrize("persona", ["csr", "dispatcher", "manager"])
def test_every_office_page_header_has_the_search_box(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    html = client.get("/board/").content.decode()
    assert 'action="/calls/find/"' in html and 'name="q"' in html


def test_a_csrs_menu_links_only_to_pages_a_csr_may_open(client, csr):
    client.force_login(csr)
    html = client.get("/board/").content.decode()
    assert 'href="/dashboard/"' not in html  # dashboards are a dispatcher's and a manager's
    for link in ("/book/", "/escalations/", "/board/"):
        assert f'href="{link}"' in html
        assert client.get(link).status_code == 200


def test_a_technicians_menu_has_no_office_links_or_search(client, tom):
    client.force_login(tom.user)
    html = client.get("/me/").content.decode()
    assert 'href="/me/"' in html
    for office in ("/api/docs/", "/book/", "/dashboard/", "/escalations/", "/calls/find/"):
        assert office not in html, office


def test_booking_customer_search_matches_phone_and_address(client, csr, callers):
    client.force_login(csr)
    bakery, dentist = callers["bakery"].customer, callers["dentist"].customer
    by_phone = client.get("/book/", {"q": "312.555.0162"}).content.decode()
    assert f"?customer={bakery.pk}&" in by_phone and f"?customer={dentist.pk}&" not in by_phone
    by_address = client.get("/book/", {"q": "lake shore"}).content.decode()
    assert f"?customer={dentist.pk}&" in by_address and f"?customer={bakery.pk}&" not in by_address


# --- the board's filters, capacity shown honestly, "Live" only with JavaScript --------------------


def test_board_filters_hide_the_cards_they_leave_out(client, dispatcher, tom, make_call, skills):
    plumbing = make_call(tom, skills=[skills["plumbing"]], reschedule_count=2)
    hvac = make_call(tom, skills=[skills["hvac"]], priority="high")
    client.force_login(dispatcher)
    columns = {"day": DAY.isoformat(), "view": "columns"}
    html = client.get("/board/", {**columns, "skill": "plumbing"}).content.decode()
    assert f'id="call-{plumbing.pk}" data-call="{plumbing.pk}"' in html
    card = html[html.index(f'id="call-{hvac.pk}"') :]
    assert card[: card.index(">")].endswith(" hidden")  # still in Tom's queue, unseen
    # Booked minutes stay the whole queue's, whatever is filtered.
    assert "120 / 540 min booked" in html
    # The poll fetches filtered columns too.
    assert "skill=plumbing" in html[html.index("data-columns-url") :][:200]
    for query, shown in [
        ({"priority": "high"}, hvac),
        ({"reschedules_min": "1"}, plumbing),
        ({"status": "assigned", "risk": "ok,late", "skill": "hvac"}, hvac),
    ]:
        html = client.get("/board/", {**columns, **query}).content.decode()
        other = plumbing if shown == hvac else hvac
        tag = html[html.index(f'id="call-{other.pk}"') :]
        assert tag[: tag.index(">")].endswith(" hidden"), query
        tag = html[html.index(f'id="call-{shown.pk}"') :]
        assert not tag[: tag.index(">")].endswith(" hidden"), query


def test_bad_board_filters_do_not_break_the_board(client, dispatcher, make_call):
    make_call()
    client.force_login(dispatcher)
    query = {"risk": "doomed", "reschedules_min": "-3", "priority": "<x>"}
    assert client.get("/board/", query).status_code == 200


def test_the_columns_poll_is_filtered_like_the_page(client, dispatcher, tom, make_call, skills):
    hvac = make_call(tom, skills=[skills["hvac"]])
    client.force_login(dispatcher)
    html = client.get(
        "/board/columns/", {"day": DAY.isoformat(), "team": tom.team_id, "skill": "plumbing"}
    ).content.decode()
    tag = html[html.index(f'id="call-{hvac.pk}"') :]
    assert tag[: tag.index(">")].endswith(" hidden")


def test_an_overbooked_column_reads_as_over(client, dispatcher, tom, make_call):
    make_call(tom, duration_minutes=600)
    client.force_login(dispatcher)
    html = client.get("/board/", {"day": DAY.isoformat(), "view": "columns"}).content.decode()
    assert '<span class="over">600 / 540 min booked: over by 60 min</span>' in html


def test_an_overbooked_capacity_meter_is_not_a_full_green_bar():
    from dispatch.selectors.capacity import SkillCapacity

    over = SkillCapacity(
        "", "All work", available_minutes=90, booked_minutes=1470, reserve_minutes=9
    )
    assert over.over_minutes == 1380
    # The meter's value reaches past `high` (the capacity): the browser draws it red, not green.
    assert over.meter_max == 1470 and over.meter_high == 81
    fits = SkillCapacity("", "All work", available_minutes=90, booked_minutes=30, reserve_minutes=9)
    assert (fits.over_minutes, fits.meter_max) == (0, 90)


def test_live_is_hidden_until_the_script_shows_it(client, dispatcher):
    client.force_login(dispatcher)
    html = client.get("/board/").content.decode()
    assert 'id="live-status" aria-live="polite" hidden>Live<' in html
