"""The doors to an escalation and to a hand-off offer: who gets the object, who is refused, and
that pages, the API and the services all go through them (so they answer alike).

`escalation_get_for_user` keeps today's rule: escalations are the office's; anyone else is
refused the queue itself (403, as the permission matrix says), and an unknown id is 404.
`handoff_offer_get_for_user` gives an offer to its two technicians and to office staff; to anyone
else it does not exist (404). Answering and withdrawing are narrower still (roles.require_*).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common import roles
from common.errors import MoveConflict, NotAllowed, NotFound
from dispatch.models import Escalation
from dispatch.selectors.escalations import escalation_get_for_user
from dispatch.selectors.handoffs import handoff_offer_get_for_user
from dispatch.services.escalations import call_escalate, escalation_raise, escalation_resolve
from dispatch.services.handoffs import handoff_accept, handoff_decline, handoff_withdraw
from technicians.models import HandoffOffer
from tests.conftest import make_technician, make_user

pytestmark = pytest.mark.django_db

OFFICE = ["csr", "dispatcher", "manager"]


@pytest.fixture(autouse=True)
def _morning(clock_at, morning):
    clock_at(morning)


def user_of(request, name: str) -> User:
    persona = request.getfixturevalue(name)
    return persona if isinstance(persona, User) else persona.user


def warmed(user: User) -> User:
    """Roles and the technician record read once, as a request has them by the door."""
    roles.roles_of(user)
    roles.technician_of(user)
    return user


def locking(queries, table: str) -> list[str]:
    return [q["sql"] for q in queries if f'FROM "{table}"' in q["sql"] and "FOR UPDATE" in q["sql"]]


# --- the escalation door -------------------------------------------------------------------------


@pytest.fixture
def escalation(tom, make_call) -> Escalation:
    return escalation_raise(call_id=make_call(tom).pk, reason="complaint", note="Called twice")


@pytest.fixture
def tess(north):
    """A third technician of tom's team: neither party to anything of tom's."""
    return make_technician("tess", north)


@pytest.mark.parametrize("persona", OFFICE)
def test_office_staff_get_any_escalation_with_its_call(request, persona, escalation, make_call):
    unassigned = escalation_raise(call_id=make_call().pk, reason="aging")
    user = user_of(request, persona)
    for wanted in (escalation, unassigned):
        got = escalation_get_for_user(user=user, escalation_id=wanted.pk)
        assert got == wanted and got.call == wanted.call


@pytest.mark.parametrize("persona", ["tom", "tina"])
def test_no_technician_gets_an_escalation_not_even_of_their_own_call(request, persona, escalation):
    # Today's rule, kept: the queue is the office's; a technician is refused it (403).
    with pytest.raises(NotAllowed, match="Only CSRs, dispatchers and managers see the escalation"):
        escalation_get_for_user(user=user_of(request, persona), escalation_id=escalation.pk)


def test_a_user_without_a_role_is_refused_an_escalation(escalation):
    with pytest.raises(NotAllowed):
        escalation_get_for_user(user=make_user("nobody", None), escalation_id=escalation.pk)


@pytest.mark.parametrize("escalation_id", [987_654, "abc", None])
def test_an_escalation_that_does_not_exist_is_not_found(csr, escalation_id):
    with pytest.raises(NotFound, match=f"Escalation {escalation_id} was not found."):
        escalation_get_for_user(user=csr, escalation_id=escalation_id)


def test_the_escalation_door_locks_only_the_escalation_row_for_update(manager, escalation):
    warmed(manager)
    with CaptureQueriesContext(connection) as plain:
        escalation_get_for_user(user=manager, escalation_id=escalation.pk)
    assert len(plain) == 1 and "FOR UPDATE" not in plain[0]["sql"]
    with CaptureQueriesContext(connection) as locked:
        got = escalation_get_for_user(user=manager, escalation_id=escalation.pk, for_update=True)
    assert got == escalation and len(locked) == 1
    assert locked[0]["sql"].endswith('FOR UPDATE OF "dispatch_escalation"')


def test_resolving_goes_through_the_door_locked_and_a_second_time_is_409(manager, escalation):
    warmed(manager)
    with CaptureQueriesContext(connection) as queries:
        escalation_resolve(user=manager, escalation_id=escalation.pk, strategy="triage")
    assert len(locking(queries, "dispatch_escalation")) == 1
    with pytest.raises(MoveConflict, match=f"Escalation #{escalation.pk} is already resolved."):
        escalation_resolve(user=manager, escalation_id=escalation.pk, strategy="triage")
    with pytest.raises(NotFound, match="Escalation 987654 was not found."):
        escalation_resolve(user=manager, escalation_id=987_654, strategy="triage")


@pytest.mark.parametrize("persona", ["csr", "dispatcher", "tom"])
def test_only_a_manager_resolves_and_is_told_so_before_the_door(request, persona, escalation):
    with pytest.raises(NotAllowed, match="Only a manager can resolve an escalation."):
        escalation_resolve(
            user=user_of(request, persona), escalation_id=escalation.pk, strategy="triage"
        )
    escalation.refresh_from_db()
    assert escalation.status == "open"


def test_can_escalate_office_any_call_a_technician_only_their_own(
    csr, tom, tina, make_call, dispatcher
):
    mine, unassigned = make_call(tom), make_call()
    assert roles.can_escalate(csr, unassigned) and roles.can_escalate(dispatcher, mine)
    assert roles.can_escalate(tom.user, mine)
    assert not roles.can_escalate(tom.user, unassigned)
    assert not roles.can_escalate(tina.user, mine)
    assert not roles.can_escalate(make_user("nobody", None), mine)


def test_call_escalate_asks_the_call_door_then_the_role(tom, tina, make_call):
    mine, theirs, unassigned = make_call(tom), make_call(tina), make_call()
    assert call_escalate(user=tom.user, call_id=mine.pk, reason="complaint").call == mine
    with pytest.raises(NotFound):  # out of reach: the call door says it does not exist
        call_escalate(user=tom.user, call_id=theirs.pk, reason="complaint")
    # Within reach (an unassigned call he could claim) but not his: the same words as ever.
    with pytest.raises(NotAllowed, match="A technician can escalate only calls in their own"):
        call_escalate(user=tom.user, call_id=unassigned.pk, reason="complaint")


def test_the_desk_page_and_the_api_answer_alike(client, api, manager, tom, escalation):
    # An escalation that does not exist: 404 from the page, its resolve form and the API.
    client.force_login(manager)
    assert client.get("/escalations/987654/").status_code == 404
    assert client.post("/escalations/987654/resolve/", {"strategy": "triage"}).status_code == 404
    body = {"strategy": "triage", "resolution": "ok"}
    response = api.as_user(manager).post("/api/v1/escalations/987654/resolve/", body, format="json")
    assert response.status_code == 404
    # A technician (outside the office): 403 from both, the escalation untouched.
    client.force_login(tom.user)
    assert client.get(f"/escalations/{escalation.pk}/").status_code == 403
    page = client.post(f"/escalations/{escalation.pk}/resolve/", {"strategy": "triage"})
    assert page.status_code == 403
    response = api.as_user(tom.user).post(
        f"/api/v1/escalations/{escalation.pk}/resolve/", body, format="json"
    )
    assert response.status_code == 403
    assert page.content.decode() == response.json()["detail"]
    escalation.refresh_from_db()
    assert escalation.status == "open"


# --- the hand-off offer door -------------------------------------------------------------------


@pytest.fixture
def offer(tom, tina, make_call, morning) -> HandoffOffer:
    """An open offer from tom to tina of one of tom's calls."""
    call = make_call(tom, summary="Quartz-boiler job for tom only")
    return HandoffOffer.objects.create(
        call=call,
        from_technician=tom,
        to_technician=tina,
        call_version=call.version,
        created_at=morning,
        expires_at=morning + timedelta(minutes=30),
    )


