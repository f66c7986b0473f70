"""The timeline board (issue 16): the default board for office roles, read from the stored plan,
placed in step classes, paged by 25 technicians, moved through the same move post."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Site
from dispatch.models import ServiceCall
from dispatch.pages.timeline_html import STEPS_CSS, steps_css
from dispatch.selectors.timeline import ROWS_PER_PAGE, STEP_MINUTES, timeline_get
from dispatch.services.etas import etas_refresh_day
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db

BOARD = f"/board/?day={DAY.isoformat()}"


@pytest.fixture(autouse=True)
def _morning_of_the_day(clock_at):
    clock_at(local(7, 30))


def _classes(html: str, element_id: str) -> set[str]:
    found = re.search(rf'<article class="([^"]*)" id="{element_id}"', html)
    assert found, element_id
    return set(found.group(1).split())


def _step(cls: set[str], prefix: str) -> int:
    return next(int(c.removeprefix(prefix)) for c in cls if c.startswith(prefix))


def test_office_roles_open_the_timeline_and_the_columns_stay_at_view_columns(
    client, dispatcher, tom, make_call
):
    call = make_call(tom, summary="Boiler")
    client.force_login(dispatcher)
    timeline = client.get(BOARD).content.decode()
    assert 'id="timeline"' in timeline and f'id="call-{call.pk}"' in timeline
    assert 'class="columns"' not in timeline
    columns = client.get(f"{BOARD}&view=columns").content.decode()
    assert 'class="columns"' in columns and 'id="timeline"' not in columns
    # The filters keep the column view; the view switch names both.
    assert '<input type="hidden" name="view" value="columns">' in columns
    assert 'id="view-timeline"' in columns and 'id="view-columns"' in timeline


def test_a_technician_keeps_the_column_board(client, tom, make_call):
    make_call(tom)
    client.force_login(tom.user)
    html = client.get(BOARD).content.decode()
    assert 'class="columns"' in html and 'id="timeline"' not in html


def test_blocks_sit_at_the_stored_plan_with_travel_before_and_waiting_drawn(
    client, dispatcher, tom, make_call, customer
):
    first = make_call(tom, summary="Boiler")
    # A window opening at 13:00: the plan waits, and the travel is drawn just before the start.
    far = Site.objects.create(customer=customer, address="9 Far Rd", lat=41.99, lng=-87.70)
    late = make_call(tom, summary="Socket", site=far, window_start=local(13), deadline=local(15))
    etas_refresh_day(day=DAY, now=local(7, 30))
    first.refresh_from_db()
    late.refresh_from_db()
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    axis_start = 7 * 60  # shifts 08:00-17:00: the axis runs 07:00-18:00
    assert "t-span-132" in html  # 11 hours of 5-minute steps
    cls = _classes(html, f"call-{late.pk}")
    start = timezone_minutes(late.planned_start)
    assert _step(cls, "t-start-") == (start - axis_start) // STEP_MINUTES == 72
    assert _step(cls, "t-len-") == 12  # an hour's work
    # Travel ends where the work starts; the waiting comes before it.
    travel = re.findall(r'<span class="tl-travel t-start-(\d+) t-len-(\d+)" title="Travel', html)
    waits = re.findall(r'<span class="tl-wait t-start-(\d+) t-len-(\d+)"', html)
    assert int(travel[0][0]) == 12  # the day's first travel sets off at the shift start
    travel = [int(n) for n in travel[-1]]
    assert travel[0] + travel[1] == 72
    assert waits, "the wait for the 13:00 window is drawn"
    wait_start, wait_len = map(int, waits[-1])
    assert wait_start + wait_len in (travel[0], travel[0] + 1)
    assert "Waiting" in html and "window 13:00–15:00" in html
    # Risk in words as well as colour; the window and the deadline are marked.
    assert "risk-ok" in cls and ">On time<" in html
    assert 'class="tl-window lane-1 t-start-72 t-len-24" title="Window 13:00–15:00' in html
    assert 'class="tl-due lane-1 t-start-96"' in html
    assert 'class="tl-now t-start-6"' in html  # 07:30
    assert 'class="tl-shift t-start-12 t-len-108"' in html


def timezone_minutes(moment) -> int:
    from django.utils import timezone

    local_time = timezone.localtime(moment)
    return local_time.hour * 60 + local_time.minute


def test_the_axis_spans_the_shifts_not_the_whole_day(client, dispatcher, north, tom, make_call):
    make_technician("early", north).__class__.objects.filter(user__username="early").update(
        shift_start=time(6, 30), shift_end=time(14, 0)
    )
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    ticks = re.findall(r'class="tl-tick t-start-\d+">(\d\d:00)<', html)
    assert ticks[0] == "05:00" and ticks[-1] == "17:00"  # 05:00 (06:30 - 1 h) to 18:00


def test_overtime_is_shaded_and_said(client, dispatcher, tom, make_call):
    for _ in range(10):
        make_call(tom, duration_minutes=60)
    etas_refresh_day(day=DAY, now=local(7, 30))
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    assert re.search(r'class="tl-overtime t-start-120 t-len-\d+"', html)  # from 17:00
    assert 'class="tl-overtime-word">Overtime<' in html
    # The row's summary wraps between its phrases at 11rem, never inside one.
    summary = re.search(r'<p class="tl-booked"[^>]*>(.*?)</p>', html).group(1)
    phrases = re.findall(r'<span class="tl-phrase">(.*?) ?·?</span>(?= |$)', summary)
    assert summary.startswith('<span class="tl-phrase"><span class="tl-overtime-word">Overtime')
    assert len(phrases) == 3 and phrases[1] == "10 calls", summary


def test_user_text_is_escaped_in_blocks(client, dispatcher, tom, make_call):
    make_call(tom, summary='<img src=x onerror="alert(1)">')
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_the_step_classes_file_is_generated_from_the_step(settings):
    assert STEPS_CSS.read_text() == steps_css()
    assert ".t-start-288{--s:288}" in steps_css() and ".t-span-288{--span:288}" in steps_css()


def test_rows_are_paged_by_25_and_ordered_by_team(dispatcher, north, south):
    for i in range(ROWS_PER_PAGE + 3):
        make_technician(f"n{i:02d}", north if i % 2 else south)
    first = timeline_get(user=dispatcher, day=DAY, team=None, now=local(7, 30), page=1)
    second = timeline_get(user=dispatcher, day=DAY, team=None, now=local(7, 30), page=2)
    assert (first.pages, len(first.rows), len(second.rows)) == (2, 25, 3)
    teams = [r.technician.team.name for r in first.rows + second.rows]
    assert teams == sorted(teams)  # North before South, whole teams together
    assert (second.first_row, second.last_row, second.technician_count) == (26, 28, 28)


def _timeline_queries(client, team) -> int:
    url = f"{BOARD}&team={team.pk}"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_timeline_reads_in_the_same_queries_at_any_size(client, dispatcher, north, make_call):
    techs = [make_technician(f"t{i}", north) for i in range(2)]
    for tech in techs:
        make_call(tech)
    client.force_login(dispatcher)
    small = _timeline_queries(client, north)
    techs += [make_technician(f"u{i}", north) for i in range(30)]
    for tech in techs:
        for _ in range(4):
            make_call(tech)
    for _ in range(20):
        make_call(None)
    etas_refresh_day(day=DAY, now=local(7, 30))
    big = _timeline_queries(client, north)
    assert big == small, (small, big)
    assert small <= 12


def _post_move(client, call, tech, position, version=None, **extra):
    return client.post(
        "/board/move/",
        {
            "call": call.pk,
            "technician": tech.pk if tech else "",
            "position": position,
            "expected_version": call.version if version is None else version,
            "day": DAY.isoformat(),
            "team": tech.team_id if tech else "all",
            **extra,
        },
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{BOARD}",
    )


def test_a_move_from_the_timeline_answers_with_the_timeline(
    client, dispatcher, tom, tina, make_call
):
    call = make_call(tom, summary="Boiler")
    client.force_login(dispatcher)
    response = _post_move(client, call, tina, 0)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#board-columns"
    html = response.content.decode()
    assert 'id="timeline"' in html and "Moved call" in html
    assert ServiceCall.objects.get(pk=call.pk).technician_id == tina.pk


def test_a_stale_move_from_the_timeline_is_a_409_with_the_real_timeline(
    client, dispatcher, tom, tina, make_call
):
    call = make_call(tom, summary="Boiler")
    client.force_login(dispatcher)
    response = _post_move(client, call, tina, 0, version=call.version + 5)
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#board-columns"
    html = response.content.decode()
    assert 'id="timeline"' in html and 'role="alert"' in html
    assert ServiceCall.objects.get(pk=call.pk).technician_id == tom.pk


def test_a_harmful_move_from_the_timeline_asks_with_the_ripple_panel(
    client, dispatcher, tom, tina, make_call
):
    theirs = make_call(tina, summary="Socket", deadline=local(9, 30))
    call = make_call(tom, summary="Boiler", duration_minutes=120)
    etas_refresh_day(day=DAY, now=local(7, 30))
    call.refresh_from_db()
    client.force_login(dispatcher)
    response = _post_move(client, call, tina, 0)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="confirm-panel"' in html
    assert '<input type="hidden" name="view" value="timeline">' in html
    assert "HX-Retarget" not in response
    assert ServiceCall.objects.get(pk=theirs.pk).position == 0  # nothing moved yet
    confirmed = _post_move(client, call, tina, 0, confirm="1", view="timeline")
    assert confirmed["HX-Retarget"] == "#board-columns"
    assert ServiceCall.objects.get(pk=call.pk).technician_id == tina.pk


def test_the_poll_answers_the_timeline_part_and_304_when_unchanged(
    client, dispatcher, tom, make_call
):
    make_call(tom)
    client.force_login(dispatcher)
    url = f"/board/columns/?view=timeline&day={DAY.isoformat()}&team={tom.team_id}&page=1"
    response = client.get(url)
    assert 'id="timeline"' in response.content.decode()
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_without_a_plan_a_block_still_shows_after_the_previous_one(
    client, dispatcher, tom, make_call
):
    make_call(tom, summary="Boiler")
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    assert "unplanned" in html and "no plan yet" in html
    assert timedelta(minutes=STEP_MINUTES)  # the step is whole minutes


def test_board_filters_dim_the_blocks_they_leave_out_and_the_poll_keeps_them(
    client, dispatcher, tom, make_call, skills
):
    plumbing = make_call(tom, skills=[skills["plumbing"]])
    hvac = make_call(tom, skills=[skills["hvac"]])
    client.force_login(dispatcher)
    html = client.get(BOARD, {"skill": "plumbing"}).content.decode()
    assert "filtered-out" in _classes(html, f"call-{hvac.pk}")
    assert "filtered-out" not in _classes(html, f"call-{plumbing.pk}")
    poll = html[html.index("data-columns-url") :][:300]
    assert "view=timeline" in poll and "skill=plumbing" in poll


def test_an_overbooked_row_reads_as_over(client, dispatcher, tom, make_call):
    make_call(tom, duration_minutes=600)
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    assert '<span class="over">10h of 9h: over</span>' in html


def test_a_move_without_javascript_returns_to_the_board_it_came_from(
    client, dispatcher, tom, tina, make_call
):
    call = make_call(tom, summary="Boiler")
    client.force_login(dispatcher)
    columns = client.get(f"{BOARD}&view=columns").content.decode()
    assert f"/calls/{call.pk}/move/?team={tom.team_id}&amp;view=columns" in columns
    form = client.get(f"/calls/{call.pk}/move/?team={tom.team_id}&view=columns").content.decode()
    assert '<input type="hidden" name="view" value="columns">' in form
    post = {"call": call.pk, "technician": tina.pk, "position_display": 1, "day": DAY}
    post |= {"expected_version": call.version, "team": tom.team_id, "view": "columns"}
    response = client.post("/board/move/", post)
    assert response.status_code == 302 and response.url.endswith("&view=columns")
    # From the timeline's block the form has no view: back to the default board, the timeline.
    timeline = client.get(BOARD).content.decode()
    assert f'href="/calls/{call.pk}/move/?team={tom.team_id}"' in timeline
    post |= {"technician": tom.pk, "expected_version": call.version + 1, "view": ""}
    response = client.post("/board/move/", post)
    assert response.status_code == 302 and "view=" not in response.url


@pytest.mark.parametrize(
    ("risk", "slack", "p_late", "words"),
    [
        ("On time", 479.4, 0.001, "On time · 7 h 59 min to spare"),  # the chance adds nothing
        ("On time", 45, 0.049, "On time · 45 min to spare"),
        ("At risk", 20, 0.38, "At risk · 20 min to spare · 62% on time"),
        ("Late", -15, 0.999, "Late · 15 min past the deadline"),  # "<1% on time" says less
        ("Late", -75, 0.7, "Late · 1 h 15 min past the deadline · 30% on time"),
        ("On time", None, None, "On time"),  # no deadline: neither slack nor a chance
    ],
)
def test_a_block_states_its_risk_once(risk, slack, p_late, words):
    from dispatch.pages.risk_words import risk_words as _risk_words

    assert _risk_words(risk, slack, p_late) == words


def test_no_block_or_tray_card_says_on_time_without_a_deadline_or_someone_going(
    client, clock_at, dispatcher, tom, make_call
):
    waiting = make_call(summary="gas smell", priority="emergency", created_at=local(6, 0))
    open_ended = make_call(tom, summary="open ended")
    due = make_call(tom, summary="due", deadline=local(16))
    etas_refresh_day(day=DAY, now=local(7, 30))
    clock_at(local(7, 30))
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    block = html.split(f'id="call-{open_ended.pk}"')[1].split("</article>")[0]
    assert '<span class="tl-risk standing-none">No deadline</span>' in block
    assert "On time" not in block and "No deadline" in _title(html, open_ended.pk)
    assert ">On time<" in html.split(f'id="call-{due.pk}"')[1].split("</article>")[0]
    tray = html.split('class="tl-tray"')[1].split("</aside>")[0]
    card = tray.split(f'id="call-{waiting.pk}"')[1].split("</article>")[0]
    assert "⚠ EMERGENCY" in card and ">Unassigned</span>" in card
    assert "Waiting 1 h 30 min" in card and "On time" not in card and "ETA" not in card


def _title(html: str, pk: int) -> str:
    return re.search(rf'id="call-{pk}"[^>]* title="([^"]*)"', html).group(1)
