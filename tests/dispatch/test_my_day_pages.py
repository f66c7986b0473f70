"""`/me/` and the API of the technician's day: what each persona may do, with the right status."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch.models import CallEvent, ServiceCall
from dispatch.services.etas import etas_refresh_day
from dispatch.services.handoffs import handoff_offer
from technicians.models import HandoffOffer
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db

NINE = local(9)


@pytest.fixture
def calls(tom, tina, make_call, clock_at):
    clock_at(NINE)
    toms = [make_call(tom, summary="Boiler"), make_call(tom, summary="Radiator")]
    tinas = [make_call(tina, summary="Socket")]
    etas_refresh_day(day=DAY, now=NINE)
    return {"tom": toms, "tina": tinas}


def version(call) -> int:
    return ServiceCall.objects.get(pk=call.pk).version


# --- the page -----------------------------------------------------------------------------------


def test_my_day_shows_my_queue_with_the_next_call_and_a_maps_link(
    client, tom, calls, django_assert_max_num_queries
):
    client.force_login(tom.user)
    with django_assert_max_num_queries(16):
        response = client.get("/me/")
    page = response.content.decode()
    first, second = calls["tom"]
    assert response.status_code == 200
    assert f'id="me-call-{first.pk}"' in page and f'id="me-call-{second.pk}"' in page
    assert "Socket" not in page  # Tina's call is not on Tom's page
    assert page.index("Next") < page.index(f"#{first.pk} Boiler")
    assert "https://www.google.com/maps/search/?api=1&amp;query=41.89,-87.62" in page
    assert "On my way" in page


def test_my_day_query_count_does_not_grow_with_the_queue(client, tom, make_call, skills, clock_at):
    clock_at(NINE)
    tom.skills.add(skills["plumbing"])
    # Something in every list the page shows, so each per-call lookup (customer, site, skills)
    # would have rows to repeat on: a finished call, and one waiting call Tom could claim.
    make_call(tom, summary="Done", status="completed", position=None, actual_minutes=30)
    make_call(skills=[skills["plumbing"]], summary="Waiting")
    client.force_login(tom.user)

    def queries_with_a_queue_of(size: int) -> int:
        while ServiceCall.objects.filter(technician=tom, status="assigned").count() < size:
            make_call(tom, summary="Job", skills=[skills["plumbing"]])
        etas_refresh_day(day=DAY, now=NINE)
        client.get("/me/")  # the session and the roles are read the same way every time
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/me/")
        assert response.status_code == 200
        # The bigger queue really was on the page.
        assert response.content.decode().count('id="me-call-') == size
        return len(ctx.captured_queries)

    small = queries_with_a_queue_of(2)
    large = queries_with_a_queue_of(12)
    # Equal, not merely under a bound: one query more per call would show as 10 more here.
    assert large == small <= 16


def test_my_day_escapes_what_people_typed(client, tom, make_call, clock_at):
    clock_at(NINE)
    make_call(tom, summary="<script>alert(1)</script>")
    client.force_login(tom.user)
    page = client.get("/me/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_my_day_is_for_technicians(client, dispatcher):
    client.force_login(dispatcher)
    response = client.get("/me/")
    assert response.status_code == 403 and "office staff" in response.content.decode().lower()


def test_my_day_needs_a_login(client):
    assert client.get("/me/").status_code == 302


def test_status_button_on_the_page_moves_the_call_along(client, tom, calls):
    first, _ = calls["tom"]
    client.force_login(tom.user)
    response = client.post(
        f"/me/calls/{first.pk}/status/",
        {"status": "en_route", "expected_version": first.version, "lat": "41.9", "lng": "-87.7"},
    )
    assert response.status_code == 302
    assert ServiceCall.objects.get(pk=first.pk).status == "en_route"
    tom.refresh_from_db()
    assert (tom.status, tom.last_lat) == ("en_route", 41.9)


def test_page_posts_refuse_with_the_reason_and_status(client, tom, calls):
    first, _ = calls["tom"]
    client.force_login(tom.user)
    stale = client.post(
        f"/me/calls/{first.pk}/status/", {"status": "en_route", "expected_version": 0}
    )
    assert stale.status_code == 409 and "changed while you were looking" in stale.content.decode()
    bad = client.post(
        f"/me/calls/{first.pk}/status/",
        {"status": "en_route", "expected_version": first.version, "lat": "north", "lng": "1"},
    )
    assert bad.status_code == 400 and "Latitude must be a number" in bad.content.decode()


def test_reorder_own_queue_with_the_down_button(client, tom, calls):
    first, second = calls["tom"]
    client.force_login(tom.user)
    response = client.post(
        f"/me/calls/{first.pk}/move/", {"direction": "down", "expected_version": first.version}
    )
    assert response.status_code == 302
    order = list(
        ServiceCall.objects.filter(technician=tom).order_by("position").values_list("id", flat=True)
    )
    assert order == [second.pk, first.pk]


def test_reorder_that_makes_a_call_late_asks_first(client, tom, make_call, clock_at):
    clock_at(NINE)
    tight = make_call(tom, summary="Tight", deadline=local(9, 20), duration_minutes=30)
    long = make_call(tom, summary="Long", duration_minutes=120)
    etas_refresh_day(day=DAY, now=NINE)
    client.force_login(tom.user)
    asked = client.post(
        f"/me/calls/{long.pk}/move/", {"direction": "up", "expected_version": version(long)}
    )
    assert asked.status_code == 200 and 'id="me-confirm"' in asked.content.decode()
    assert ServiceCall.objects.get(pk=tight.pk).position == 0  # nothing moved yet
    done = client.post(
        f"/me/calls/{long.pk}/move/",
        {"position": 0, "expected_version": version(long), "confirm": "1"},
    )
    assert done.status_code == 302 and ServiceCall.objects.get(pk=long.pk).position == 0


def test_handoff_page_lists_teammates_who_could_take_it(client, tom, tina, otto, calls):
    first, _ = calls["tom"]
    tina.skills.add(*tom.skills.all())
    client.force_login(tom.user)
    page = client.get(f"/me/calls/{first.pk}/handoff/").content.decode()
    assert f'id="candidate-{tina.pk}"' in page and "Would arrive" in page
    assert "Otto" not in page  # another team


def test_offer_and_accept_through_the_pages(client, tom, tina, calls):
    first, _ = calls["tom"]
    tina.skills.add(*tom.skills.all())
    client.force_login(tom.user)
    response = client.post(
        f"/me/calls/{first.pk}/handoff/offer/",
        {"technician": tina.pk, "expected_version": first.version},
    )
    assert response.status_code == 302
    offer = HandoffOffer.objects.get(call=first)
    client.force_login(tina.user)
    page = client.get("/me/").content.decode()
    assert f'id="offer-{offer.pk}"' in page and "Tom offered you call" in page
    assert "You would arrive" in page and "None of your calls suffers" in page
    assert client.post(f"/me/offers/{offer.pk}/accept/").status_code == 302
    assert ServiceCall.objects.get(pk=first.pk).technician_id == tina.pk
    client.force_login(tom.user)
    assert "Tina accepted call" in client.get("/me/").content.decode()


def test_claim_refused_on_the_page_shows_why(client, tina, make_call, skills, clock_at):
    clock_at(NINE)
    waiting = make_call(skills=[skills["hvac"]], summary="Chiller")
    client.force_login(tina.user)
    response = client.post(f"/me/calls/{waiting.pk}/claim/", {"expected_version": waiting.version})
    assert response.status_code == 403 and "missing skill: hvac" in response.content.decode()


# --- permissions: a technician acts only on their own calls -------------------------------------


def test_a_technician_cannot_touch_a_teammates_call_through_the_pages(client, tina, calls):
    theirs, _ = calls["tom"]
    client.force_login(tina.user)
    posts = {
        f"/me/calls/{theirs.pk}/status/": {
            "status": "en_route",
            "expected_version": theirs.version,
        },
        f"/me/calls/{theirs.pk}/move/": {"direction": "up", "expected_version": theirs.version},
        f"/me/calls/{theirs.pk}/handoff/offer/": {
            "technician": tina.pk,
            "expected_version": theirs.version,
        },
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url
    assert client.get(f"/me/calls/{theirs.pk}/handoff/").status_code == 404
    assert ServiceCall.objects.get(pk=theirs.pk).status == "assigned"
    assert not HandoffOffer.objects.exists()


def test_a_technician_cannot_touch_a_teammates_call_through_the_api(api, tina, tom, calls):
    theirs, _ = calls["tom"]
    client = api.as_user(tina.user)
    v = theirs.version
    refused = [
        client.post(
            f"/api/v1/calls/{theirs.pk}/status/",
            {"status": "en_route", "expected_version": v},
            format="json",
        ),
        client.post(
            f"/api/v1/calls/{theirs.pk}/move/",
            {"technician": tom.pk, "position": 1, "expected_version": v},
            format="json",
        ),
        client.post(
            f"/api/v1/calls/{theirs.pk}/move/",
            {"technician": tina.pk, "position": 0, "expected_version": v},
            format="json",
        ),
        client.post(
            f"/api/v1/calls/{theirs.pk}/handoff/",
            {"technician": tina.pk, "expected_version": v},
            format="json",
        ),
    ]
    assert [r.status_code for r in refused] == [404, 404, 404, 404]
    assert ServiceCall.objects.get(pk=theirs.pk).version == v


def test_only_the_teammate_offered_to_can_answer_through_the_api(api, tom, tina, calls, north):
    from tests.conftest import make_technician

    first, _ = calls["tom"]
    tina.skills.add(*tom.skills.all())
    offer = handoff_offer(
        user=tom.user,
        call_id=first.pk,
        to_technician_id=tina.pk,
        expected_version=first.version,
        now=NINE,
    )
    tess = make_technician("tess", north)
    for user in (tess.user, tom.user):
        response = api.as_user(user).post(f"/api/v1/handoffs/{offer.pk}/accept/", {}, format="json")
        assert response.status_code == 404
    assert api.as_user(tess.user).get("/api/v1/handoffs/").json()["count"] == 0
    accepted = api.as_user(tina.user).post(
        f"/api/v1/handoffs/{offer.pk}/accept/", {}, format="json"
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    again = api.as_user(tina.user).post(f"/api/v1/handoffs/{offer.pk}/accept/", {}, format="json")
    assert again.status_code == 409


def test_claim_through_the_api_without_the_skill_is_refused(api, tina, make_call, skills, clock_at):
    clock_at(NINE)
    waiting = make_call(skills=[skills["hvac"]])
    response = api.as_user(tina.user).post(
        f"/api/v1/calls/{waiting.pk}/claim/", {"expected_version": waiting.version}, format="json"
    )
    assert response.status_code == 403 and "hvac" in response.json()["detail"]


def test_status_through_the_api(api, tom, calls):
    first, _ = calls["tom"]
    client = api.as_user(tom.user)
    response = client.post(
        f"/api/v1/calls/{first.pk}/status/",
        {"status": "on_site", "expected_version": first.version, "lat": 41.9, "lng": -87.6},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "on_site"
    done = client.post(
        f"/api/v1/calls/{first.pk}/status/",
        {
            "status": "completed",
            "expected_version": response.json()["version"],
            "actual_minutes": 40,
        },
        format="json",
    )
    assert done.status_code == 200 and done.json()["actual_minutes"] == 40
    stale = client.post(
        f"/api/v1/calls/{first.pk}/status/",
        {"status": "completed", "expected_version": first.version},
        format="json",
    )
    assert stale.status_code == 409 and stale.json()["call"]["status"] == "completed"
    bad = client.post(
        f"/api/v1/calls/{first.pk}/status/",
        {"status": "teleported", "expected_version": first.version},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "status"
    assert CallEvent.objects.filter(call=first, kind="status").count() == 2


def test_a_csr_cannot_change_call_status_through_the_api(api, csr, calls):
    first, _ = calls["tom"]
    response = api.as_user(csr).post(
        f"/api/v1/calls/{first.pk}/status/",
        {"status": "en_route", "expected_version": first.version},
        format="json",
    )
    assert response.status_code == 403


def test_the_new_endpoints_are_in_the_schema(api, dispatcher):
    schema = api.as_user(dispatcher).get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/calls/{id}/status/",
        "/api/v1/calls/{id}/claim/",
        "/api/v1/calls/{id}/handoff/",
        "/api/v1/handoffs/",
        "/api/v1/handoffs/{id}/accept/",
        "/api/v1/handoffs/{id}/decline/",
    ):
        assert path in schema["paths"], path


def test_a_technician_starts_on_my_day_and_office_staff_on_the_board(client, tom, dispatcher):
    client.force_login(tom.user)
    assert client.get("/").url == "/me/"
    client.force_login(dispatcher)
    assert client.get("/").url == "/board/"


def test_claimable_calls_are_the_ones_i_have_the_skills_for(
    client, tina, make_call, skills, clock_at
):
    clock_at(NINE)
    mine = make_call(skills=[skills["electrical"]], summary="Sparks")
    anyone = make_call(summary="Squeaky door")
    not_mine = make_call(skills=[skills["electrical"], skills["hvac"]], summary="Chiller")
    client.force_login(tina.user)
    page = client.get("/me/").content.decode()
    assert f'id="claim-{mine.pk}"' in page and f'id="claim-{anyone.pk}"' in page
    assert f'id="claim-{not_mine.pk}"' not in page


def test_my_day_version_is_304_until_someone_acts(client, tom, tina, calls):
    client.force_login(tom.user)
    first = client.get("/me/version/")
    etag = first["ETag"]
    assert first.status_code == 200
    assert client.get("/me/version/", headers={"If-None-Match": etag}).status_code == 304
    tina.skills.add(*tom.skills.all())
    call = calls["tom"][0]
    handoff_offer(
        user=tom.user,
        call_id=call.pk,
        to_technician_id=tina.pk,
        expected_version=call.version,
        now=NINE,
    )
    assert client.get("/me/version/", headers={"If-None-Match": etag}).status_code == 200


def test_my_day_version_is_for_technicians(client, dispatcher):
    client.force_login(dispatcher)
    assert client.get("/me/version/").status_code == 403


# --- the phone page, issue 15: next call first, compact notices, keep the place ------------------


def test_the_next_call_and_its_button_come_before_offers_notices_and_the_rest(
    client, tom, tina, dispatcher, calls, make_call
):
    from dispatch.services.moves import call_move

    first, second = calls["tom"]
    theirs = calls["tina"][0]
    # Someone gives Tom a call: a notice.
    call_move(
        user=dispatcher,
        call_id=theirs.pk,
        technician_id=tom.pk,
        position=2,
        expected_version=version(theirs),
        now=NINE,
    )
    client.force_login(tom.user)
    page = client.get("/me/").content.decode()
    button = page.index('data-action="en_route"')
    assert page.index(f'id="me-call-{first.pk}"') < button < page.index('id="me-notices"')
    assert page.index('id="me-notices"') < page.index(f'id="me-call-{second.pk}"')
    assert page.count('data-action="en_route"') == 1  # only the next call sets out


def test_a_call_taken_away_is_one_notice_and_the_technician_is_no_longer_en_route(
    client, tom, tina, dispatcher, calls
):
    from dispatch.services.moves import call_move

    first, second = calls["tom"]
    client.force_login(tom.user)
    client.post(
        f"/me/calls/{first.pk}/status/", {"status": "en_route", "expected_version": first.version}
    )
    call_move(
        user=dispatcher,
        call_id=first.pk,
        technician_id=tina.pk,
        position=0,
        expected_version=version(first),
        reason="closer",
        now=NINE,
    )
    page = client.get("/me/").content.decode()
    notices = page[page.index('id="me-notices"') : page.index("</ul>", page.index("me-notices"))]
    assert notices.count(f"#{first.pk}") == 1, notices  # not also "was taken from you"
    assert "took call" in notices and "closer" in notices
    assert 'id="tech-status">Available<' in page
    assert f'id="me-call-{first.pk}"' not in page and f'id="me-call-{second.pk}"' in page


def test_notices_are_in_time_order(client, tom, dispatcher, calls, make_call, clock_at):
    from dispatch.services.moves import call_move

    first, second = calls["tom"]
    extra = [make_call(summary=f"Extra {n}") for n in range(2)]
    for n, call in enumerate(extra):
        call_move(
            user=dispatcher,
            call_id=call.pk,
            technician_id=tom.pk,
            position=2 + n,
            expected_version=version(call),
            now=NINE,
        )
    client.force_login(tom.user)
    page = client.get("/me/").content.decode()
    assert page.index(f"call #{extra[0].pk} Extra 0") < page.index(f"call #{extra[1].pk} Extra 1")


def test_actions_bring_the_technician_back_to_the_call_they_acted_on(client, tom, calls):
    first, second = calls["tom"]
    client.force_login(tom.user)
    moved = client.post(
        f"/me/calls/{second.pk}/move/", {"direction": "up", "expected_version": version(second)}
    )
    assert moved.status_code == 302 and moved["Location"] == f"/me/#me-call-{second.pk}"
    went = client.post(
        f"/me/calls/{second.pk}/status/",
        {"status": "en_route", "expected_version": version(second)},
    )
    assert went.status_code == 302 and went["Location"] == "/me/#me-next"


def test_done_today_shows_real_minutes_or_none_never_a_question_mark(client, tom, calls, make_call):
    make_call(tom, summary="Reported", status="completed", position=None, actual_minutes=50)
    make_call(tom, summary="Unreported", status="completed", position=None)
    client.force_login(tom.user)
    page = client.get("/me/").content.decode()
    done = page[page.index('id="done-title"') :]
    assert "?" not in done[: done.index("</ul>")]
    assert "Done today (2) · 50 min" in done and "50 min</li>" in done


def test_an_eta_before_the_window_says_when_the_work_starts(client, tom, make_call, clock_at):
    clock_at(local(7))
    make_call(tom, summary="Late morning", window_start=local(10), deadline=local(12))
    etas_refresh_day(day=DAY, now=local(7))
    call = ServiceCall.objects.get(summary="Late morning")
    assert call.eta < call.planned_start  # the planner has Tom at the door early, waiting
    client.force_login(tom.user)
    page = client.get("/me/").content.decode()
    card = page[page.index(f'id="me-call-{call.pk}"') :]
    assert (
        f'starts <span class="starts">{call.planned_start.astimezone(local(7).tzinfo):%H:%M}'
        in card
    )
    assert "arrives" in card


def test_notices_are_news_since_the_day_before_not_last_weeks(client, tom, dispatcher, calls):
    from datetime import timedelta

    from dispatch.services.events import events_append

    first, _ = calls["tom"]
    # Stamped explicitly: the writer keeps a given created_at (the clock's default is bound at
    # import, so clock_at can't backdate an event).
    events_append(
        [
            CallEvent(
                call=first,
                actor=dispatcher,
                kind="tech_notified",
                payload={"technician": tom.pk, "message": message},
                created_at=NINE - timedelta(days=days_back),
            )
            for message, days_back in (("Told last week", 3), ("Told yesterday", 1))
        ]
    )
    client.force_login(tom.user)
    page = client.get("/me/").content.decode()
    notices = page[page.index('id="me-notices"') : page.index("</ul>", page.index("me-notices"))]
    assert "Told yesterday" in notices, notices
    assert "Told last week" not in notices, notices  # still in the call's history, not here


def test_the_phone_card_says_the_time_to_spare_or_how_late(client, tom, make_call, clock_at):
    clock_at(NINE)
    late = make_call(tom, summary="Boiler", deadline=local(9, 30), risk="late", slack_minutes=-15.4)
    spare = make_call(tom, summary="Radiator", deadline=local(16), slack_minutes=125)
    client.force_login(tom.user)
    page = client.get("/me/").content.decode()

    def state(call):
        card = page[page.index(f'id="me-call-{call.pk}"') :]
        return card[card.index('<p class="me-state">') : card.index("</p>", card.index("me-state"))]

    assert state(late).endswith("· 60 min · 15 min past the deadline")
    assert state(spare).endswith("· 60 min · 2 h 05 min to spare")
    assert "slack" not in page.lower() and "-15" not in state(late)


def test_the_on_call_technicians_phone_says_so_from_the_rota(client, tom, tina, clock_at):
    from datetime import timedelta

    from technicians.models import OnCallShift

    OnCallShift.objects.create(
        technician=tom,
        team_id=tom.team_id,
        starts_at=local(17),
        ends_at=local(8, day=DAY + timedelta(days=1)),
        created_at=local(7),
    )

    def header(user) -> str:
        client.force_login(user)
        page = client.get("/me/").content.decode()
        return page.split('<header class="me-head">')[1].split("</header>")[0]

    clock_at(NINE)
    assert '<span class="on-call" id="me-on-call">On call tonight 17:00–08:00</span>' in header(
        tom.user
    )
    clock_at(local(22, 30))
    assert '<span class="on-call" id="me-on-call">On call until 08:00</span>' in header(tom.user)
    assert "On call" not in header(tina.user)  # not on the rota
    clock_at(local(8, 30, day=DAY + timedelta(days=1)))
    assert "On call" not in header(tom.user)  # over


def test_the_phone_never_calls_a_job_without_a_deadline_on_time(client, tom, make_call, clock_at):
    clock_at(NINE)
    open_ended = make_call(tom, summary="Open ended")
    due = make_call(tom, summary="Due", deadline=local(16))
    etas_refresh_day(day=DAY, now=NINE)
    client.force_login(tom.user)
    page = client.get("/me/").content.decode()
    card = page.split(f'id="me-call-{open_ended.pk}"')[1].split("</li>")[0]
    assert '<span class="risk-badge standing-none">No deadline</span>' in card
    assert "On time" not in card
    card = page.split(f'id="me-call-{due.pk}"')[1].split("</li>")[0]
    assert '<span class="risk-badge">On time</span>' in card
