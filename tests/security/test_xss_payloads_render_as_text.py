"""Markup typed into any free-text field comes back as text on every page and fragment.

Each field gets its own payload (tagged with the field's name) carrying a <script>, an attribute
break-out with an `onerror` handler, injected `hx-get` / `hx-on` attributes (htmx would act on
them) and template syntax. The data goes in through the API and the services, as people type it.
Then every page that shows it is fetched and parsed: no payload appears raw, no element carries an
on* handler or an injected hx-* attribute, no script runs inline, and the escaped payloads are
there as text (so each page really showed the fields). The concessions CSV is checked for
formula injection, the CSV form of the same attack.
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest
from django.db.models import F
from django.utils.html import escape

from customers.models import Customer, Site
from dispatch.models import CallCategory, Escalation, ServiceCall
from dispatch.services.etas import etas_refresh_day
from technicians.models import Team
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db

CORE = """<script>x()</script>"><img src=x onerror=x()>' hx-get="/xss" hx-on:click="x()" {{7*7}}"""


def payload(field: str) -> str:
    return f"{field}:{CORE}"


FIELDS = [
    "summary", "description", "customer", "site_label", "site_address", "technician", "team",
    "move_reason", "cancel_reason", "escalation_note", "resolution", "customer_message",
    "category", "override_reason", "turned_away_note", "turned_away_caller", "handoff_note",
    "decline_note", "cant_complete_reason",
]  # fmt: skip


class Markup(HTMLParser):
    """Collects what a browser would act on: tags, their attributes and inline script text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script" and not dict(attrs).get("src")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def assert_inert(html: str, url: str) -> None:
    for field in FIELDS:
        assert payload(field) not in html, f"{url}: {field} rendered raw"
    markup = Markup()
    markup.feed(html)
    for tag, attrs in markup.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{url}: <{tag} {name}=...>"
            assert not name.startswith("hx-on"), f"{url}: <{tag} {name}=...>"
            assert value != "/xss", f"{url}: <{tag} {name}={value}>"
        assert not (tag == "img" and attrs.get("src") == "x"), f"{url}: injected <img>"
    assert markup.inline_scripts == [], f"{url}: inline script"


def shown(html: str) -> set[str]:
    return {field for field in FIELDS if escape(payload(field)) in html}


@pytest.fixture
def world(api, manager, dispatcher, tom, tina, north, clock_at, morning):
    clock_at(morning)
    Team.objects.filter(pk=north.pk).update(name=payload("team")[:100])
    client = api.as_user(manager)

    def ok(response, status=200):
        assert response.status_code == status, response.json()
        return response.json()

    ok(
        client.patch(
            f"/api/v1/technicians/{tom.pk}/", {"name": payload("technician")}, format="json"
        )
    )
    customer = ok(
        client.post(
            "/api/v1/customers/",
            {"name": payload("customer"), "contract": "time_and_materials"},
            format="json",
        ),
        201,
    )
    site = ok(
        client.post(
            "/api/v1/sites/",
            {
                "customer": customer["id"],
                "label": payload("site_label"),
                "address": payload("site_address"),
                "lat": 41.89,
                "lng": -87.62,
            },
            format="json",
        ),
        201,
    )

    def book(summary: str) -> dict:
        body = {
            "customer": customer["id"],
            "site": site["id"],
            "summary": summary,
            "description": payload("description"),
            "duration_minutes": 60,
            "scheduled_day": DAY.isoformat(),
        }
        return ok(client.post("/api/v1/calls/", body, format="json"), 201)

    main = book(payload("summary"))
    moved = ok(
        client.post(
            f"/api/v1/calls/{main['id']}/move/",
            {
                "technician": tom.pk,
                "position": 0,
                "expected_version": main["version"],
                "reason": payload("move_reason"),
            },
            format="json",
        )
    )
    escalation = ok(
        client.post(
            f"/api/v1/calls/{main['id']}/escalate/",
            {"reason": "complaint", "note": payload("escalation_note")},
            format="json",
        ),
        201,
    )
    ok(
        client.post(
            f"/api/v1/escalations/{escalation['id']}/resolve/",
            {
                "strategy": "accept",
                "resolution": payload("resolution"),
                "customer_message": payload("customer_message"),
                "concession_labor_hours": "1.00",
                # Accept gives the new time (issue 15): the window we now promise.
                "reschedule": {
                    "window_start": local(13).isoformat(),
                    "deadline": local(15).isoformat(),
                },
            },
            format="json",
        )
    )
    second = book(payload("summary"))
    open_escalation = ok(
        client.post(
            f"/api/v1/calls/{second['id']}/escalate/",
            {"reason": "complaint", "note": payload("escalation_note")},
            format="json",
        ),
        201,
    )
    cancelled = book(payload("summary"))
    ok(
        client.post(
            f"/api/v1/calls/{cancelled['id']}/cancel/",
            {"reason": payload("cancel_reason")},
            format="json",
        )
    )
    technicians_day = _technicians_day(api, client, ok, book, tom=tom, tina=tina, manager=manager)
    booked = _booking_desk(client, ok, customer=customer, site=site)
    return {
        **technicians_day,
        "booked": ServiceCall.objects.get(pk=booked["id"]),
        "main": ServiceCall.objects.get(pk=moved["id"]),
        "cancelled": ServiceCall.objects.get(pk=cancelled["id"]),
        "resolved": Escalation.objects.get(pk=escalation["id"]),
        "open": Escalation.objects.get(pk=open_escalation["id"]),
        "customer": Customer.objects.get(pk=customer["id"]),
        "site": Site.objects.get(pk=site["id"]),
    }


def _technicians_day(api, client, ok, book, *, tom, tina, manager) -> dict:
    """Issue 6's free text, typed by the technicians: a hand-off note (tom offers a call to
    tina), a decline note (tina says no to another) and a can't-complete reason."""

    def queued(position: int) -> dict:
        call = book(payload("summary"))
        body = {"technician": tom.pk, "position": position, "expected_version": call["version"]}
        return ok(client.post(f"/api/v1/calls/{call['id']}/move/", body, format="json"))

    offered, declined, given_back = queued(1), queued(2), queued(3)
    tech = api.as_user(tom.user)
    for call in (offered, declined):
        ok(
            tech.post(
                f"/api/v1/calls/{call['id']}/handoff/",
                {
                    "technician": tina.pk,
                    "expected_version": call["version"],
                    "note": payload("handoff_note"),
                },
                format="json",
            ),  # fmt: skip
            201,
        )
    ok(
        tech.post(
            f"/api/v1/calls/{given_back['id']}/status/",
            {
                "status": "cant_complete",
                "expected_version": given_back["version"],
                "reason": payload("cant_complete_reason"),
            },
            format="json",
        )  # fmt: skip
    )
    offer = ok(api.as_user(tina.user).get(f"/api/v1/handoffs/?call={declined['id']}"))
    ok(
        api.post(
            f"/api/v1/handoffs/{offer['results'][0]['id']}/decline/",
            {"note": payload("decline_note")},
            format="json",
        )
    )
    api.as_user(manager)
    return {
        "offered": ServiceCall.objects.get(pk=offered["id"]),
        "declined": ServiceCall.objects.get(pk=declined["id"]),
        "given_back": ServiceCall.objects.get(pk=given_back["id"]),
    }


