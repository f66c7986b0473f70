"""The board's Suggest panel and the rescue swap post: fragments, permissions, CSRF, escaping."""

from __future__ import annotations

import re
from datetime import time

import pytest
from django.test import Client

from customers.models import Site
from dispatch.models import CallEvent, Escalation
from dispatch.services.etas import etas_refresh_day
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db
NOW = local(7, 30)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _morning(clock_at):
    clock_at(NOW)


@pytest.fixture
def swap_day(tom, north, skills, make_call, customer):
    """Tom holds a tight call up north; Fay, up north on a short shift, holds a loose one here."""
    far = Site.objects.create(customer=customer, address="9 Far Rd", lat=42.04, lng=-87.76)
    fay = make_technician("fay", north, skills=[skills["plumbing"]], home=(42.05, -87.75))
    fay.shift_end = time(10, 30)
    fay.save()
    tight = make_call(
        tom,
        deadline=local(8, 35),
        site=far,
        summary="Tight <i>one</i>",
        skills=[skills["plumbing"]],
    )
    loose = make_call(fay, deadline=local(14), summary="loose")
    etas_refresh_day(day=DAY, now=NOW)
    return fay, tight, loose


def test_suggest_fragment_lists_candidates_rescue_and_exclusions(
    client, dispatcher, tom, tina, swap_day, django_assert_max_num_queries
):
    fay, tight, loose = swap_day
    client.force_login(dispatcher)
    with django_assert_max_num_queries(25):
        response = client.get(f"/calls/{tight.pk}/suggest/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="suggest-panel"' in html
    assert "<html" not in html  # a fragment for the panel
    assert "Tight &lt;i&gt;one&lt;/i&gt;" in html
    assert f"Rescue: swap #{tight.pk} with Fay&#x27;s #{loose.pk}" in html
    assert 'action="/board/swap/"' in html and f'name="other" value="{loose.pk}"' in html
    assert "Tina: missing skill: plumbing" in html
    # The arrival against the deadline in the words every page uses, never "Slack -N".
    assert "<th>To spare</th>" in html and "Slack" not in html
    assert re.search(r"<td>(\d+ h )?\d+ min (to spare|past the deadline)</td>", html)
    assert f"Fay: would push call #{loose.pk} into overtime" in html
    assert "style=" not in html and "<script" not in html  # strict CSP


def test_suggest_without_htmx_is_a_page_and_needs_a_login(client, dispatcher, swap_day):
    _, tight, _ = swap_day
    assert client.get(f"/calls/{tight.pk}/suggest/").status_code == 302
    client.force_login(dispatcher)
    html = client.get(f"/calls/{tight.pk}/suggest/").content.decode()
    assert "<html" in html and 'id="suggest-panel"' in html


def test_a_technician_sees_candidates_but_no_rescue_and_nothing_outside_reach(
    client, tom, tina, make_call, skills
):
    open_call = make_call(deadline=local(8, 10), skills=[skills["electrical"]])
    theirs = make_call(tom)
    client.force_login(tina.user)
    html = client.get(f"/calls/{open_call.pk}/suggest/", **HTMX).content.decode()
    assert "Candidates" in html and "Rescue" not in html
    assert client.get(f"/calls/{theirs.pk}/suggest/", **HTMX).status_code == 404


def test_emergency_shows_send_now_with_the_nearest_first(client, dispatcher, tom, make_call):
    call = make_call(priority="emergency", summary="gas smell")
    client.force_login(dispatcher)
    html = client.get(f"/calls/{call.pk}/suggest/", **HTMX).content.decode()
    assert "send the nearest now" in html and ">Send now<" in html


def test_swap_post_applies_both_moves_and_needs_csrf(dispatcher, tom, swap_day):
    fay, tight, loose = swap_day
    form = {
        "call": tight.pk,
        "other": loose.pk,
        "expected_version": tight.version,
        "other_expected_version": loose.version,
        "day": DAY.isoformat(),
    }
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(dispatcher)
    assert strict.post("/board/swap/", form, **HTMX).status_code == 403
    client = Client()
    client.force_login(dispatcher)
    response = client.post("/board/swap/", form, **HTMX)
    assert response.status_code == 200
    assert f"Swapped call #{tight.pk} and call #{loose.pk}." in response.content.decode()
    tight.refresh_from_db()
    assert tight.technician == fay
    assert CallEvent.objects.filter(call=loose, kind="moved").exists()


def test_a_stale_swap_post_is_a_409_with_the_fresh_board(client, dispatcher, swap_day):
    _, tight, loose = swap_day
    client.force_login(dispatcher)
    form = {
        "call": tight.pk,
        "other": loose.pk,
        "expected_version": tight.version,
        "other_expected_version": "garbage",
        "day": DAY.isoformat(),
    }
    response = client.post("/board/swap/", form, **HTMX)
    assert response.status_code == 409 and response["HX-Retarget"] == "#board-columns"
    tight.refresh_from_db()
    assert tight.version == 1  # nothing half-applied


def test_escalation_page_shows_the_rescue(client, manager, swap_day):
    _, tight, loose = swap_day
    escalation = Escalation.objects.create(call=tight, reason="deadline_risk", raised_by=manager)
    client.force_login(manager)
    html = client.get(f"/escalations/{escalation.pk}/").content.decode()
    assert 'id="rescue-verdict"' in html and f"Rescue: swap #{tight.pk}" in html


def test_suggest_for_a_call_without_a_deadline_never_says_on_time(
    client, clock_at, dispatcher, tom, make_call
):
    from technicians.models import Skill

    roofing = Skill.objects.create(code="roofing", name="Roofing")
    call = make_call(
        summary="roof leak", priority="emergency", skills=[roofing], created_at=local(6, 0)
    )
    clock_at(NOW)
    client.force_login(dispatcher)
    html = client.get(f"/calls/{call.pk}/suggest/", **HTMX).content.decode()
    standing = html.split('id="suggest-standing">')[1].split("</p>")[0]
    assert standing.startswith("No deadline · ")
    assert ">Unassigned</span>" in standing and "waiting 1 h 30 min" in standing
    nobody = html.split('id="suggest-nobody">')[1].split("</p>")[0]
    assert nobody.startswith("Nobody can go now")
    assert "On time" not in html and "on time" not in html
