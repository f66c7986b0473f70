"""The demo is alive at any hour: the demo clock (common/clock.py, `manage.py demo_clock`) puts
the seeded company at 10:30 when `make run` starts at night, and every page says so."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from common import clock
from dispatch.models import ServiceCall
from dispatch.selectors.candidates import call_send_now
from dispatch.selectors.capacity import capacity_get
from dispatch.services.events import event_record
from technicians.models import Team, Technician
from tests.conftest import DAY, local, make_user

pytestmark = pytest.mark.django_db
OPEN = ServiceCall.OPEN_STATUSES


@pytest.fixture
def real_time(monkeypatch, settings):
    """Pretend the real clock reads `when`, and set the offset `make run` would export."""

    def at(when: datetime, *, offset: bool = True) -> int:
        monkeypatch.setattr(clock, "real_now", lambda: when)
        settings.DEMO_CLOCK_OFFSET_MINUTES = clock.demo_offset_for(when) if offset else 0
        return settings.DEMO_CLOCK_OFFSET_MINUTES

    return at


@pytest.mark.parametrize(
    ("hour", "minute", "offset"),
    [(22, 30, -720), (3, 0, 450), (0, 0, 630), (8, 59, 91), (15, 0, -270), (9, 0, 0), (14, 59, 0)],
)
def test_the_offset_puts_the_demo_at_half_past_ten_outside_the_working_day(hour, minute, offset):
    assert clock.demo_offset_for(local(hour, minute)) == offset
    shown = timezone.localtime(local(hour, minute) + timedelta(minutes=offset))
    assert shown.date() == DAY and (offset == 0 or (shown.hour, shown.minute) == (10, 30))


def test_the_clock_adds_the_offset_and_zero_is_real_time(real_time, settings):
    real_time(local(22, 30))
    assert clock.now() == local(10, 30) and clock.real_now() == local(22, 30)
    settings.DEMO_CLOCK_OFFSET_MINUTES = 0
    assert clock.now() == local(22, 30)


def test_the_command_prints_the_offset_for_the_real_time(real_time):
    real_time(local(3, 0), offset=False)
    out, err = StringIO(), StringIO()
    call_command("demo_clock", stdout=out, stderr=err)
    assert out.getvalue().strip() == "450"
    assert "Real time 03:00: the demo is shown as 10:30" in err.getvalue()


def test_every_page_says_the_clock_is_shifted_and_real_time_says_nothing(real_time, client):
    real_time(local(22, 31))
    page = client.get("/login/").content.decode()
    assert "Demo clock: shown as 10:30, real time 22:31" in page
    real_time(local(22, 31), offset=False)
    assert 'id="demo-clock"' not in client.get("/login/").content.decode()


def test_new_rows_are_dated_by_the_demo_clock(real_time, customer, site):
    real_time(local(22, 30))
    call = ServiceCall.objects.create(
        customer=customer, site=site, summary="x", duration_minutes=30, scheduled_day=DAY
    )
    event = event_record(call=call, actor=None, kind="booked")
    assert call.created_at == event.created_at == local(10, 30)


def seed() -> None:
    call_command("seed_demo", "--seed", "1", "--yes-wipe-everything", stdout=StringIO())


@pytest.mark.parametrize(("hour", "minute"), [(22, 30), (3, 0)])
def test_make_run_at_night_seeds_a_company_in_the_middle_of_its_day(
    real_time, hour, minute, client
):
    real_time(local(hour, minute))
    seed()
    now = clock.now()
    assert now == local(10, 30)
    calls = ServiceCall.objects.filter(scheduled_day=DAY)
    assert calls.count() == ServiceCall.objects.count() > 0  # built for the shown day
    # Technicians working, some on the way and some on site, each with a call to match.
    assert Technician.objects.filter(status="en_route").exists()
    assert Technician.objects.filter(status="on_site").exists()
    assert calls.filter(status="en_route").exists() and calls.filter(status="on_site").exists()
    # Calls behind (done) and ahead (queued), a few at risk or late.
    assert calls.filter(status="completed", completed_at__lt=now).exists()
    assert calls.filter(status="assigned", eta__gt=now).count() >= 10
    assert calls.filter(status__in=OPEN, risk="at_risk").exists()
    assert calls.filter(status__in=OPEN, risk="late").exists()
    # Capacity left to book today, in every team.
    for team in Team.objects.all():
        today = capacity_get(team=team, now=now)[0]
        assert today.day == DAY and max(r.normal_free_minutes for r in today.rows) > 0, team
    # An emergency has someone to send.
    emergency = calls.filter(priority="emergency", status__in=OPEN).first()
    assert emergency is not None
    able, _ = call_send_now(user=make_user("nightdesk", "dispatcher"), call_id=emergency.pk)
    assert able, "nobody to send to the emergency"
    # The board shows it, with the banner saying what the clock is doing.
    client.force_login(make_user("nightboss", "manager"))
    page = client.get("/board/").content.decode()
    assert f"Demo clock: shown as 10:30, real time {hour:02d}:{minute:02d}" in page


def test_without_the_demo_clock_the_night_is_empty(real_time):
    """Why the clock exists: seeded at 22:30 on real time, the shifts are over."""
    real_time(local(22, 30), offset=False)
    seed()
    assert not Technician.objects.filter(status__in=["en_route", "on_site"]).exists()
    for team in Team.objects.all():
        today = capacity_get(team=team, now=clock.now())[0]
        assert max(r.normal_free_minutes for r in today.rows) == 0, team
