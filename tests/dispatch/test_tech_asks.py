"""Ask the technician first: a call is not taken from a technician under way behind their back.

The dispatcher asks ("Can you still make #62 by 14:00?"), the technician answers on their phone
with one tap, and the move service reads the answer: "hand it over" needs no reason; while the
answer is not yet due the call stays; "yes" or no answer in time leaves today's path (a reason).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings

from dispatch.models import CallEvent, ServiceCall
from technicians.models import TechAsk
from tests.conftest import local, make_user

pytestmark = pytest.mark.django_db

CALLS = "/api/v1/calls/"
NINE = local(9)


@pytest.fixture(autouse=True)
def at_nine(clock_at):
    clock_at(NINE)


@pytest.fixture
def on_the_way(tom, make_call):
    return make_call(tom, status="en_route", en_route_at=local(8, 50), deadline=local(11))


def version(call) -> int:
    return ServiceCall.objects.get(pk=call.pk).version


def ask(client, call, technician=None, **extra):
    body = {"expected_version": version(call), "technician": technician, **extra}
    return client.post(f"{CALLS}{call.pk}/asks/", body, format="json")


def answer(client, ask_id, value, **extra):
    return client.post(f"/api/v1/asks/{ask_id}/answer/", {"answer": value, **extra}, format="json")


def move(client, call, technician, **extra):
    body = {"technician": technician.pk, "position": 0, "expected_version": version(call)}
    return client.post(f"{CALLS}{call.pk}/move/", body | extra, format="json")


# --- asking -----------------------------------------------------------------------------------


def test_the_dispatcher_asks_and_the_technician_sees_the_question(
    api, dispatcher, tom, tina, on_the_way
):
    made = ask(api.as_user(dispatcher), on_the_way, tina.pk)
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["question"] == f"Can you still make #{on_the_way.pk} (No hot water) by 11:00?"
    assert (body["technician"], body["to_technician"], body["status"]) == (tom.pk, tina.pk, "open")
    assert body["answer_by"].startswith(
        (NINE + timedelta(minutes=settings.TECH_ASK_MINUTES)).isoformat()[:16]
    )
    mine = api.as_user(tom.user).get("/api/v1/asks/?status=open").json()["results"]
    assert [a["id"] for a in mine] == [body["id"]]
    sent = on_the_way.events.get(kind="ask_sent")
    assert sent.actor == dispatcher and sent.payload["question"] == body["question"]
    history = api.as_user(dispatcher).get(f"{CALLS}{on_the_way.pk}/asks/").json()["results"]
    assert [a["id"] for a in history] == [body["id"]]


def test_on_site_the_question_is_whether_they_can_finish(api, dispatcher, tom, make_call):
    call = make_call(tom, status="on_site", started_at=local(8, 30))
    body = ask(api.as_user(dispatcher), call).json()
    assert body["question"] == f"Can you still finish #{call.pk} (No hot water) today?"


def test_only_someone_under_way_is_asked_and_only_once(
    api, dispatcher, tina, make_call, on_the_way
):
    client = api.as_user(dispatcher)
    tinas = make_call(tina)  # Tina is not on the way anywhere: there is nobody to ask
    refused = ask(client, tinas)
    assert refused.status_code == 400 and "Nobody under way" in refused.json()["detail"]
    assert ask(client, on_the_way).status_code == 201
    again = ask(client, on_the_way)
    assert again.status_code == 400 and "already asked" in again.json()["detail"]
    assert TechAsk.objects.count() == 1


def test_a_stale_version_is_a_conflict_and_nothing_is_asked(api, dispatcher, on_the_way):
    response = api.as_user(dispatcher).post(
        f"{CALLS}{on_the_way.pk}/asks/", {"expected_version": 99}, format="json"
    )
    assert response.status_code == 409
    assert not TechAsk.objects.exists() and not on_the_way.events.filter(kind="ask_sent").exists()


@pytest.mark.parametrize(("who", "status"), [("csr", 403), ("tom", 403), ("tina", 404)])
def test_only_dispatchers_and_managers_ask(request, api, who, status, on_the_way):
    # Tina does not see Tom's call at all: out of reach is "not found".
    persona = request.getfixturevalue(who)
    user = getattr(persona, "user", persona)
    assert ask(api.as_user(user), on_the_way).status_code == status
    assert not TechAsk.objects.exists()


def test_bad_input_to_an_ask_is_refused_in_words(api, dispatcher, on_the_way):
    client = api.as_user(dispatcher)
    nobody = ask(client, on_the_way, 999999)
    assert nobody.status_code == 400 and "does not exist" in nobody.json()["detail"]
    junk = client.post(
        f"{CALLS}{on_the_way.pk}/asks/", {"expected_version": "x" * 10_000}, format="json"
    )
    assert junk.status_code == 400
    assert not TechAsk.objects.exists()


# --- answering --------------------------------------------------------------------------------


@pytest.fixture
def asked(api, dispatcher, tina, on_the_way):
    return TechAsk.objects.get(pk=ask(api.as_user(dispatcher), on_the_way, tina.pk).json()["id"])


def test_hand_it_over_lets_the_move_go_without_a_reason(
    api, dispatcher, tom, tina, on_the_way, asked
):
    answered = answer(api.as_user(tom.user), asked.pk, "hand_over", note="Stuck on the bridge")
    assert answered.status_code == 200
    assert (answered.json()["status"], answered.json()["answer_words"]) == (
        "agreed",
        "No, hand it over",
    )
    moved = move(api.as_user(dispatcher), on_the_way, tina)
    assert moved.status_code == 200, moved.json()
    assert moved.json()["technician"] == tina.pk
    told = on_the_way.events.get(kind="tech_notified")
    assert "agreed when asked: “No, hand it over”" in told.payload["message"]
    event = on_the_way.events.get(kind="ask_answered")
    assert (event.actor, event.payload["answer"], event.payload["note"]) == (
        tom.user,
        "agreed",
        "Stuck on the bridge",
    )


def test_while_the_answer_is_not_due_the_call_is_not_taken(
    api, dispatcher, tina, on_the_way, asked
):
    refused = move(api.as_user(dispatcher), on_the_way, tina, reason="in a hurry")
    assert refused.status_code == 400
    assert "has until 09:05 to answer" in refused.json()["detail"]
    assert "Nothing changes until they answer" in refused.json()["detail"]
    assert ServiceCall.objects.get(pk=on_the_way.pk).status == "en_route"


def test_no_answer_in_time_leaves_the_reason_path_and_closes_the_ask(
    api, dispatcher, tina, on_the_way, asked, clock_at
):
    clock_at(NINE + timedelta(minutes=settings.TECH_ASK_MINUTES))
    client = api.as_user(dispatcher)
    without = move(client, on_the_way, tina)
    assert without.status_code == 400 and without.json()["field"] == "reason"
    assert move(client, on_the_way, tina, reason="No answer; Tina is close").status_code == 200
    asked.refresh_from_db()
    assert asked.status == "overtaken"


def test_yes_i_will_make_it_means_a_reason_to_take_it_anyway(
    api, dispatcher, tom, tina, on_the_way, asked
):
    assert answer(api.as_user(tom.user), asked.pk, "yes").json()["status"] == "kept"
    client = api.as_user(dispatcher)
    without = move(client, on_the_way, tina)
    assert without.status_code == 400 and without.json()["field"] == "reason"
    assert move(client, on_the_way, tina, reason="Customer asked for Tina").status_code == 200


def test_only_the_technician_asked_answers_and_only_once(api, tom, tina, dispatcher, asked):
    assert answer(api.as_user(tina.user), asked.pk, "yes").status_code == 404
    assert answer(api.as_user(dispatcher), asked.pk, "yes").status_code == 403
    bad = answer(api.as_user(tom.user), asked.pk, "maybe")
    assert bad.status_code == 400
    assert answer(api.as_user(tom.user), asked.pk, "yes").status_code == 200
    assert answer(api.as_user(tom.user), asked.pk, "hand_over").status_code == 409
    assert CallEvent.objects.filter(kind="ask_answered").count() == 1


def test_arriving_answers_the_question(api, tom, on_the_way, asked):
    arrived = api.as_user(tom.user).post(
        f"{CALLS}{on_the_way.pk}/status/",
        {"status": "on_site", "expected_version": version(on_the_way)},
        format="json",
    )
    assert arrived.status_code == 200, arrived.json()
    asked.refresh_from_db()
    assert asked.status == "overtaken"
    late = answer(api.as_user(tom.user), asked.pk, "yes")
    assert late.status_code == 409


def test_an_answer_after_the_call_was_taken_is_a_conflict(
    api, dispatcher, tom, tina, on_the_way, asked, clock_at
):
    clock_at(NINE + timedelta(minutes=settings.TECH_ASK_MINUTES + 1))
    assert move(api.as_user(dispatcher), on_the_way, tina, reason="gone").status_code == 200
    late = answer(api.as_user(tom.user), asked.pk, "yes")
    assert late.status_code == 409
    asked.refresh_from_db()
    assert asked.status == "overtaken"


def test_asks_are_visible_to_office_and_to_the_technician_asked_only(api, tom, tina, asked):
    office = make_user("desk", "csr")
    assert len(api.as_user(office).get("/api/v1/asks/").json()["results"]) == 1
    assert api.as_user(tina.user).get("/api/v1/asks/").json()["results"] == []


# --- the board's confirm panel and the phone ---------------------------------------------------


def drop(client, call, technician, **extra):
    data = {
        "call": call.pk,
        "technician": technician.pk,
        "position": 0,
        "expected_version": version(call),
        "day": call.scheduled_day.isoformat(),
        "view": "columns",
    }
    return client.post("/board/move/", data | extra, HTTP_HX_REQUEST="true")


def test_the_panel_offers_to_ask_first_and_the_ask_goes_from_the_board(
    client, dispatcher, tom, tina, on_the_way
):
    client.force_login(dispatcher)
    panel = drop(client, on_the_way, tina).content.decode()
    assert 'id="ask-tech"' in panel and f"Ask {tom.name} first" in panel
    assert "Take it now" in panel  # going over their head stays possible, with a reason
    data = {"call": on_the_way.pk, "technician": tina.pk, "expected_version": version(on_the_way)}
    asked = client.post("/board/ask/", data | {"day": "", "team": "all"}, HTTP_HX_REQUEST="true")
    assert asked.status_code == 200
    assert "Asked" in asked.content.decode() and "by 09:05" in asked.content.decode()
    ask_row = TechAsk.objects.get()
    assert (ask_row.technician, ask_row.to_technician, ask_row.asked_by) == (tom, tina, dispatcher)
    waiting = drop(client, on_the_way, tina).content.decode()
    assert "Waiting for the answer until 09:05" in waiting
    assert 'id="confirm-move" disabled' in waiting and 'id="ask-tech"' not in waiting


def test_after_hand_it_over_the_panel_needs_no_reason_and_the_board_shows_the_answer(
    client, dispatcher, tom, tina, on_the_way, asked
):
    from dispatch.services.asks import tech_ask_answer

    tech_ask_answer(user=tom.user, ask_id=asked.pk, answer="hand_over")
    client.force_login(dispatcher)
    panel = drop(client, on_the_way, tina).content.decode()
    assert "No reason needed" in panel and 'name="reason"' not in panel
    board = client.get(f"/board/?day={on_the_way.scheduled_day.isoformat()}&view=columns")
    assert f"{tom.name} answered “No, hand it over”" in board.content.decode()
    moved = drop(client, on_the_way, tina, confirm="1")
    assert moved.status_code == 200
    assert ServiceCall.objects.get(pk=on_the_way.pk).technician == tina


def test_the_phone_shows_the_question_first_and_answers_with_one_tap(
    client, dispatcher, tom, tina, on_the_way, asked
):
    client.force_login(tom.user)
    page = client.get("/me/").content.decode()
    assert page.index(asked.question) < page.index('id="me-next"')
    assert "Yes, I&#x27;ll make it" in page and "No, hand it over" in page
    answered = client.post(f"/me/asks/{asked.pk}/answer/", {"answer": "hand_over"})
    assert answered.status_code == 302
    asked.refresh_from_db()
    assert asked.status == "agreed"
    again = client.get("/me/").content.decode()
    assert asked.question not in again


def test_a_bad_answer_on_the_phone_is_refused_in_words_and_changes_nothing(
    client, tom, on_the_way, asked
):
    client.force_login(tom.user)
    for junk in ("", "maybe", "x" * 10_000):
        response = client.post(f"/me/asks/{asked.pk}/answer/", {"answer": junk})
        assert response.status_code == 400
        assert "Answer yes (Yes, I&#x27;ll make it) or hand_over" in response.content.decode()
    # A NUL is refused before any view, by the one rule for every form (with its own words).
    nul = client.post(f"/me/asks/{asked.pk}/answer/", {"answer": "yes\x00"})
    assert nul.status_code == 400
    asked.refresh_from_db()
    assert asked.status == "open"


# --- their next call ----------------------------------------------------------------------------


@pytest.fixture
def next_up(tom, make_call, on_the_way):
    """Tom's next call, behind the one he is on the way to."""
    return make_call(tom, summary="Dripping tap")


