"""Background work as the web side sees it, without a worker: the heartbeat and its banner, the
status endpoint and header, enqueueing that fails fast, and the recompute markers."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta

import pytest

from dispatch.models import Heartbeat, ServiceCall
from dispatch.services import background
from dispatch.services.technicians import technician_status_update
from dispatch.tasks import recompute_day
from technicians.models import Technician
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db

BOARD = f"/board/?day={DAY.isoformat()}&team=all"
COLUMNS = f"/board/columns/?day={DAY.isoformat()}&team=all"
HEADER = "X-Background-Delayed-Since"
BANNER = "Background updates delayed since"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens: connections are refused


# --- heartbeat -------------------------------------------------------------------------------


def test_delayed_only_once_the_last_recompute_is_older_than_the_setting(settings):
    settings.BACKGROUND_DELAY_MINUTES = 2
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert background.heartbeat_delayed_since(local(9)) == background.NEVER  # never ran
    background.heartbeat_beat(background.RECOMPUTE, local(9))
    background.heartbeat_beat(background.RECOMPUTE_TECHNICIANS, local(8))  # not the banner's
    assert Heartbeat.objects.count() == 2
    assert background.heartbeat_delayed_since(local(9, 2)) is None
    assert background.heartbeat_delayed_since(local(9, 3)) == local(9)
    background.heartbeat_beat(background.RECOMPUTE, local(9, 3))  # an upsert: still one row
    assert Heartbeat.objects.filter(name=background.RECOMPUTE).count() == 1
    assert background.heartbeat_delayed_since(local(9, 3)) is None


def test_in_process_mode_without_a_heartbeat_is_not_delayed(settings):
    settings.REDIS_URL = ""
    assert background.heartbeat_delayed_since(local(9)) is None
    background.heartbeat_beat(background.RECOMPUTE, local(9))
    assert background.heartbeat_delayed_since(local(9, 5)) == local(9)  # the loop stopped


def test_board_and_its_poll_show_the_banner_and_the_etag_follows_it(
    client, clock_at, dispatcher, tom, make_call
):
    make_call(tom)
    background.heartbeat_beat(background.RECOMPUTE, local(9))
    client.force_login(dispatcher)
    clock_at(local(9, 1))
    assert BANNER not in client.get(BOARD).content.decode()
    etag = client.get(COLUMNS)["ETag"]
    assert client.get(COLUMNS, headers={"If-None-Match": etag}).status_code == 304

    clock_at(local(9, 3))  # nothing on the board changed; only time passed
    html = client.get(BOARD).content.decode()
    assert f"{BANNER} 09:00; ETAs may be out of date." in html
    polled = client.get(COLUMNS, headers={"If-None-Match": etag})
    assert polled.status_code == 200 and f"{BANNER} 09:00" in polled.content.decode()
    delayed = polled["ETag"]
    assert delayed != etag
    assert client.get(COLUMNS, headers={"If-None-Match": delayed}).status_code == 304

    background.heartbeat_beat(background.RECOMPUTE, local(9, 3))  # a run without changes
    polled = client.get(COLUMNS, headers={"If-None-Match": delayed})
    assert polled.status_code == 200 and BANNER not in polled.content.decode()
    assert polled["ETag"] == etag


def test_the_banner_names_the_day_when_the_delay_began_earlier(client, clock_at, dispatcher):
    background.heartbeat_beat(background.RECOMPUTE, local(16, 45, day=DAY - timedelta(days=1)))
    clock_at(local(8))
    client.force_login(dispatcher)
    assert f"{BANNER} Mon 9 Mar 16:45;" in client.get(BOARD).content.decode()


def test_the_banner_says_when_no_recompute_has_run_yet(client, settings, clock_at, dispatcher):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    clock_at(local(8))
    client.force_login(dispatcher)
    assert "Background updates have not run yet" in client.get(BOARD).content.decode()


# --- the API ---------------------------------------------------------------------------------


def test_status_endpoint_and_the_header_on_call_responses(
    api, settings, clock_at, dispatcher, tom, make_call
):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    call = make_call(tom)
    client = api.as_user(dispatcher)
    clock_at(local(9))
    never = client.get("/api/v1/status/").json()
    assert never == {"background_delayed_since": "1970-01-01T00:00:00Z", "last_recompute_at": None}

    background.heartbeat_beat(background.RECOMPUTE, local(9))
    clock_at(local(9, 1))
    assert client.get("/api/v1/status/").json()["background_delayed_since"] is None
    assert HEADER not in client.get("/api/v1/calls/")
    assert HEADER not in client.get(f"/api/v1/calls/{call.pk}/")

    clock_at(local(9, 5))
    status = client.get("/api/v1/status/").json()
    assert datetime.fromisoformat(status["background_delayed_since"]) == local(9)
    assert datetime.fromisoformat(status["last_recompute_at"]) == local(9)
    for url in ["/api/v1/calls/", f"/api/v1/calls/{call.pk}/", f"/api/v1/calls/{call.pk}/events/"]:
        assert datetime.fromisoformat(client.get(url)[HEADER]) == local(9), url


def test_status_endpoint_needs_a_role(api, tom):
    assert api.get("/api/v1/status/").status_code in (401, 403)


# --- enqueueing ------------------------------------------------------------------------------


def test_enqueue_with_the_broker_down_returns_false_fast_and_logs(settings, caplog):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = closed_port_url()
    for _ in range(3):  # the second attempt must not wait for a reconnect either
        started = time.monotonic()
        assert background.enqueue(recompute_day) is False
        assert time.monotonic() - started < 1.5
    assert "Could not enqueue dispatch.tasks.recompute_day" in caplog.text


def test_without_redis_tasks_run_in_process(settings, tom, make_call):
    settings.REDIS_URL = ""
    call = make_call(tom)
    assert background.enqueue(recompute_day, DAY.isoformat(), local(9).isoformat())
    call.refresh_from_db()
    assert call.eta_computed_at == local(9)
    assert Heartbeat.objects.get(name=background.RECOMPUTE).last_success_at == local(9)


def test_a_failing_in_process_task_is_logged_not_raised(settings, caplog):
    settings.REDIS_URL = ""
    assert background.enqueue(recompute_day, "not-a-day") is False
    assert "failed" in caplog.text


# --- markers ---------------------------------------------------------------------------------


def test_a_mark_only_moves_forward_and_clearing_keeps_newer_marks(tom, tina):
    background.technicians_mark_for_recompute([tom.pk, tina.pk], local(9))
    read = list(Technician.objects.order_by("id").values_list("id", "needs_recompute_since"))
    background.technicians_mark_for_recompute([tom.pk], local(9))  # same instant, later change
    background.technicians_mark_for_recompute([tina.pk], local(8))  # an older clock
    marks = dict(Technician.objects.values_list("id", "needs_recompute_since"))
    assert marks == {
        tom.pk: local(9) + timedelta(microseconds=1),
        tina.pk: local(9, 0) + timedelta(microseconds=1),
    }
    background._clear_marks(read)
    assert dict(Technician.objects.values_list("id", "needs_recompute_since")) == marks


def test_location_ping_marks_and_asks_once_committed(
    settings, dispatcher, tom, make_call, django_capture_on_commit_callbacks
):
    settings.REDIS_URL = ""  # in-process: the recompute runs right after the commit
    call = make_call(tom)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        technician_status_update(
            user=dispatcher, technician=tom, lat=41.95, lng=-87.7, now=local(9)
        )
    tom.refresh_from_db()
    assert tom.needs_recompute_since == local(9) and len(callbacks) == 1
    assert ServiceCall.objects.get(pk=call.pk).eta is None  # nothing until the commit

    callbacks[0]()
    # The in-process task uses the real clock: today's queue, so this DAY's call is untouched,
    # but the mark it saw is cleared.
    tom.refresh_from_db()
    assert tom.needs_recompute_since is None


def test_a_status_change_replans_at_once(dispatcher, tom, make_call):
    call = make_call(tom)
    technician_status_update(user=dispatcher, technician=tom, status="en_route", now=local(9))
    call.refresh_from_db()
    tom.refresh_from_db()
    assert call.eta_computed_at == local(9) and tom.needs_recompute_since is None


def test_after_commit_recompute_with_the_broker_down_falls_back_in_process(
    settings, tom, make_call, django_capture_on_commit_callbacks, clock_at
):
    settings.CELERY_BROKER_URL = closed_port_url()
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    clock_at(local(9))
    call = make_call(tom)
    with django_capture_on_commit_callbacks(execute=True):
        background.after_commit_recompute([tom.pk, None], inline_fallback=True)
    call.refresh_from_db()
    tom.refresh_from_db()
    assert call.eta_computed_at == local(9) and tom.needs_recompute_since is None

    with django_capture_on_commit_callbacks(execute=True):
        background.after_commit_recompute([tom.pk])  # no fallback: the beat heals it
    tom.refresh_from_db()
    assert tom.needs_recompute_since == local(9)
