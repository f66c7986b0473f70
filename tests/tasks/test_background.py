"""Background work surviving faults, with real workers on real Redis: idempotent recomputes, a
worker killed mid-run, Redis down (the board keeps working and says so), coalesced recomputes."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from datetime import time as clock_time

import pytest
from django.contrib.auth.models import User
from django.db.models import Count
from django.utils import timezone

from customers.models import Site
from dispatch.models import CallEvent, Heartbeat, ServiceCall
from dispatch.services import background
from dispatch.services.etas import etas_refresh_day
from dispatch.services.technicians import technician_status_update
from dispatch.tasks import recompute_day, recompute_technicians
from technicians.models import Technician
from tests.conftest import DAY, local
from tests.tasks.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

RECOMPUTE_DAY = recompute_day.name


def heartbeat_at() -> datetime | None:
    return (
        Heartbeat.objects.filter(name=background.RECOMPUTE)
        .values_list("last_success_at", flat=True)
        .first()
    )


def build_fleet(team, customer, n_techs: int, per_tech: int) -> int:
    """A company's day in three INSERTs per table: technicians with full queues."""
    users = User.objects.bulk_create(User(username=f"fleet{i}") for i in range(n_techs))
    techs = Technician.objects.bulk_create(
        Technician(
            user=user,
            name=f"Fleet {i}",
            team=team,
            home_lat=41.80 + (i % 10) * 0.01,
            home_lng=-87.75 + (i // 10) * 0.01,
            shift_start=clock_time(8),
            shift_end=clock_time(17),
            status="available",
        )
        for i, user in enumerate(users)
    )
    sites = Site.objects.bulk_create(
        Site(customer=customer, address=f"{i} Fleet St", lat=41.8 + r * 0.02, lng=-87.7 + c * 0.02)
        for i, (r, c) in enumerate((r, c) for r in range(7) for c in range(7))
    )
    calls = ServiceCall.objects.bulk_create(
        ServiceCall(
            customer=customer,
            site=sites[(t * per_tech + p) % len(sites)],
            summary="Fleet call",
            duration_minutes=30 + 15 * (p % 3),
            scheduled_day=DAY,
            technician=tech,
            position=p,
            status="assigned",
            deadline=local(9 + p) if p % 3 == 0 else None,
        )
        for t, tech in enumerate(techs)
        for p in range(per_tech)
    )
    return len(calls)


def no_call_has_two_risk_raised_events() -> bool:
    doubled = (
        CallEvent.objects.filter(kind="risk_raised")
        .values("call")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    return not doubled.exists()


# --- idempotency -----------------------------------------------------------------------------


def test_the_same_recompute_twice_writes_nothing_the_second_time(send_task, tom, tina, make_call):
    now = local(9, 0)
    make_call(tom, deadline=local(9, 1))  # late at 09:00 (a 3-minute drive): one risk_raised event
    make_call(tom)
    make_call(tina, deadline=local(16))
    make_call(deadline=local(12))  # unassigned
    send_task(RECOMPUTE_DAY, DAY.isoformat(), now.isoformat())
    assert wait_for(lambda: heartbeat_at() == now), "the worker did not finish the first run"
    assert not ServiceCall.objects.filter(eta_computed_at__isnull=True).exists()
    assert ServiceCall.objects.get(deadline=local(9, 1)).risk == "late"
    events = CallEvent.objects.count()

    # Any row the second run wrote would get eta_computed_at = now again: mark them all first.
    untouched = local(0, 1)
    ServiceCall.objects.update(eta_computed_at=untouched)
    Heartbeat.objects.all().delete()
    send_task(RECOMPUTE_DAY, DAY.isoformat(), now.isoformat())
    assert wait_for(lambda: heartbeat_at() == now), "the worker did not finish the second run"

    assert set(ServiceCall.objects.values_list("eta_computed_at", flat=True)) == {untouched}
    assert CallEvent.objects.count() == events
    assert no_call_has_two_risk_raised_events()


# --- a worker killed mid-run -----------------------------------------------------------------


def test_a_worker_killed_mid_recompute_is_healed_by_the_next_run(
    private_redis, start_worker, north, customer
):
    total = build_fleet(north, customer, n_techs=150, per_tech=10)
    now = local(9, 0)
    computed = ServiceCall.objects.filter(eta_computed_at=now)
    # Small batches: the run commits as it goes, so the kill lands between commits.
    worker = start_worker(private_redis.url, RECOMPUTE_BATCH_SIZE="5")
    from celery import Celery

    app = Celery(broker=private_redis.url)
    try:
        app.send_task(RECOMPUTE_DAY, args=[DAY.isoformat(), now.isoformat()])
        assert wait_for(computed.exists, timeout=30, interval=0.002), worker.log()[-2000:]
        worker.kill()
        written_before_kill = computed.count()
        assert 0 < written_before_kill < total, "the kill did not land in the middle of the run"
        assert heartbeat_at() is None

        # What the beat does every minute, to a fresh worker: no redelivery is needed.
        started = time.monotonic()
        start_worker(private_redis.url)
        app.send_task(RECOMPUTE_DAY, args=[DAY.isoformat(), now.isoformat()])
        assert wait_for(lambda: heartbeat_at() == now, timeout=60)
        assert time.monotonic() - started < 60
    finally:
        app.close()

    assert computed.count() == total
    # The stored ETAs and flags are exactly what a fresh recompute at that instant computes.
    assert etas_refresh_day(day=DAY, now=now) == 0
    assert no_call_has_two_risk_raised_events()


# --- Redis down ------------------------------------------------------------------------------


def test_with_redis_down_the_board_keeps_working_and_says_so_until_the_next_run(
    private_redis, start_worker, settings, clock_at, api, client, dispatcher, tom, tina, make_call
):
    from tests.dispatch.test_api import move_body

    settings.CELERY_BROKER_URL = private_redis.url  # the web side's broker: ours to stop
    first, second = make_call(tom, deadline=local(11)), make_call(tom)
    theirs = make_call(tina)
    api_client = api.as_user(dispatcher)
    client.force_login(dispatcher)
    board_url = f"/board/?day={DAY.isoformat()}&team=all"
    columns_url = f"/board/columns/?day={DAY.isoformat()}&team=all"
    banner = "Background updates delayed since 09:00"

    # All well: a worker on our Redis recomputes at 09:00.
    start_worker(private_redis.url)
    clock_at(local(9, 0))
    assert background.enqueue(recompute_day, DAY.isoformat(), local(9, 0).isoformat())
    assert wait_for(lambda: heartbeat_at() == local(9, 0))
    clock_at(local(9, 1))
    assert "Background updates" not in client.get(board_url).content.decode()
    etag = client.get(columns_url)["ETag"]
    assert api_client.get("/api/v1/status/").json()["background_delayed_since"] is None
    assert "X-Background-Delayed-Since" not in api_client.get("/api/v1/calls/")

    # Redis goes down. Moves and location pings still work, each well under 2 s, timed from
    # the client's side (the test thread): a request that waited on the dead broker would cost
    # its connect timeout or retries on top of its work.
    private_redis.stop()
    took = {}
    started = time.monotonic()
    assert background.enqueue(recompute_day) is False
    took["enqueue"] = time.monotonic() - started
    for call, target, position in [(second, tina, 0), (first, tina, 2), (theirs, tom, 0)]:
        started = time.monotonic()
        response = api_client.post(
            f"/api/v1/calls/{call.pk}/move/", move_body(call, target, position), format="json"
        )
        took[f"move #{call.pk}"] = time.monotonic() - started
        assert response.status_code == 200, response.content
    clock_at(local(9, 2))
    started = time.monotonic()
    response = api_client.post(
        f"/api/v1/technicians/{tom.pk}/status/", {"lat": 41.95, "lng": -87.70}, format="json"
    )
    took["location ping"] = time.monotonic() - started
    assert response.status_code == 200
    print("with Redis down:", ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in took.items()))
    assert max(took.values()) < 2, took
    # No broker to take the recompute: the ping's queue was re-planned in-process instead.
    assert not Technician.objects.filter(needs_recompute_since__isnull=False).exists()
    assert ServiceCall.objects.get(pk=theirs.pk).eta_computed_at == local(9, 2)

    # Two minutes on, the board, its poll and the API say background updates are delayed.
    clock_at(local(9, 3))
    assert banner in client.get(board_url).content.decode()
    polled = client.get(columns_url, headers={"If-None-Match": etag})
    assert polled.status_code == 200 and banner in polled.content.decode()
    delayed_etag = polled["ETag"]
    assert client.get(columns_url, headers={"If-None-Match": delayed_etag}).status_code == 304
    status = api_client.get("/api/v1/status/").json()
    assert datetime.fromisoformat(status["background_delayed_since"]) == local(9, 0)
    assert datetime.fromisoformat(status["last_recompute_at"]) == local(9, 0)
    calls = api_client.get("/api/v1/calls/")
    assert datetime.fromisoformat(calls["X-Background-Delayed-Since"]) == local(9, 0)

    # Redis is back: the same worker reconnects by itself and the next scheduled run clears it.
    private_redis.start()
    assert wait_for(
        lambda: background.enqueue(recompute_day, DAY.isoformat(), local(9, 3).isoformat()),
        timeout=10,
    )
    assert wait_for(lambda: heartbeat_at() == local(9, 3), timeout=30)
    polled = client.get(columns_url, headers={"If-None-Match": delayed_etag})
    assert polled.status_code == 200 and "Background updates" not in polled.content.decode()
    assert "Background updates" not in client.get(board_url).content.decode()
    assert api_client.get("/api/v1/status/").json()["background_delayed_since"] is None
    assert "X-Background-Delayed-Since" not in api_client.get("/api/v1/calls/")
    # Flags have re-converged: a fresh recompute at that instant has nothing to change.
    assert etas_refresh_day(day=DAY, now=local(9, 3)) == 0


# --- coalescing ------------------------------------------------------------------------------


def queued_tasks(redis_server) -> list[str]:
    messages = redis_server.client().lrange("celery", 0, -1)
    return [json.loads(message)["headers"]["task"] for message in messages]


def test_many_location_pings_within_the_window_enqueue_one_recompute(
    private_redis, settings, monkeypatch, dispatcher, tom, make_call
):
    settings.CELERY_BROKER_URL = private_redis.url  # no worker here: messages stay countable
    make_call(tom)
    now = local(9, 0)
    # The rule is "one recompute per window", not how long 20 pings take: a wide window keeps a
    # loaded runner from splitting the burst in two. The real window's length is checked below.
    real_window_ms = background.COALESCE_MS
    monkeypatch.setattr(background, "COALESCE_MS", 60_000)
    started = time.monotonic()
    for i in range(20):
        technician_status_update(
            user=dispatcher, technician=tom, lat=41.9 + i / 1000, lng=-87.6, now=now
        )
    assert time.monotonic() - started < 60, "the burst outlasted the window: inconclusive"
    assert queued_tasks(private_redis) == [recompute_technicians.name]
    tom.refresh_from_db()
    assert tom.needs_recompute_since is not None  # the database remembers, whatever the broker does

    # Once the window closes, the next change asks again, opening a window of the real length.
    monkeypatch.setattr(background, "COALESCE_MS", real_window_ms)
    private_redis.client().delete(background.COALESCE_KEY)
    technician_status_update(user=dispatcher, technician=tom, lat=41.95, lng=-87.6, now=now)
    assert queued_tasks(private_redis) == [recompute_technicians.name] * 2
    assert 0 < private_redis.client().pttl(background.COALESCE_KEY) <= real_window_ms


def test_the_worker_recomputes_marked_technicians_and_clears_only_what_it_saw(
    celery_worker, settings, dispatcher, tom, tina, make_call
):
    settings.CELERY_BROKER_URL = celery_worker
    # The worker's clock is the real one, so these calls are today's.
    today = timezone.localdate()
    mine, theirs = make_call(tom, scheduled_day=today), make_call(tina, scheduled_day=today)
    technician_status_update(user=dispatcher, technician=tom, lat=41.95, lng=-87.7)
    marked = Technician.objects.filter(needs_recompute_since__isnull=False)
    assert wait_for(lambda: not marked.exists()), "the worker did not clear the marker"
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.eta is not None and theirs.eta is None  # only the marked queue

    # A mark made after the recompute read the markers survives its clearing.
    first = local(9, 0)
    background.technicians_mark_for_recompute([tina.pk], first)
    read = list(marked.values_list("id", "needs_recompute_since"))
    background.technicians_mark_for_recompute([tina.pk], first)  # same instant, later change
    background._clear_marks(read)
    tina.refresh_from_db()
    assert tina.needs_recompute_since == first + timedelta(microseconds=1)