def test_giving_away_the_next_call_of_someone_on_the_way_asks_them(
    api, client, dispatcher, tom, tina, next_up
):
    client.force_login(dispatcher)
    panel = drop(client, next_up, tina).content.decode()
    assert 'id="confirm-panel"' in panel and 'id="ask-tech"' in panel
    assert "changes the call they go to next" in panel and 'name="reason"' not in panel
    made = ask(api.as_user(dispatcher), next_up, tina.pk, position=0)
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["technician"], body["about"]) == (tom.pk, "next_call")
    assert body["question"] == f"Can #{next_up.pk} (Dripping tap) go to Tina?"
    refused = move(api.as_user(dispatcher), next_up, tina)
    assert refused.status_code == 400 and "has until" in refused.json()["detail"]
    wrong = answer(api.as_user(tom.user), body["id"], "hand_over")
    assert wrong.status_code == 400 and "keep my order" in wrong.json()["detail"]
    agreed = answer(api.as_user(tom.user), body["id"], "yes")
    assert agreed.json()["answer_words"] == "Yes, go ahead"
    assert move(api.as_user(dispatcher), next_up, tina).status_code == 200
    assert ServiceCall.objects.get(pk=next_up.pk).technician == tina


def test_putting_a_call_before_their_next_one_asks_whether_they_can_do_it_next(
    api, dispatcher, tom, make_call, next_up
):
    urgent = make_call(summary="Gas smell")
    made = ask(api.as_user(dispatcher), urgent, tom.pk, position=1)
    assert made.status_code == 201, made.json()
    assert made.json()["question"] == (
        f"Can you do #{urgent.pk} (Gas smell) next, before #{next_up.pk}?"
    )
    client = api.as_user(tom.user)
    phone = client.get("/me/").content.decode()
    assert "Can you do" in phone and "No, keep my order" in phone
    assert answer(client, made.json()["id"], "no").json()["status"] == "kept"


