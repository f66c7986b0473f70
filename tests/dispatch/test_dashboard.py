"""The dashboard and the concessions report, checked against a constructed week with known answers.

The week ends on DAY (Tuesday 2026-03-10), "now" is 15:00 that day:

today (DAY)     c1 tom   completed, deadline 12:00, booked 08:00, arrived 11:00: on time, wait 3 h
                c2 tom   completed, deadline 10:00, booked 09:00, arrived 10:30: late, wait 1.5 h
                c3 tina  completed, no deadline, booked 12:00, arrived 13:00: wait 1 h,
                         rescheduled twice
                c4 tina  assigned, at risk, 240 min, rescheduled once
                c5 --    new, late
                c6 --    cancelled
DAY-2           c7 tom   completed, deadline, on time, arrived DAY-2 09:00 after a 24 h wait,
                         rescheduled 3 times
DAY-1           c8 --    cancelled
DAY-7 (outside) c9 --    cancelled, rescheduled 5 times
DAY-8 (outside) c10 tom  still assigned and late, rescheduled 4 times
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer, Site
from dispatch.models import Escalation, ServiceCall
from dispatch.pages.dashboard import csv_safe, format_duration
from dispatch.selectors import reports
from dispatch.selectors.durations import learned_durations
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db

NOW = local(15)


def report_url() -> str:
    return reverse("pages:report-concessions")


D2, D1, D7, D8 = (DAY - timedelta(days=n) for n in (2, 1, 7, 8))


def _set(call: ServiceCall, **fields) -> None:
    ServiceCall.objects.filter(pk=call.pk).update(**fields)


def _escalation(call, *, status="resolved", created=None, **fields) -> Escalation:
    esc = Escalation.objects.create(call=call, reason="complaint", status=status, **fields)
    Escalation.objects.filter(pk=esc.pk).update(created_at=created or local(8))
    return esc


@pytest.fixture
def week(make_call, tom, tina, manager, dispatcher, clock_at):
    clock_at(NOW)
    evil = Customer.objects.create(name="+SUM(1) <b>Evil</b> Inc", contract="full_service")
    evil_site = Site.objects.create(customer=evil, address="2 Side St", lat=41.9, lng=-87.6)

    c1 = make_call(tom, status="completed", deadline=local(12), duration_minutes=60)
    _set(c1, created_at=local(8), started_at=local(11), completed_at=local(12), risk="ok")
    c2 = make_call(tom, status="completed", deadline=local(10), duration_minutes=90)
    _set(c2, created_at=local(9), started_at=local(10, 30), completed_at=local(12), risk="late")
    c3 = make_call(tina, status="completed", duration_minutes=30, reschedule_count=2)
    _set(c3, created_at=local(12), started_at=local(13), completed_at=local(13, 30))
    c4 = make_call(tina, duration_minutes=240, risk="at_risk", reschedule_count=1)
    c5 = make_call(risk="late", summary="Boiler out")
    make_call(status="cancelled", duration_minutes=45)  # c6
    c7 = make_call(
        tom,
        status="completed",
        scheduled_day=D2,
        deadline=local(12, day=D2),
        reschedule_count=3,
        summary="=cmd|' /C calc'!A0 <script>alert(1)</script>",
        customer=evil,
        site=evil_site,
    )
    # Booked exactly 24 h before arrival: DST began on D2, so in UTC (aware local arithmetic
    # is wall-clock arithmetic and would make it 23 h).
    arrived = local(9, day=D2).astimezone(UTC)
    _set(c7, created_at=arrived - timedelta(hours=24), started_at=arrived)
    make_call(status="cancelled", scheduled_day=D1)
    c9 = make_call(status="cancelled", scheduled_day=D7, reschedule_count=5)
    c10 = make_call(tom, scheduled_day=D8, risk="late", reschedule_count=4)

    # Open escalations aged 2 h, 30 min and 6 h.
    _escalation(c4, status="open", created=local(13))
    _escalation(c5, status="open", created=local(14, 30))
    _escalation(c10, status="open", created=local(9))
    # Goodwill: two today (2 h labor; 20 %), one on DAY-2 (10 %), one outside the week.
    resolved = {"strategy": "accept", "resolved_by": manager}
    _escalation(c1, concession_labor_hours=Decimal("2.00"), resolved_at=local(12), **resolved)
    _escalation(c2, concession_discount_percent=Decimal("20"), resolved_at=local(11), **resolved)
    _escalation(
        c7, concession_discount_percent=Decimal("10"), resolved_at=local(10, day=D2), **resolved
    )
    _escalation(c3, resolved_at=local(14), **resolved)  # resolved without goodwill
    _escalation(c9, concession_labor_hours=Decimal("5"), resolved_at=local(10, day=D7), **resolved)
    return {"c7": c7, "evil": evil}


# --- figures ---------------------------------------------------------------------------------


def test_figures_for_today_and_the_week(week):
    data = reports.dashboard_get(now=NOW)
    today, seven = data.periods
    assert (today.first, today.last, seven.first, seven.last) == (DAY, DAY, DAY - timedelta(6), DAY)

    assert (today.on_time, today.completed_with_deadline) == (1, 2)
    assert today.on_time_rate == 0.5
    assert (seven.on_time, seven.completed_with_deadline) == (2, 3)

    assert today.arrived == 3
    assert today.mean_wait == timedelta(minutes=110)  # (180 + 90 + 60) / 3
    assert today.worst_wait == timedelta(hours=3)
    assert seven.arrived == 4
    assert seven.mean_wait == timedelta(minutes=442, seconds=30)  # (330 + 1440) / 4
    assert seven.worst_wait == timedelta(hours=24)

    assert (today.reschedules, seven.reschedules) == (3, 6)
    assert (today.cancelled, seven.cancelled) == (1, 2)

    assert (today.concessions, seven.concessions) == (2, 3)
    assert today.concession_labor_hours == seven.concession_labor_hours == Decimal("2.00")
    assert today.concession_mean_discount == Decimal(20)
    assert seven.concession_mean_discount == Decimal(15)

    # "Now" reads open calls of any day by their stored risk; a completed call's stale risk
    # does not count.
    assert (data.at_risk_now, data.late_now) == (1, 2)

    assert data.open_escalations == 3
    assert data.oldest_escalation_age == timedelta(hours=6)
    assert data.median_escalation_age == timedelta(hours=2)


def test_on_time_per_day_and_utilisation(week):
    data = reports.dashboard_get(now=NOW)
    by_day = {d.day: (d.on_time, d.completed_with_deadline) for d in data.on_time_by_day}
    assert list(by_day) == [DAY - timedelta(days=n) for n in range(6, -1, -1)]
    assert by_day[DAY] == (1, 2)
    assert by_day[D2] == (1, 1)
    assert by_day[D1] == (0, 0)

    util = {u.name: (u.booked_minutes, u.shift_minutes) for u in data.utilisation}
    # tom: c1 60 + c2 90 (c10 is another day); tina: c3 30 + c4 240; shifts 08:00-17:00.
    assert util == {"Tom": (150, 540), "Tina": (270, 540)}


def test_the_page_shows_the_figures_and_the_charts(week, dispatcher, client):
    client.force_login(dispatcher)
    response = client.get(reverse("pages:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "50% <span" in html and "67% <span" in html
    assert "1 h 50 min" in html and "1 d 0 h" in html
    # Cancellations and turned-away callers are separate figures now (issue 8).
    assert ">Cancelled</th>" in html and "incl. turned away" not in html
    assert 'Turned away (callers we could not book)</th><td data-k="turned_away">0</td>' in html
    assert "oldest 6 h 00 min, median 2 h 00 min" in html
    # Two inline SVG charts with text labels on the bars, no script.
    assert html.count("<svg") == 2
    assert ">50%</text>" in html and ">100%</text>" in html and ">no data</text>" in html
    assert "50% (270 of 540 min)" in html and "28% (150 of 540 min)" in html
    assert "<script>alert" not in html
    assert 'href="/dashboard/"' in html  # the nav link


def test_empty_dashboard_renders(dispatcher, client, clock_at):
    clock_at(NOW)
    client.force_login(dispatcher)
    response = client.get(reverse("pages:dashboard"))
    assert response.status_code == 200
    assert "No technicians." in response.content.decode()


def test_format_duration():
    assert format_duration(None) == "—"
    assert format_duration(timedelta(minutes=5)) == "5 min"
    assert format_duration(timedelta(minutes=65)) == "1 h 05 min"
    assert format_duration(timedelta(days=2, hours=3)) == "2 d 3 h"


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pages:dashboard", "pages:report-concessions"])
def test_permissions(name, client, csr, tom, dispatcher, manager, clock_at):
    clock_at(NOW)
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    for user, status in ((csr, 403), (tom.user, 403), (dispatcher, 200), (manager, 200)):
        client.force_login(user)
        assert client.get(url).status_code == status, user.username
    assert client.post(url).status_code == 405


# --- concessions report ----------------------------------------------------------------------


def test_report_table_escapes_user_text(week, manager, client):
    client.force_login(manager)
    response = client.get(report_url(), {"from": D2, "to": DAY})
    assert response.status_code == 200
    html = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "&lt;b&gt;Evil&lt;/b&gt;" in html
    assert html.count("<tr>") == 1 + 3  # header + three concessions
    assert "3 concessions, 2.00 h free labor" in html


def test_report_csv(week, dispatcher, client):
    client.force_login(dispatcher)
    response = client.get(report_url(), {"from": "2026-03-04", "to": "2026-03-10", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="concessions_2026-03-04_2026-03-10.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "date",
        "call_id",
        "summary",
        "customer",
        "contract",
        "labor_hours",
        "discount_percent",
        "approved_by",
    ]
    c7 = week["c7"]
    assert rows[1] == [
        "2026-03-08",
        str(c7.pk),
        "'=cmd|' /C calc'!A0 <script>alert(1)</script>",
        "'+SUM(1) <b>Evil</b> Inc",
        "Full service",
        "",
        "10.00",
        "mia",
    ]
    assert [(r[0], r[5], r[6]) for r in rows[2:]] == [
        ("2026-03-10", "", "20.00"),
        ("2026-03-10", "2.00", ""),
    ]


def test_report_period_is_inclusive_local_days(week, manager, client):
    client.force_login(manager)
    response = client.get(report_url(), {"from": "2026-03-03", "to": "2026-03-03", "format": "csv"})
    assert len(list(csv.reader(io.StringIO(response.content.decode())))) == 2  # c9's labor
    response = client.get(report_url(), {"from": "2026-03-04", "to": "2026-03-07", "format": "csv"})
    assert len(list(csv.reader(io.StringIO(response.content.decode())))) == 1  # header only


@pytest.mark.parametrize(
    "params, message",
    [
        ({"from": "2026-02-30"}, "'from' date must be a real date written YYYY-MM-DD"),
        ({"to": "yesterday"}, "'to' date must be a real date written YYYY-MM-DD"),
        ({"from": "20260310"}, "YYYY-MM-DD"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "must not be after"),
        ({"format": "xlsx"}, "format must be"),
    ],
)
def test_report_bad_input_is_400(params, message, manager, client, clock_at):
    clock_at(NOW)
    client.force_login(manager)
    response = client.get(report_url(), params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_csv_safe():
    for raw in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert csv_safe(raw) == "'" + raw
    assert csv_safe("plain") == "plain"
    assert csv_safe(3) == 3


# --- query counts ----------------------------------------------------------------------------


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_data(
    week, make_call, north, manager, dispatcher, client, django_assert_num_queries
):
    with django_assert_num_queries(5):
        reports.dashboard_get(now=NOW)
    with django_assert_num_queries(1):
        reports.concessions_report(first=DAY - timedelta(days=6), last=DAY)

    client.force_login(dispatcher)
    report = report_url()
    learned_durations()  # cached after the first read (refitted nightly): warm for both sizes
    small = (_count_queries(client, "/dashboard/"), _count_queries(client, report))
    small_csv = _count_queries(client, report, {"format": "csv"})

    # Lots more of everything.
    for i in range(6):
        tech = make_technician(f"extra{i}", north)
        for hour in (9, 11, 13):
            call = make_call(tech, status="completed", deadline=local(hour + 1))
            _set(call, created_at=local(8), started_at=local(hour))
            _escalation(
                call,
                concession_labor_hours=Decimal("1.5"),
                resolved_at=local(hour + 1),
                resolved_by=manager,
            )
        _escalation(make_call(tech, risk="late"), status="open", created=local(10))
    large = (_count_queries(client, "/dashboard/"), _count_queries(client, report))
    assert large == small
    assert _count_queries(client, report, {"format": "csv"}) == small_csv
