"""The demo company: `manage.py seed_demo` and the generator behind it, against PostgreSQL."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from customers.models import Customer, Site
from dispatch.demo import PASSWORD, demo_build, demo_usernames
from dispatch.models import CallEvent, DayPlan, Escalation, ServiceCall
from technicians.models import Skill, Team, Technician
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db

# Mid-morning on the fixed day: early shifts are under way, the 10:00 shift has just begun.
NOW = local(10, 30)
QUEUED = ServiceCall.QUEUED_STATUSES


def call_rows() -> list[tuple]:
    rows = ServiceCall.objects.values_list(
        "summary",
        "customer__name",
        "site__address",
        "technician__user__username",
        "position",
        "priority",
        "status",
        "window_start",
        "deadline",
        "duration_minutes",
    )
    # ids differ between builds; the content, in a stable order, must not.
    return sorted(rows, key=lambda row: tuple((v is None, str(v)) for v in row))


def counts() -> dict[str, int]:
    models = (ServiceCall, CallEvent, Customer, Site, Technician, Team, Skill, Escalation)
    return {m.__name__: m.objects.count() for m in models} | {
        "demo users": User.objects.filter(username__in=demo_usernames()).count()
    }


def test_command_builds_a_believable_company():
    out = StringIO()
    call_command("seed_demo", "--seed", "1", "--yes-wipe-everything", stdout=out)

    today = timezone.localdate()
    calls = ServiceCall.objects.filter(scheduled_day=today)
    assert Team.objects.count() == 3
    assert 12 <= Technician.objects.count() <= 20
    assert Customer.objects.count() >= 40
    assert set(Customer.objects.values_list("contract", flat=True)) == {
        "time_and_materials",
        "full_service",
    }
    assert 90 <= calls.count() <= 110
    assert calls.count() == ServiceCall.objects.count()
    assert calls.filter(priority="emergency").exists()
    assert calls.filter(risk="late", status__in=ServiceCall.OPEN_STATUSES).exists()
    assert calls.filter(risk="at_risk", status__in=ServiceCall.OPEN_STATUSES).exists()
    assert not calls.filter(status__in=QUEUED, eta__isnull=True).exists()
    text = out.getvalue()
    assert "manager" in text and "dispatcher" in text and "csr" in text and "tech1" in text
    assert PASSWORD in text


def test_every_role_can_log_in():
    demo_build(seed=1, day=DAY, now=NOW)

    for username, role in [
        ("manager", "manager"),
        ("dispatcher", "dispatcher"),
        ("csr", "csr"),
        ("tech1", "technician"),
    ]:
        user = authenticate(username=username, password=PASSWORD)
        assert user is not None, username
        assert list(user.groups.values_list("name", flat=True)) == [role]
    # One hash shared by all demo logins: the password is the same everywhere.
    users = User.objects.filter(username__in=demo_usernames())
    assert users.count() == 18
    assert users.values("password").distinct().count() == 1
    assert users.filter(groups__name="technician").count() == 15

    manager = User.objects.get(username="manager")
    assert manager.is_staff and manager.is_superuser
    dispatcher = User.objects.get(username="dispatcher")
    assert not dispatcher.is_staff and not dispatcher.is_superuser
    north = Team.objects.get(name="North")
    assert set(north.staff.values_list("username", flat=True)) >= {"dispatcher", "csr"}
    assert Technician.objects.get(user__username="tech1").team == north


def test_company_is_in_the_chicago_metro():
    demo_build(seed=1, day=DAY, now=NOW)

    assert sorted(Team.objects.values_list("name", flat=True)) == ["Central", "North", "South"]
    assert sorted(Skill.objects.values_list("code", flat=True)) == [
        "appliance",
        "electrical",
        "gas",
        "hvac",
        "plumbing",
    ]
    for lat, lng in Site.objects.values_list("lat", "lng"):
        assert 41.70 <= lat <= 42.05 and -87.95 <= lng <= -87.55
    for lat, lng in Technician.objects.values_list("home_lat", "home_lng"):
        assert 41.70 <= lat <= 42.05 and -87.95 <= lng <= -87.55
    for customer in Customer.objects.prefetch_related("sites"):
        assert 1 <= len(customer.sites.all()) <= 2
    assert Customer.objects.count() == 45
    assert Technician.objects.count() == 15


def test_queues_are_dense_and_every_call_fits_its_technician():
    demo_build(seed=1, day=DAY, now=NOW)

    for tech in Technician.objects.prefetch_related("skills"):
        queue = list(
            ServiceCall.objects.filter(technician=tech, status__in=QUEUED)
            .order_by("position")
            .values_list("position", flat=True)
        )
        assert queue == list(range(len(queue))), tech.name
        assert 4 <= len(queue) <= 8, tech.name
        tech_skills = {s.code for s in tech.skills.all()}
        for call in ServiceCall.objects.filter(technician=tech).prefetch_related("skills"):
            needed = {s.code for s in call.skills.all()}
            assert needed and needed <= tech_skills, (tech.name, call.summary)
    assert not ServiceCall.objects.filter(status="new", technician__isnull=False).exists()
    assert not ServiceCall.objects.filter(status="completed", position__isnull=False).exists()
    assigned = ServiceCall.objects.filter(technician__isnull=False).count()
    assert 0.6 <= assigned / ServiceCall.objects.count() <= 0.9


def test_the_day_looks_lived_in():
    demo_build(seed=1, day=DAY, now=NOW)
    calls = ServiceCall.objects.all()

    emergencies = calls.filter(priority="emergency")
    assert 1 <= emergencies.count() <= 2
    assert calls.filter(summary="Gas smell near furnace").exclude(priority="emergency").count() == 0
    assert 0.05 <= calls.filter(priority="high").count() / calls.count() <= 0.3
    assert calls.filter(priority="low").exists()
    assert calls.filter(deadline__isnull=True).exists()
    assert calls.filter(promised_eta__isnull=False).exists()
    assert all(30 <= c.duration_minutes <= 180 for c in calls)
    open_calls = calls.filter(status__in=ServiceCall.OPEN_STATUSES)
    assert open_calls.filter(risk="late").exists()
    assert open_calls.filter(risk="at_risk").exists()
    assert open_calls.filter(risk="ok").count() > open_calls.count() / 2
    assert not calls.filter(status__in=QUEUED, eta__isnull=True).exists()

    done = calls.filter(status="completed")
    assert done.exists()
    assert all(c.started_at < c.completed_at < NOW for c in done)


def test_working_technicians_match_their_first_call():
    demo_build(seed=1, day=DAY, now=NOW)

    live = Technician.objects.filter(status__in=["en_route", "on_site"])
    assert {t.status for t in live} == {"en_route", "on_site"}
    for tech in live:
        first = ServiceCall.objects.get(technician=tech, position=0)
        assert first.status == tech.status
        assert first.en_route_at is not None and first.en_route_at < NOW
        assert (first.started_at is not None) == (tech.status == "on_site")
        assert tech.last_lat is not None and tech.last_seen_at > local(10, 0)
    assert not ServiceCall.objects.filter(
        status__in=["en_route", "on_site"], position__gt=0
    ).exists()
    # 10:00-19:00 shifts started half an hour ago; nobody is off who should be working.
    assert not Technician.objects.filter(
        status="off", shift_start__lte=local(10, 0).time()
    ).exists()


def test_every_call_has_its_history():
    demo_build(seed=1, day=DAY, now=NOW)

    csr = User.objects.get(username="csr")
    dispatcher = User.objects.get(username="dispatcher")
    calls = ServiceCall.objects.count()
    assert CallEvent.objects.filter(kind="booked", actor=csr).count() == calls
    assigned = ServiceCall.objects.filter(technician__isnull=False).count()
    assert CallEvent.objects.filter(kind="assigned", actor=dispatcher).count() == assigned
    for call in ServiceCall.objects.filter(technician__isnull=False):
        booked, assigned_event = (
            call.events.get(kind="booked").created_at,
            call.events.get(kind="assigned").created_at,
        )
        assert booked <= assigned_event <= NOW
        assert call.created_at == booked


def test_rerunning_replaces_the_demo():
    demo_build(seed=1, day=DAY, now=NOW)
    first = counts()
    # Work done on the demo (an escalation) must not stop the next seeding.
    call = ServiceCall.objects.filter(risk="late").first()
    Escalation.objects.create(
        call=call, raised_by=User.objects.get(username="dispatcher"), reason="deadline_risk"
    )

    demo_build(seed=1, day=DAY, now=NOW)

    assert counts() == first
    assert Escalation.objects.count() == 0


def test_rerunning_after_messages_and_a_handoff_replaces_the_demo():
    """Issue 15: a second `make run` stopped at the wipe once the running demo had sent a
    customer a message, a technician offered a call or someone planned the day: they protect
    the calls and the demo logins."""
    from datetime import timedelta

    from customers.models import CustomerMessage
    from technicians.models import HandoffOffer

    demo_build(seed=1, day=DAY, now=NOW)
    first = counts()
    call = ServiceCall.objects.filter(technician__isnull=False).first()
    CustomerMessage.objects.create(
        call=call,
        kind="booking_confirmation",
        channel="sms",
        dedupe_key="k",
        body="Booked.",
        next_attempt_at=NOW,
        created_at=NOW,
    )
    other = Technician.objects.exclude(pk=call.technician_id).first()
    HandoffOffer.objects.create(
        call=call,
        from_technician=call.technician,
        to_technician=other,
        call_version=call.version,
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )

    DayPlan.objects.create(day=DAY, created_by=User.objects.get(username="dispatcher"), seconds=3)

    demo_build(seed=1, day=DAY, now=NOW)

    assert counts() == first
    assert not CustomerMessage.objects.exists() and not HandoffOffer.objects.exists()
    assert not DayPlan.objects.exists()


def test_same_seed_and_now_give_the_same_data():
    demo_build(seed=7, day=DAY, now=NOW)
    first = call_rows()
    techs = list(Technician.objects.values_list("user__username", "name", "status", "home_lat"))

    demo_build(seed=7, day=DAY, now=NOW)

    assert call_rows() == first
    assert list(Technician.objects.values_list("user__username", "name", "status", "home_lat")) == (
        techs
    )


def test_another_seed_gives_another_company():
    demo_build(seed=1, day=DAY, now=NOW)
    first = call_rows()
    names = sorted(Customer.objects.values_list("name", flat=True))

    demo_build(seed=2, day=DAY, now=NOW)

    assert call_rows() != first
    assert sorted(Customer.objects.values_list("name", flat=True)) != names


def test_another_day_is_built_around_ten_in_the_morning():
    result = demo_build(seed=1, day=DAY, now=local(15, 0, day=date(2026, 3, 2)))

    assert result.now == local(10, 0)
    assert set(ServiceCall.objects.values_list("scheduled_day", flat=True)) == {DAY}
    assert ServiceCall.objects.filter(risk="late").exists()
    assert ServiceCall.objects.filter(risk="at_risk").exists()


def test_command_refuses_to_wipe_without_debug_unless_told(settings, tom, make_call):
    """Issue 19: with DEBUG off seed_demo wiped a deployment's data without asking."""
    settings.DEBUG = False
    make_call(tom)
    with pytest.raises(CommandError, match="--yes-wipe-everything"):
        call_command("seed_demo", "--seed", "1", stdout=StringIO())
    assert ServiceCall.objects.count() == 1 and Technician.objects.get() == tom


def test_command_needs_no_confirmation_with_debug_on(settings, monkeypatch):
    """`make run` (DEBUG on) seeds without the flag."""
    settings.DEBUG = True
    built = []
    monkeypatch.setattr(
        "dispatch.management.commands.seed_demo.demo_build",
        lambda **kw: built.append(kw),
    )
    monkeypatch.setattr("dispatch.management.commands.seed_demo.summary_lines", lambda r: [])
    call_command("seed_demo", "--seed", "2", stdout=StringIO())
    assert [kw["seed"] for kw in built] == [2]


def test_command_refuses_a_bad_day():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("seed_demo", "--day", "10/03/2026")