def test_a_technician_reordering_their_own_day_is_not_asked(api, tom, make_call, next_up):
    later = make_call(tom, summary="Radiator")
    body = {"technician": tom.pk, "position": 1, "expected_version": version(later)}
    preview = api.as_user(tom.user).post(f"{CALLS}{later.pk}/move/preview/", body, format="json")
    assert preview.status_code == 200, preview.json()
    assert preview.json()["needs_confirmation"] is False


def test_an_ask_stands_only_for_the_call_as_it_was(api, dispatcher, tom, tina, next_up, clock_at):
    made = ask(api.as_user(dispatcher), next_up, tina.pk, position=0).json()
    # Someone changes the call meanwhile (its version moves on): the question no longer stands.
    ServiceCall.objects.filter(pk=next_up.pk).update(version=next_up.version + 5)
    assert f'id="ask-{made["id"]}"' not in api.as_user(tom.user).get("/me/").content.decode()
    late = answer(api.as_user(tom.user), made["id"], "yes")
    assert late.status_code == 409
    assert TechAsk.objects.get(pk=made["id"]).status == "overtaken"


def test_the_answer_reaches_the_asker_on_another_team_s_board(
    client, dispatcher, tom, otto, on_the_way, asked
):
    from dispatch.services.asks import tech_ask_answer

    tech_ask_answer(user=tom.user, ask_id=asked.pk, answer="hand_over")
    client.force_login(dispatcher)
    # Otto's team's board: Tom's call is not on it, but the answer to my question is.
    page = client.get(f"/board/?day={on_the_way.scheduled_day.isoformat()}&team={otto.team_id}")
    assert f"{tom.name} answered “No, hand it over”" in page.content.decode()


