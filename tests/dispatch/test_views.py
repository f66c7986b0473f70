"""The HTML board: pages, fragments, moves through the form, and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch.models import ServiceCall
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _morning_of_the_day(clock_at):
    clock_at(local(7, 30))


# The column board (the timeline has tests of its own: tests/dispatch/test_timeline.py).
BOARD = f"/board/?day={DAY.isoformat()}&view=columns"


def test_board_shows_columns_cards_and_risk_as_text(client, dispatcher, tom, tina, make_call):
    make_call(
        tom, summary="Water <b>heater</b>", deadline=local(9), risk="late", reschedule_count=2
    )
    make_call(summary="Gas smell", priority="emergency")
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    assert "Tom" in html and "Tina" in html and "Unassigned" in html
    assert "Water &lt;b&gt;heater&lt;/b&gt;" in html  # user text is escaped
    assert "EMERGENCY" in html and ">Late<" in html and "Rescheduled ×2" in html


def test_unassigned_column_puts_emergencies_first_then_deadlines(
    client, dispatcher, tom, make_call
):
    late_deadline = make_call(summary="later", deadline=local(15))
    early_deadline = make_call(summary="sooner", deadline=local(9))
    emergency = make_call(summary="sparks", priority="emergency", deadline=local(16))
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    order = [html.index(f'id="call-{c.pk}"') for c in (emergency, early_deadline, late_deadline)]
    assert order == sorted(order)


def test_board_needs_a_login(client):
    assert client.get(BOARD).status_code == 302


def test_technician_sees_only_own_queue_and_unassigned(client, tom, tina, make_call):
    mine, theirs, open_call = (
        make_call(tom, summary="mine"),
        make_call(tina, summary="theirs"),
        make_call(summary="open"),
    )
    client.force_login(tom.user)
    html = client.get(BOARD).content.decode()
    assert f'id="call-{mine.pk}"' in html and f'id="call-{open_call.pk}"' in html
    assert f'id="call-{theirs.pk}"' not in html
    assert client.get(f"/calls/{theirs.pk}/").status_code == 404


def test_board_query_count_is_constant(client, dispatcher, north, customer, site, skills):
    client.force_login(dispatcher)
    client.get(BOARD)  # warm the session and content types
    techs = []

    def queries_with(n_techs: int) -> list[str]:
        while len(techs) < n_techs:
            techs.append(make_technician(f"q{len(techs)}", north, skills=[skills["plumbing"]]))
        added = ServiceCall.objects.bulk_create(
            ServiceCall(
                customer=customer,
                site=site,
                summary="x",
                duration_minutes=30,
                scheduled_day=DAY,
                technician=t,
                position=p,
                status="assigned",
            )
            for t in techs
            if not ServiceCall.objects.filter(technician=t).exists()
            for p in range(3)
        )
        # Every card has a skill, so a per-card skills lookup would have rows to repeat on.
        ServiceCall.skills.through.objects.bulk_create(
            ServiceCall.skills.through(servicecall=c, skill=skills["plumbing"]) for c in added
        )
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{BOARD}&team={north.pk}")
        assert response.status_code == 200
        assert response.content.decode().count('class="card ') == 3 * n_techs
        return [q["sql"] for q in ctx.captured_queries]

    small, middle, large = queries_with(10), queries_with(50), queries_with(200)
    # Equal for 30, 150 and 600 cards, not merely under a bound at each size.
    assert len(small) == len(middle) == len(large), large
    # session, user, roles, teams, technicians, calls, skills, alerts, version (2), heartbeat
    assert len(small) <= 12, [sql[:80] for sql in small]
    board = [q for q in small if "dispatch_servicecall" in q or "technicians_technician" in q]
    assert len(board) <= 6


def test_poll_returns_304_until_something_changes(client, dispatcher, tom, make_call):
    call = make_call()
    client.force_login(dispatcher)
    first = client.get(f"/board/columns/?day={DAY.isoformat()}")
    assert first.status_code == 200
    etag = first["ETag"]
    assert (
        client.get(f"/board/columns/?day={DAY.isoformat()}", HTTP_IF_NONE_MATCH=etag).status_code
        == 304
    )
    client.post(
        "/board/move/",
        {
            "call": call.pk,
            "technician": tom.pk,
            "position": 0,
            "expected_version": call.version,
            "day": DAY.isoformat(),
        },
    )
    again = client.get(f"/board/columns/?day={DAY.isoformat()}", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again["ETag"] != etag


def test_keyboard_form_moves_with_positions_counted_from_one(client, dispatcher, tom, make_call):
    a, b = make_call(tom), make_call(tom)
    client.force_login(dispatcher)
    form = client.get(f"/calls/{b.pk}/move/").content.decode()
    assert 'name="position_display"' in form and "Tom" in form
    response = client.post(
        "/board/move/",
        {
            "call": b.pk,
            "technician": tom.pk,
            "position_display": "1",
            "expected_version": b.version,
            "day": DAY.isoformat(),
        },
    )
    assert response.status_code == 302
    assert list(
        ServiceCall.objects.filter(technician=tom).order_by("position").values_list("id", flat=True)
    ) == [b.pk, a.pk]


def test_stale_drop_is_a_409_with_fresh_columns_and_a_message(client, dispatcher, tom, make_call):
    call = make_call()
    client.force_login(dispatcher)
    response = client.post(
        "/board/move/",
        {
            "call": call.pk,
            "technician": tom.pk,
            "position": 0,
            "expected_version": call.version + 5,
            "day": DAY.isoformat(),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed call" in html and f'id="call-{call.pk}"' in html
    call.refresh_from_db()
    assert call.technician is None


def test_harmful_drop_returns_a_confirm_panel_and_changes_nothing(
    client, dispatcher, tom, make_call
):
    make_call(tom, deadline=local(9, 15))
    big = make_call(duration_minutes=180)
    client.force_login(dispatcher)
    data = {
        "call": big.pk,
        "technician": tom.pk,
        "position": 0,
        "expected_version": big.version,
        "day": DAY.isoformat(),
    }
    response = client.post("/board/move/", data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="confirm-panel"' in html and "late" in html
    big.refresh_from_db()
    assert big.technician is None
    client.post("/board/move/", data | {"confirm": "1"}, HTTP_HX_REQUEST="true")
    big.refresh_from_db()
    assert big.technician == tom


def test_move_form_post_needs_csrf(dispatcher, tom, make_call):
    from django.test import Client

    call = make_call()
    client = Client(enforce_csrf_checks=True)
    client.force_login(dispatcher)
    response = client.post(
        "/board/move/",
        {"call": call.pk, "technician": tom.pk, "position": 0, "expected_version": call.version},
    )
    assert response.status_code == 403


def test_call_detail_shows_fields_and_history(client, dispatcher, tom, make_call):
    call = make_call()
    client.force_login(dispatcher)
    client.post(
        "/board/move/",
        {"call": call.pk, "technician": tom.pk, "position": 0, "expected_version": call.version},
    )
    html = client.get(f"/calls/{call.pk}/").content.decode()
    assert "History" in html and "Assigned" in html and "dana" in html


def test_tracking_page_needs_no_login_and_shows_only_the_customer_view(client, tom, make_call):
    call = make_call(tom, summary="Boiler <script>", eta=local(9, 5), status="en_route")
    html = client.get(f"/track/{call.tracking_token}/").content.decode()
    assert "on the way" in html and "09:05" in html and "Tom" in html
    assert "Boiler &lt;script&gt;" in html and "slack" not in html.lower()
    assert client.get("/track/not-a-real-token/").status_code == 404


def test_board_poll_refuses_an_account_without_a_role_and_odd_team_ids_fall_back(
    client, dispatcher
):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("nobody", password="x-pass-123"))
    assert client.get(f"/board/columns/?day={DAY.isoformat()}").status_code == 403
    client.force_login(dispatcher)
    assert client.get(f"{BOARD}&team=²").status_code == 200
    assert client.get(f"/board/columns/?day={DAY.isoformat()}&team=²").status_code == 200


def test_a_drop_answers_with_only_the_columns_it_changed(client, dispatcher, tom, tina, make_call):
    untouched = make_call(tina, summary="Tina's job")
    call = make_call(tom)
    client.force_login(dispatcher)
    response = client.post(
        "/board/move/",
        {
            "call": call.pk,
            "technician": tom.pk,
            "position": 0,
            "expected_version": call.version,
            "day": DAY.isoformat(),
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Moved call" in html
    assert f'id="col-{tom.pk}" hx-swap-oob="outerHTML"' in html
    assert f'id="col-{tina.pk}"' not in html and f'id="call-{untouched.pk}"' not in html
    assert 'id="col-unassigned"' not in html  # a reorder within Tom's queue

    other = make_call()
    response = client.post(
        "/board/move/",
        {
            "call": other.pk,
            "technician": tina.pk,
            "position": 0,
            "expected_version": other.version,
            "day": DAY.isoformat(),
            "confirm": "1",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert 'id="col-unassigned" hx-swap-oob="outerHTML"' in html and f'id="col-{tina.pk}"' in html


def test_board_lists_new_risk_and_escalations_for_the_dispatcher(
    client, dispatcher, tom, make_call
):
    from dispatch.services.escalations import escalation_raise
    from dispatch.services.etas import etas_refresh_day

    late = make_call(tom, summary="Leaking boiler", deadline=local(7, 45))
    grumpy = make_call(summary="Angry caller")
    etas_refresh_day(day=DAY, now=local(7, 30))
    escalation_raise(call_id=grumpy.pk, reason="complaint", user=dispatcher)
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    assert 'aria-label="Recent alerts"' in html
    assert f"#{late.pk} Leaking boiler</a>\n    is now late" in html
    assert f"#{grumpy.pk} Angry caller</a>\n    escalated (customer complaint)" in html


def test_an_escalations_reason_reads_as_words_in_the_histories(client, manager, tom, make_call):
    """The history said “deadline_risk”, the code; a typed move reason stays as typed."""
    from dispatch.services.escalations import escalation_raise
    from dispatch.services.events import event_record

    call = make_call(tom, summary="Leaking boiler")
    escalation = escalation_raise(call_id=call.pk, reason="deadline_risk", note="Late: ETA 10:02")
    event_record(call=call, actor=manager, kind="moved", reason="deadline_risk <b>typed</b>")
    client.force_login(manager)
    for page in (f"/escalations/{escalation.pk}/", f"/calls/{call.pk}/"):
        html = client.get(page).content.decode()
        assert "</strong> by system\n      — “Deadline at risk”" in html, page
        assert "— “deadline_risk &lt;b&gt;typed&lt;/b&gt;”" in html, page


def test_the_alert_strip_says_the_time_to_spare_or_how_late(client, dispatcher, tom, make_call):
    from dispatch.models import CallEvent
    from dispatch.services.events import events_append

    late = make_call(tom, summary="Leaking boiler", deadline=local(8))
    tight = make_call(tom, summary="Dripping tap", deadline=local(10))
    raised = [(late, "late", -15.4), (tight, "at_risk", 80.0)]
    events_append(
        [
            CallEvent(
                call=call,
                kind="risk_raised",
                payload={"before": "ok", "after": after, "slack_minutes": slack},
                created_at=local(7, 25),
            )
            for call, after, slack in raised
        ]
    )
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    strip = html[html.index('aria-label="Recent alerts"') : html.index("</ul>")]
    assert f"#{late.pk} Leaking boiler</a>\n    is now late (15 min past the deadline)<" in strip
    assert f"#{tight.pk} Dripping tap</a>\n    is now at risk (1 h 20 min to spare)<" in strip
    assert "slack" not in strip.lower() and "-15" not in strip


def test_escalating_from_the_call_page(client, dispatcher, make_call):
    call = make_call(summary="Burst pipe")
    client.force_login(dispatcher)
    assert "Escalate this call" in client.get(f"/calls/{call.pk}/").content.decode()
    response = client.post(
        f"/calls/{call.pk}/escalate/", {"reason": "complaint", "note": "3rd call"}
    )
    assert response.status_code == 302
    html = client.get(f"/calls/{call.pk}/").content.decode()
    assert "a manager is in charge" in html and "Escalate this call" not in html
    bad = client.post(f"/calls/{call.pk}/escalate/", {"reason": "complaint"}, follow=True)
    assert "already has an open escalation" in bad.content.decode()


def test_an_escalated_call_stands_out_on_the_board(client, dispatcher, tom, make_call):
    from dispatch.services.escalations import escalation_raise

    calm, escalated = make_call(tom, summary="Calm"), make_call(tom, summary="Upset")
    escalation_raise(call_id=escalated.pk, reason="complaint", user=dispatcher)
    client.force_login(dispatcher)
    html = client.get(BOARD).content.decode()
    card = html[html.index(f'id="call-{escalated.pk}"') :]
    assert "Escalated: a manager is on it" in card[: card.index("</article>")]
    calm_card = html[html.index(f'id="call-{calm.pk}"') :]
    assert "Escalated" not in calm_card[: calm_card.index("</article>")]


def test_the_call_page_of_an_unassigned_emergency_says_nobody_has_it_and_how_long(
    client, clock_at, dispatcher, make_call
):
    call = make_call(summary="gas smell", priority="emergency", created_at=local(7, 0))
    clock_at(local(8, 30))
    client.force_login(dispatcher)
    html = client.get(f"/calls/{call.pk}/").content.decode()
    assert "⚠ EMERGENCY" in html
    assert 'Not yet: nobody has it · <span class="waiting">waiting 1 h 30 min</span>' in html
    assert '<span class="risk-badge standing-unassigned">Unassigned</span>' in html
    assert "On time" not in html


def test_office_pages_print_dates_day_first_and_24_hour_and_inputs_stay_iso(
    client, dispatcher, make_call
):
    from django.template import engines

    from dispatch.pages.booking import BookingForm

    call = make_call(window_start=local(13), deadline=local(15))
    client.force_login(dispatcher)
    html = client.get(f"/calls/{call.pk}/").content.decode()
    assert '<dd id="call-day">Tue 10 Mar 2026</dd>' in html
    assert "March 10, 2026" not in html
    # A date or time printed without a format reads the same way, never US-style.
    page = engines["django"].from_string(
        "{{ d|date }}|{{ t|time }}|{{ t }}|{{ d|date:'SHORT_DATE_FORMAT' }}"
    )
    assert (
        page.render({"d": DAY, "t": local(21, 5)})
        == "Tue 10 Mar 2026|21:05|Tue 10 Mar 2026 21:05|Tue 10 Mar"
    )
    # The HTML date and datetime-local inputs still get ISO values.
    form = BookingForm(initial={"window_start": local(9)})
    assert 'type="datetime-local"' in str(form["window_start"])
    assert 'value="2026-03-10T09:00"' in str(form["window_start"])
