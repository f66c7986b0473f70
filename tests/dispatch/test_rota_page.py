"""The on-call rota page (`/rota/`): managers list, add and remove spans; everyone else gets a
403; a refused form says why and keeps what was typed; every change records who made it. The
demo seeds a week's rota."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from dispatch.demo import demo_build
from technicians.models import OnCallShift, Team
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db
NEXT = DAY + timedelta(days=1)
TONIGHT = {
    "starts_at": f"{DAY.isoformat()}T17:00",
    "ends_at": f"{NEXT.isoformat()}T08:00",
    "note": "covers the night",
}


@pytest.fixture(autouse=True)
def _morning(clock_at):
    clock_at(local(9))


@pytest.fixture
def mgr(client, manager) -> Client:
    client.force_login(manager)
    return client


def test_a_manager_adds_and_removes_a_span_and_both_are_recorded(mgr, manager, tom, tina):
    response = mgr.post("/rota/", {**TONIGHT, "technician": tom.pk}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tom is on call Tue 10 Mar 17:00 to Wed 08:00." in html
    shift = OnCallShift.objects.get()
    assert (shift.technician, shift.team, shift.created_by) == (tom, tom.team, manager)
    assert (shift.starts_at, shift.ends_at) == (local(17), local(8, day=NEXT))
    assert shift.note == "covers the night" and shift.created_at == local(9)
    assert f'id="on-call-{shift.pk}"' in html and "covers the night" in html

    response = mgr.post(f"/rota/{shift.pk}/remove/", follow=True)
    assert "Removed Tom&#x27;s on call from Tue 17:00." in response.content.decode()
    shift.refresh_from_db()
    assert shift.removed_by == manager and shift.removed_at == local(9)  # kept as the record
    assert f'id="on-call-{shift.pk}"' not in mgr.get("/rota/").content.decode()
    assert mgr.post(f"/rota/{shift.pk}/remove/").status_code == 404  # already removed


def test_only_managers_see_or_change_the_rota(client, dispatcher, csr, tom, manager):
    shift = OnCallShift.objects.create(
        technician=tom, team=tom.team, starts_at=local(17), ends_at=local(8, day=NEXT),
        created_by=manager, created_at=local(8),
    )  # fmt: skip
    for user in (dispatcher, csr, tom.user):
        client.force_login(user)
        assert client.get("/rota/").status_code == 403
        assert client.post("/rota/", {**TONIGHT, "technician": tom.pk}).status_code == 403
        assert client.post(f"/rota/{shift.pk}/remove/").status_code == 403
        assert 'href="/rota/"' not in client.get("/board/").content.decode()  # not in the menu
    assert OnCallShift.objects.count() == 1 and OnCallShift.objects.get().removed_at is None
    client.force_login(manager)
    assert 'href="/rota/"' in client.get("/board/").content.decode()


def test_the_rota_form_needs_the_csrf_token(manager, tom):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(manager)
    assert strict.post("/rota/", {**TONIGHT, "technician": tom.pk}).status_code == 403
    assert not OnCallShift.objects.exists()


def assert_refused(response, message: str, *kept: str) -> str:
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    for value in kept:
        assert value in html
    assert not OnCallShift.objects.exists()
    return html


def test_to_before_from_is_refused_with_the_typed_values_kept(mgr, tom):
    form = {**TONIGHT, "technician": tom.pk, "ends_at": f"{DAY.isoformat()}T16:00"}
    html = assert_refused(
        mgr.post("/rota/", form),
        "“To” (Tue 10 Mar 16:00) must be after “From” (Tue 10 Mar 17:00).",
        f'value="{DAY.isoformat()}T16:00"',
        f'value="{DAY.isoformat()}T17:00"',
        'value="covers the night"',
    )
    assert f'<option value="{tom.pk}" selected>' in html


def test_unknown_technician_and_bad_dates_are_refused_in_words(mgr, tom):
    assert_refused(
        mgr.post("/rota/", {**TONIGHT, "technician": 999999}),
        "Technician 999999 was not found; choose one from the list.",
    )
    assert_refused(
        mgr.post("/rota/", {**TONIGHT, "technician": "tom"}), "Choose who is on call from the list."
    )
    assert_refused(mgr.post("/rota/", {**TONIGHT, "technician": ""}), "Choose who is on call.")
    assert_refused(
        mgr.post("/rota/", {**TONIGHT, "technician": tom.pk, "starts_at": "tonight"}),
        "“From” must be a date and time, like 2026-12-02 17:00.",
        'value="tonight"',
    )
    assert_refused(
        mgr.post(
            "/rota/",
            {
                **TONIGHT,
                "technician": tom.pk,
                "starts_at": f"{DAY}T06:00",
                "ends_at": f"{DAY}T08:30",
            },
        ),
        "That span ended already",
    )


def test_an_overlapping_span_for_the_same_technician_is_refused(mgr, tom, tina):
    assert mgr.post("/rota/", {**TONIGHT, "technician": tom.pk}).status_code == 302
    form = {**TONIGHT, "technician": tom.pk, "starts_at": f"{DAY.isoformat()}T20:00"}
    response = mgr.post("/rota/", form)
    assert response.status_code == 400
    assert (
        "Tom is already on call Tue 10 Mar 17:00 to Wed 11 Mar 08:00." in response.content.decode()
    )
    assert mgr.post("/rota/", {**TONIGHT, "technician": tina.pk}).status_code == 302  # teammate
    assert OnCallShift.objects.count() == 2


def test_a_nul_byte_is_a_400_with_a_message(mgr, tom):
    response = mgr.post("/rota/", {**TONIGHT, "technician": tom.pk, "note": "night\x00shift"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert not OnCallShift.objects.exists()


def test_ten_kilobytes_of_text_is_refused_in_words_and_escaped(mgr, tom):
    big = "<b>x</b>" * 1280  # 10 KB
    html = assert_refused(
        mgr.post("/rota/", {**TONIGHT, "technician": tom.pk, "note": big}),
        "The note is 10240 characters; keep it to 200.",
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    html = assert_refused(
        mgr.post("/rota/", {**TONIGHT, "technician": tom.pk, "starts_at": big}),
        "“From” must be a date and time",
    )
    assert "<b>x</b>" not in html
    assert_refused(
        mgr.post("/rota/", {**TONIGHT, "technician": "9" * 10240}),
        "Choose who is on call from the list.",
    )


def covered(spans, at) -> bool:
    return any(s.starts_at <= at < s.ends_at for s in spans)


def test_the_demo_seeds_a_rota_every_night_and_weekend():
    day = DAY  # a Tuesday
    demo_build(seed=1, day=day, now=local(10, 30))
    monday = day - timedelta(days=day.weekday())
    for team in Team.objects.all():
        spans = list(OnCallShift.objects.filter(team=team).order_by("starts_at"))
        assert len({s.technician_id for s in spans}) > 1  # they take turns
        assert all(s.technician.team_id == team.pk for s in spans)
        # Covered without a gap from the Sunday before to the Monday after the week.
        assert spans[0].starts_at == local(8, day=monday - timedelta(days=1))
        assert spans[-1].ends_at == local(8, day=monday + timedelta(days=7))
        for before, after in zip(spans, spans[1:], strict=False):
            assert after.starts_at >= before.ends_at
        for offset in range(7):
            d = monday + timedelta(days=offset)
            assert covered(spans, local(22, 30, day=d)) and covered(spans, local(3, day=d))
            assert covered(spans, local(12, day=d)) == (d.weekday() >= 5)  # weekend days too
    # Re-seeding replaces it.
    count = OnCallShift.objects.count()
    demo_build(seed=1, day=day, now=local(10, 30))
    assert OnCallShift.objects.count() == count