def _booking_desk(client, ok, *, customer: dict, site: dict) -> dict:
    """Issue 8A's free text: a category's name, a booking's override reason, a turned-away
    caller's name and the note about them."""
    CallCategory.objects.create(code="xss", name=payload("category"), default_duration_minutes=45)
    day = DAY.isoformat()
    ok(
        client.post(
            "/api/v1/bookings/turned-away/",
            {
                "reason": "other",
                "note": payload("turned_away_note"),
                "caller_name": payload("turned_away_caller"),
            },
            format="json",
        ),  # fmt: skip
        201,
    )
    return ok(
        client.post(
            "/api/v1/bookings/",
            {
                "customer": customer["id"],
                "site": site["id"],
                "summary": payload("summary"),
                "duration_minutes": 60,
                "window_start": f"{day}T13:00:00-05:00",
                "window_end": f"{day}T15:00:00-05:00",
                "override_reason": payload("override_reason"),
            },
            format="json",
        ),  # fmt: skip
        201,
    )


ALL_THREE = {"summary", "customer", "technician"}
PAGES = [
    # (url, who looks, fields the page must show as text)
    ("/board/?day={day}&team=all", "dispatcher", {"summary", "customer", "technician"}),
    ("/board/columns/?day={day}&team=all", "dispatcher", {"summary", "customer", "technician"}),
    ("/board/?day={day}&team=all&view=columns", "dispatcher", ALL_THREE),
    ("/board/columns/?day={day}&team=all&view=timeline", "dispatcher", ALL_THREE),
    ("/board/map/?day={day}&team=all", "dispatcher", {"summary", "technician"}),
    ("/board/?day={day}", "tom", {"summary", "customer", "technician"}),
    ("/calls/{main}/", "dispatcher", {"summary", "description", "site_address", "move_reason"}),
    ("/calls/{main}/", "tom", {"summary", "description", "customer", "site_address"}),
    ("/calls/{cancelled}/", "dispatcher", {"summary", "cancel_reason"}),
    ("/calls/{main}/move/", "dispatcher", {"summary", "technician"}),
    ("/escalations/", "manager", {"summary", "customer"}),
    ("/escalations/{open}/", "manager", {"summary", "escalation_note"}),
    ("/escalations/{resolved}/", "manager", {"summary", "resolution", "customer_message"}),
    ("/dashboard/", "manager", {"technician"}),
    ("/reports/concessions/?from={day}&to={day}", "manager", {"summary", "customer"}),
    ("/track/{token}/", None, {"summary", "customer"}),
    ("/calls/{main}/suggest/", "dispatcher", {"summary", "technician"}),
    ("/me/", "tom", {"summary", "customer", "site_address", "technician", "decline_note"}),
    ("/me/", "tina", {"summary", "customer", "technician", "handoff_note"}),
    ("/me/calls/{offered}/handoff/", "tom", {"summary", "customer"}),
    ("/calls/{given_back}/", "dispatcher", {"summary", "cant_complete_reason"}),
    ("/calls/{booked}/", "dispatcher", {"summary", "customer"}),
    ("/book/", "csr", {"category", "team"}),
    ("/book/?customer={customer}", "csr", {"category", "customer", "site_label", "site_address"}),
]  # fmt: skip


