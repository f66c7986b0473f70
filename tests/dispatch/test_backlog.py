"""The backlog alert: rises when the unassigned backlog outgrows a team's remaining minutes (or
too many calls are projected late), names who could be called in, clears with the backlog, and
shows on the manager's desk and dashboard. Turned-away callers count on the dashboard."""

from __future__ import annotations

from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch.models import BacklogAlert
from dispatch.services.backlog import backlog_check
from dispatch.services.booking import turned_away_record
from dispatch.services.etas import etas_refresh_day
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db
NOON = local(12)


@pytest.fixture(autouse=True)
def _noon(clock_at):
    clock_at(NOON)


@pytest.fixture
def night_owl(north):
    """A North technician whose shift is over by noon: someone to call in."""
    tech = make_technician("nia", north)
    tech.shift_start, tech.shift_end = time(5), time(11)
    tech.save()
    return tech


def test_alert_rises_names_who_to_call_in_and_clears_with_the_backlog(
    north, tom, tina, night_owl, make_call
):
    # Tom and Tina have 300 min each left after noon; 660 min of unassigned work is too much.
    calls = [make_call(duration_minutes=220) for _ in range(3)]
    assert backlog_check(now=NOON) == (1, 0)
    alert = BacklogAlert.objects.get()
    assert alert.team == north and alert.cleared_at is None
    assert alert.raised_figures["backlog_minutes"] == 660
    assert alert.raised_figures["free_minutes"] == 600
    assert "3 unassigned calls need 660 min" in alert.reason
    assert alert.call_in == [{"id": night_owl.pk, "name": "Nia", "why": "shift ended 11:00"}]

    # A quiet minute writes nothing and raises no duplicate.
    assert backlog_check(now=NOON) == (0, 0)
    assert BacklogAlert.objects.count() == 1

    calls[0].status = "cancelled"
    calls[0].save()
    assert backlog_check(now=NOON) == (0, 1)
    alert.refresh_from_db()
    assert alert.cleared_at == NOON and alert.cleared_figures["backlog_minutes"] == 440
    # Raised again later: a new record, the old one kept.
    make_call(duration_minutes=200)
    assert backlog_check(now=NOON) == (1, 0)
    assert BacklogAlert.objects.count() == 2


def test_alert_rises_when_enough_calls_are_projected_late(north, tom, make_call, settings):
    settings.BACKLOG_LATE_THRESHOLD = 2
    for _ in range(2):
        make_call(tom, deadline=local(11))  # already past: late whatever happens
    etas_refresh_day(day=DAY, now=NOON)
    assert backlog_check(now=NOON) == (1, 0)
    assert "2 open calls are projected late" in BacklogAlert.objects.get().reason


def test_a_team_with_room_gets_no_alert(north, tom, make_call):
    make_call(duration_minutes=60)
    assert backlog_check(now=NOON) == (0, 0)
    assert not BacklogAlert.objects.exists()


def test_the_check_reads_a_fixed_number_of_queries(north, tom, tina, make_call):
    make_call(duration_minutes=700)
    with CaptureQueriesContext(connection) as small:
        backlog_check(now=NOON)
    for i in range(10):
        tech = make_technician(f"x{i}", north)
        make_call(tech)
        make_call(duration_minutes=30)
    with CaptureQueriesContext(connection) as large:
        backlog_check(now=NOON)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_desk_and_dashboard_show_the_alert_and_the_turned_away_count(
    north, tom, night_owl, make_call, manager, csr, customer, client
):
    make_call(duration_minutes=400)
    backlog_check(now=NOON)
    turned_away_record(user=csr, reason="no_capacity", customer=customer)
    client.force_login(manager)
    for url in ("/escalations/", "/dashboard/"):
        html = client.get(url).content.decode()
        assert "North: the backlog has outgrown the team." in html
        assert "Nia <span" in html and "shift ended 11:00" in html
    html = client.get("/dashboard/").content.decode()
    assert 'data-k="turned_away">1</td>' in html


def test_the_backlog_check_is_on_the_beat():
    from config.celery import app
    from dispatch.tasks import check_backlog

    app.finalize()  # as beat does before it reads the schedule
    entry = app.conf.beat_schedule["check-backlog"]
    assert entry["task"] == check_backlog.name and entry["schedule"] == 60.0


def test_a_later_shift_counts_as_capacity_and_could_start_early(north, tom, make_call):
    late_shift = make_technician("lou", north)
    late_shift.shift_start, late_shift.shift_end = time(14), time(20)
    late_shift.status = "off"
    late_shift.save()
    make_call(duration_minutes=600)  # Tom's 300 min + Lou's 360 min cover it
    assert backlog_check(now=NOON) == (0, 0)
    make_call(duration_minutes=120)
    assert backlog_check(now=NOON) == (1, 0)
    alert = BacklogAlert.objects.get()
    assert alert.raised_figures["free_minutes"] == 660
    assert alert.call_in == [
        {"id": late_shift.pk, "name": "Lou", "why": "shift starts 14:00; could start early"}
    ]


def test_the_in_process_loop_checks_the_backlog_each_minute(north, tom, make_call, monkeypatch):
    import io

    from django.core.management import call_command

    from dispatch.management.commands import recompute_etas

    class Stop(Exception):
        pass

    def stop_after_one_round(seconds: float) -> None:
        raise Stop

    make_call(duration_minutes=400)  # Tom has 300 min left after noon
    monkeypatch.setattr(recompute_etas.time, "sleep", stop_after_one_round)
    out = io.StringIO()
    with pytest.raises(Stop):
        call_command("recompute_etas", "--every", "60", stdout=out)
    assert "backlog alerts: 1 raised, 0 cleared" in out.getvalue()
    assert BacklogAlert.objects.filter(team=north, cleared_at__isnull=True).exists()


def test_with_nobody_to_call_in_the_alert_says_so_in_plain_english(
    north, tom, make_call, manager, client
):
    make_call(duration_minutes=400)
    backlog_check(now=NOON)
    client.force_login(manager)
    html = client.get("/escalations/").content.decode()
    assert "North: the backlog has outgrown the team." in html
    assert "Nobody on the team is off shift to call in." in html
    assert "Nobody of the team" not in html