@pytest.mark.parametrize("persona", ["tom", "tina", *OFFICE])
def test_both_technicians_and_office_staff_get_the_offer(request, persona, offer):
    got = handoff_offer_get_for_user(user=user_of(request, persona), offer_id=offer.pk)
    assert got == offer
    assert got.call == offer.call and got.from_technician.user == offer.from_technician.user


@pytest.mark.parametrize("persona", ["tess", "otto"])
def test_any_other_technician_is_told_the_offer_does_not_exist(request, persona, offer):
    with pytest.raises(NotFound, match=f"Hand-off offer {offer.pk} was not found."):
        handoff_offer_get_for_user(user=user_of(request, persona), offer_id=offer.pk)


def test_a_user_without_a_role_is_told_the_offer_does_not_exist(offer):
    with pytest.raises(NotFound):
        handoff_offer_get_for_user(user=make_user("nobody", None), offer_id=offer.pk)


@pytest.mark.parametrize("offer_id", [987_654, "abc", None])
def test_an_offer_that_does_not_exist_is_not_found(tina, offer_id):
    with pytest.raises(NotFound, match=f"Hand-off offer {offer_id} was not found."):
        handoff_offer_get_for_user(user=tina.user, offer_id=offer_id)


def test_the_offer_door_locks_for_update(tina, offer):
    warmed(tina.user)
    with CaptureQueriesContext(connection) as plain:
        handoff_offer_get_for_user(user=tina.user, offer_id=offer.pk)
    assert len(plain) == 1 and "FOR UPDATE" not in plain[0]["sql"]
    with CaptureQueriesContext(connection) as locked:
        handoff_offer_get_for_user(user=tina.user, offer_id=offer.pk, for_update=True)
    assert len(locked) == 1 and locked[0]["sql"].endswith("FOR UPDATE")