# --- from the review ----------------------------------------------------------------------------


def test_a_question_gone_stale_does_not_block_the_next_one(
    api, dispatcher, tom, tina, next_up, clock_at
):
    """Asked about Tom's next call, then the call changed (moved back and forth, or started):
    the old question no longer stands and a new one can be asked."""
    client = api.as_user(dispatcher)
    first = ask(client, next_up, tina.pk, position=0).json()
    ServiceCall.objects.filter(pk=next_up.pk).update(version=next_up.version + 1)
    again = ask(client, next_up, tina.pk, position=0)
    assert again.status_code == 201, again.json()
    assert TechAsk.objects.get(pk=first["id"]).status == "overtaken"


def test_a_yes_counts_only_for_the_move_asked_about(api, dispatcher, tom, tina, otto, next_up):
    made = ask(api.as_user(dispatcher), next_up, tina.pk, position=0).json()
    answer(api.as_user(tom.user), made["id"], "yes")
    body = {"technician": otto.pk, "position": 0, "expected_version": version(next_up)}
    preview = api.as_user(dispatcher).post(
        f"{CALLS}{next_up.pk}/move/preview/", body, format="json"
    )
    assert preview.status_code == 200
    # Tom agreed to Tina taking it, not Otto: the move to Otto is a new question.
    panel_client = api.as_user(dispatcher)
    data = {
        "call": next_up.pk,
        "technician": otto.pk,
        "position": 0,
        "expected_version": version(next_up),
        "day": next_up.scheduled_day.isoformat(),
        "view": "columns",
    }
    page = panel_client.post("/board/move/", data, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="ask-tech"' in page and "No reason needed" not in page


def test_a_huge_position_is_a_clear_400_and_a_real_place_is_stored(
    api, dispatcher, tina, on_the_way
):
    client = api.as_user(dispatcher)
    huge = ask(client, on_the_way, tina.pk, position=3_000_000_000)
    assert huge.status_code == 400
    made = ask(client, on_the_way, tina.pk, position=9_999)
    assert made.status_code == 201 and made.json()["position"] == 0  # Tina's queue is empty


def test_office_staff_see_an_ask_but_may_not_answer_it(api, dispatcher, asked):
    response = answer(api.as_user(dispatcher), asked.pk, "yes")
    assert response.status_code == 403
    assert TechAsk.objects.get(pk=asked.pk).status == "open"


def test_a_manager_rescuing_does_not_wait_for_the_answer(manager, tom, tina, on_the_way, asked):
    """A service acting on its own decision (here a move inside it, as a rescue makes) goes
    ahead with a reason and closes the question as overtaken."""
    from django.db import transaction

    from dispatch.services.moves import call_move_within

    with transaction.atomic():
        call_move_within(
            user=manager,
            call_id=on_the_way.pk,
            technician_id=tina.pk,
            position=0,
            expected_version=version(on_the_way),
            reason="rescue: Tina is closer",
        )
    asked.refresh_from_db()
    assert asked.status == "overtaken"
    assert ServiceCall.objects.get(pk=on_the_way.pk).technician == tina