def page_url(template: str, world: dict) -> str:
    return template.format(
        day=DAY.isoformat(),
        main=world["main"].pk,
        cancelled=world["cancelled"].pk,
        open=world["open"].pk,
        resolved=world["resolved"].pk,
        token=world["main"].tracking_token,
        offered=world["offered"].pk,
        given_back=world["given_back"].pk,
        booked=world["booked"].pk,
        customer=world["customer"].pk,
    )


@pytest.mark.parametrize(
    ("template", "who", "fields"), PAGES, ids=[f"{p[0]} as {p[1]}" for p in PAGES]
)
def test_free_text_renders_as_text_on_the_page(request, client, world, template, who, fields):
    if who is not None:
        persona = request.getfixturevalue(who)
        client.force_login(getattr(persona, "user", persona))
    url = page_url(template, world)
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert_inert(html, url)
    assert fields <= shown(html), f"{url}: expected {sorted(fields - shown(html))} as text"


def test_a_moved_cards_fragment_renders_free_text_as_text(client, dispatcher, tom, world):
    client.force_login(dispatcher)
    call = world["main"]
    response = client.post(
        "/board/move/",
        {"call": call.pk, "technician": tom.pk, "position": 0, "expected_version": call.version,
         "day": DAY.isoformat(), "team": "all", "confirm": "1"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert_inert(html, "/board/move/")
    assert {"summary", "customer"} <= shown(html)


def test_the_concessions_csv_neutralises_formulas_and_keeps_text(client, manager, world):
    Customer.objects.filter(pk=world["customer"].pk).update(name='=HYPERLINK("http://x","y")')
    client.force_login(manager)
    response = client.get(f"/reports/concessions/?from={DAY}&to={DAY}&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, row = rows[0], rows[1]
    assert row[header.index("customer")] == '\'=HYPERLINK("http://x","y")'
    assert row[header.index("summary")] == payload("summary")  # plain text in a CSV cell


def test_the_api_returns_free_text_unchanged_as_json(api, dispatcher, world):
    body = api.as_user(dispatcher).get(f"/api/v1/calls/{world['main'].pk}/").json()
    assert body["summary"] == payload("summary")
    assert body["customer_name"] == payload("customer")


def test_the_move_panel_fragment_renders_free_text_as_text(client, dispatcher, world):
    client.force_login(dispatcher)
    url = f"/calls/{world['main'].pk}/move/"
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert_inert(html, url)
    assert {"summary", "technician"} <= shown(html)


def test_the_suggest_panel_fragment_renders_free_text_as_text(client, dispatcher, world):
    client.force_login(dispatcher)
    url = f"/calls/{world['main'].pk}/suggest/"
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html, "expected the panel fragment"
    assert_inert(html, url)
    assert {"summary", "technician"} <= shown(html)


def test_the_ripple_panel_renders_free_text_as_text(client, dispatcher, tom, make_call, world):
    # A long call put in front of a call with an early deadline makes it late: the panel lists
    # both calls by summary before anything is written.
    booked = make_call(tom, position=0, summary=payload("summary"), deadline=local(9, 15))
    ServiceCall.objects.filter(technician=tom).exclude(pk=booked.pk).update(
        position=F("position") + 1
    )
    big = make_call(summary=payload("summary"), duration_minutes=180)
    etas_refresh_day(day=DAY, now=local(7, 30))
    client.force_login(dispatcher)
    response = client.post(
        "/board/move/",
        {"call": big.pk, "technician": tom.pk, "position": 0, "expected_version": big.version,
         "day": DAY.isoformat(), "team": "all"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="confirm-panel"' in html, "the move should have asked first"
    assert_inert(html, "/board/move/ (ripple panel)")
    assert html.count(escape(payload("summary"))) >= 2
    assert not ServiceCall.objects.filter(pk=big.pk, technician=tom).exists()
