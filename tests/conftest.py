"""The cast: named personas every test can ask for, and small factories for the rest."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from customers.models import Customer, Site
from dispatch.models import ServiceCall
from technicians.models import Skill, Team, Technician

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "test-pass-123"  # noqa: S105 - test-only
# A fixed working day, so ETAs never depend on when the suite runs.
DAY = date(2026, 3, 10)


def local(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(settings.TIME_ZONE))


def behind_a_long_job(make_call, technician, **fields):
    """A call queued behind a two-hour job of the technician's (same site, a 3-minute drive from
    home). Risk is a probability: a call is at risk only with uncertainty ahead of it. With the
    default spreads and a deadline of 11:00 it is ok at 07:30 (p_late 0.13), at risk from about
    08:35 (0.32) to 08:57 (0.50, slack 0) and late after."""
    make_call(technician, summary="Boiler replacement", duration_minutes=120)
    return make_call(technician, **fields)


def make_user(username: str, role: str | None) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD)
    if role:
        # get_or_create: transactional tests flush the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def make_technician(username: str, team: Team, *, skills=(), home=(41.88, -87.63)) -> Technician:
    tech = Technician.objects.create(
        user=make_user(username, "technician"),
        name=username.title(),
        team=team,
        home_lat=home[0],
        home_lng=home[1],
        shift_start=time(8, 0),
        shift_end=time(17, 0),
        status="available",
    )
    tech.skills.set(skills)
    return tech


@pytest.fixture
def skills(db) -> dict[str, Skill]:
    return {
        code: Skill.objects.create(code=code, name=code.title())
        for code in ("plumbing", "electrical", "hvac")
    }


@pytest.fixture
def north(db) -> Team:
    return Team.objects.create(name="North", region="North side")


@pytest.fixture
def south(db) -> Team:
    return Team.objects.create(name="South", region="South side")


@pytest.fixture
def dispatcher(north) -> User:
    user = make_user("dana", "dispatcher")
    north.staff.add(user)
    return user


@pytest.fixture
def csr(north) -> User:
    user = make_user("carl", "csr")
    north.staff.add(user)
    return user


@pytest.fixture
def manager(north) -> User:
    user = make_user("mia", "manager")
    north.staff.add(user)
    return user


@pytest.fixture
def tom(north, skills) -> Technician:
    return make_technician("tom", north, skills=[skills["plumbing"], skills["hvac"]])


@pytest.fixture
def tina(north, skills) -> Technician:
    return make_technician("tina", north, skills=[skills["electrical"]], home=(41.90, -87.65))


@pytest.fixture
def otto(south, skills) -> Technician:
    """A technician of another team."""
    return make_technician("otto", south, skills=list(skills.values()), home=(41.75, -87.60))


@pytest.fixture
def customer(db) -> Customer:
    return Customer.objects.create(name="Acme Bakery", contract="time_and_materials")


@pytest.fixture
def site(customer) -> Site:
    return Site.objects.create(customer=customer, address="1 Main St", lat=41.89, lng=-87.62)


@pytest.fixture
def make_call(customer, site):
    """Book a call directly (no service), optionally placed in a queue."""

    def make(technician: Technician | None = None, position: int | None = None, **fields):
        fields.setdefault("summary", "No hot water")
        fields.setdefault("duration_minutes", 60)
        fields.setdefault("scheduled_day", DAY)
        if technician is not None:
            fields.setdefault("status", "assigned")
            if position is None:
                position = ServiceCall.objects.filter(
                    technician=technician, scheduled_day=fields["scheduled_day"]
                ).count()
        skills = fields.pop("skills", [])
        call = ServiceCall.objects.create(
            customer=fields.pop("customer", customer),
            site=fields.pop("site", site),
            technician=technician,
            position=position,
            **fields,
        )
        call.skills.set(skills)
        return call

    return make


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` signs in with the session."""
    client = APIClient()

    def as_user(user):
        client.force_authenticate(user=None)
        client.force_login(user)
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def morning() -> datetime:
    """'Now' for service tests: 07:30 on DAY, before shifts start."""
    return local(7, 30)


def in_minutes(dt: datetime, minutes: float) -> datetime:
    return dt + timedelta(minutes=minutes)


@pytest.fixture
def clock_at(monkeypatch):
    """Set the services' clock: `clock_at(local(9))`; pages then see that time as now."""
    from common import clock

    def set_now(when: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: when)

    return set_now


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.3 s a user; the suite creates hundreds of technicians.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _no_cached_users_of_an_earlier_run():
    """A fresh test database hands out user ids again: a user cached by an earlier run (the
    cache is Redis, which outlives it) must not answer for this run's user of the same id."""
    from django.conf import settings
    from django.core.cache import cache

    if settings.CACHE_URL:
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(match="dispatch:*:auth-user:*"):
            client.delete(key)


@pytest.fixture(autouse=True)
def _no_cached_learned_durations():
    """Learned durations written by a test (rolled back after it) must not answer the next."""
    from dispatch.selectors.durations import learned_cache_drop

    learned_cache_drop()
    yield
    learned_cache_drop()


@pytest.fixture(autouse=True)
def _no_cached_heartbeat():
    """The cached heartbeat outlives a test's rolled-back row: each test starts without it."""
    from django.core.cache import cache

    from dispatch.services.background import HEARTBEAT_CACHE_KEY

    cache.delete(HEARTBEAT_CACHE_KEY)


@pytest.fixture(autouse=True)
def _broker_of_its_own(settings):
    # Work enqueued by the web side during tests goes to a Redis database of its own, never to a
    # developer's queue (tests that need a worker or a dead broker set their own URL).
    if settings.REDIS_URL:
        settings.CELERY_BROKER_URL = os.environ.get(
            "TEST_WEB_BROKER_URL", "redis://127.0.0.1:6379/13"
        )


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    """Text messages go to customers.sms.outbox, as pytest-django sends email to mail.outbox."""
    from customers import sms

    settings.SMS_BACKEND = "customers.sms.LocmemSmsBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def asgi_server(transactional_db):
    """The app under uvicorn, in a thread of this process (tests/asgi_server.py): what serves
    the board's stream. `.url` as live_server's."""
    from tests import asgi_server as server

    running = server.start()
    yield running
    running.stop()