def test_answering_and_withdrawing_lock_the_offer_through_the_door(tom, tina, offer, morning):
    warmed(tina.user)
    with CaptureQueriesContext(connection) as queries:
        handoff_decline(user=tina.user, offer_id=offer.pk, note="Full day", now=morning)
    assert len(locking(queries, "technicians_handoffoffer")) == 1
    offer.status = "open"
    offer.save(update_fields=["status"])
    with CaptureQueriesContext(connection) as queries:
        handoff_withdraw(user=tom.user, offer_id=offer.pk, now=morning)
    assert len(locking(queries, "technicians_handoffoffer")) == 1
    assert HandoffOffer.objects.get(pk=offer.pk).status == "withdrawn"


@pytest.mark.parametrize("persona", ["tom", "tess", *OFFICE])
def test_only_the_teammate_offered_to_may_answer(request, persona, offer, morning):
    # Tom and the office may see the offer, but to them as to tess it is not there to answer.
    user = user_of(request, persona)
    for answer in (handoff_accept, handoff_decline):
        with pytest.raises(NotFound, match=f"Hand-off offer {offer.pk} was not found."):
            answer(user=user, offer_id=offer.pk, now=morning)
    assert HandoffOffer.objects.get(pk=offer.pk).status == "open"


@pytest.mark.parametrize("persona", ["tina", "tess", *OFFICE])
def test_only_the_offerer_may_withdraw(request, persona, offer, morning):
    with pytest.raises(NotFound, match=f"Hand-off offer {offer.pk} was not found."):
        handoff_withdraw(user=user_of(request, persona), offer_id=offer.pk, now=morning)
    assert HandoffOffer.objects.get(pk=offer.pk).status == "open"


@pytest.mark.parametrize(
    ("persona", "action"),
    [
        ("tess", "accept"),
        ("tess", "decline"),
        ("tess", "withdraw"),
        ("otto", "accept"),
        ("tom", "accept"),
        ("tina", "withdraw"),
    ],
)
def test_the_page_and_the_api_both_say_404_to_an_outsider(
    request, client, api, persona, action, offer
):
    user = user_of(request, persona)
    client.force_login(user)
    page = client.post(f"/me/offers/{offer.pk}/{action}/")
    assert page.status_code == 404
    if persona not in ("tom", "tina"):  # the call is on their own pages, as it should be
        assert "Quartz-boiler" not in page.content.decode()
    response = api.as_user(user).post(f"/api/v1/handoffs/{offer.pk}/{action}/", {}, format="json")
    assert response.status_code == 404
    assert response.json()["detail"] == f"Hand-off offer {offer.pk} was not found."
    assert HandoffOffer.objects.get(pk=offer.pk).status == "open"


def test_the_page_and_the_api_both_say_404_for_an_offer_that_does_not_exist(client, api, tina):
    client.force_login(tina.user)
    assert client.post("/me/offers/987654/accept/").status_code == 404
    response = api.as_user(tina.user).post("/api/v1/handoffs/987654/accept/", {}, format="json")
    assert response.status_code == 404
