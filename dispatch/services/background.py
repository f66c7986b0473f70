"""Background work as the web side sees it: sending tasks without ever hanging a request, the
coalesced recompute of technicians whose queues changed, and the heartbeat behind the "background
updates delayed" banner.

Sending never waits on the broker longer than its connect timeout and never raises: a failure is
logged and `enqueue` returns False. Correctness never depends on a task being delivered (Redis
may take an hour to redeliver one a killed worker held): a technician whose queue needs a
recompute carries a marker in the database, and the beat's minute-by-minute runs heal whatever a
lost task left. Without REDIS_URL there is no broker at all and tasks run here, inline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial, reduce
from operator import or_
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from kombu.pools import producers
from redis.backoff import NoBackoff
from redis.retry import Retry

from common import clock
from config.celery import app as celery_app
from dispatch.models import Heartbeat
from dispatch.services.etas import etas_refresh_technicians, recompute_units
from technicians.models import Technician

if TYPE_CHECKING:
    from celery import Task

log = logging.getLogger(__name__)

# Heartbeat names, one row per job. The banner reads the day-wide recompute's.
RECOMPUTE = "recompute"
RECOMPUTE_TECHNICIANS = "recompute_technicians"
# Many changes within this window cause one recompute_technicians task. The task is sent with a
# countdown no shorter than the window, so it starts after every mark the window let through.
COALESCE_KEY = "dispatch:coalesce:recompute_technicians"
COALESCE_MS = 1000
COALESCE_COUNTDOWN = COALESCE_MS / 1000
# "Delayed since" when a broker is configured but no recompute has ever succeeded.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)
_CLEAR_BATCH = 500


# --- heartbeat -------------------------------------------------------------------------------


# The banner's heartbeat as the API's header reads it on every response: from the shared cache,
# written through by `heartbeat_beat` once it commits; a missed write lives HEARTBEAT_CACHE_SECONDS.
HEARTBEAT_CACHE_KEY = "heartbeat:recompute"
HEARTBEAT_CACHE_SECONDS = 10
_NO_HEARTBEAT = "none"  # cached "no row yet" (a miss is None)


def heartbeat_beat(name: str, now: datetime) -> None:
    """Record that job `name` finished successfully at `now` (one upsert)."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, last_success_at=now)],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["last_success_at"],
    )
    if name == RECOMPUTE:
        # Dropped now (a read in this transaction sees the new row), set once it is durable.
        cache.delete(HEARTBEAT_CACHE_KEY)
        transaction.on_commit(lambda: cache.set(HEARTBEAT_CACHE_KEY, now, HEARTBEAT_CACHE_SECONDS))


# Today's recompute is done in parts, one per team (dispatch/services/etas.py), each recording a
# heartbeat of its own; the day's (RECOMPUTE, the banner's) is the oldest part's, so "fresh"
# means every team's queues were recomputed that recently, not just the team that ran last.
def heartbeat_team_name(team_id: int | None) -> str:
    return f"{RECOMPUTE}:team:{'none' if team_id is None else team_id}"


def _heartbeat_forward(name: str, at: datetime) -> None:
    """Move job `name`'s heartbeat on to `at`, never back (a late, older run changes nothing)."""
    forward = Heartbeat.objects.filter(name=name, last_success_at__lt=at)
    if forward.update(last_success_at=at):
        return
    _, created = Heartbeat.objects.get_or_create(name=name, defaults={"last_success_at": at})
    if not created:  # there already, or created meanwhile by another part: forward only
        forward.update(last_success_at=at)


def heartbeat_team_beat(team_id: int | None, now: datetime) -> datetime | None:
    """Record that one team's part of today's recompute (None: the calls of no team) finished
    as of `now`, then move the day's heartbeat on to the oldest part's once every current part
    has one. Returns the day's heartbeat when this moved it.

    Each part reads the others after its own write committed, so whichever part finishes last
    sees them all: the day's heartbeat cannot stay behind a run whose every part succeeded.
    """
    _heartbeat_forward(heartbeat_team_name(team_id), now)
    names = [heartbeat_team_name(unit) for unit in recompute_units()]
    beats = dict(
        Heartbeat.objects.filter(name__in=[*names, RECOMPUTE]).values_list(
            "name", "last_success_at"
        )
    )
    if any(name not in beats for name in names):
        return None  # a part has never been done: the day is not fresh at any time yet
    oldest = min(beats[name] for name in names)
    if beats.get(RECOMPUTE) is not None and beats[RECOMPUTE] >= oldest:
        return None
    _heartbeat_forward(RECOMPUTE, oldest)
    cache.delete(HEARTBEAT_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(HEARTBEAT_CACHE_KEY))
    return oldest


def _last_recompute() -> datetime | None:
    cached = cache.get(HEARTBEAT_CACHE_KEY)
    if cached is not None:
        return None if cached == _NO_HEARTBEAT else cached
    last = (
        Heartbeat.objects.filter(name=RECOMPUTE).values_list("last_success_at", flat=True).first()
    )
    cache.set(HEARTBEAT_CACHE_KEY, last or _NO_HEARTBEAT, HEARTBEAT_CACHE_SECONDS)
    return last


@dataclass(frozen=True)
class BackgroundStatus:
    last_recompute_at: datetime | None
    # None while background updates are current; NEVER if no recompute has run yet.
    delayed_since: datetime | None

    @property
    def never_ran(self) -> bool:
        return self.delayed_since == NEVER


def background_status(now: datetime | None = None) -> BackgroundStatus:
    """The last successful recompute and, when it is older than BACKGROUND_DELAY_MINUTES, the
    time background updates have been delayed since (from the cache, else one query)."""
    return background_status_at(last=_last_recompute(), now=now or clock.now())


def background_status_at(*, last: datetime | None, now: datetime) -> BackgroundStatus:
    """The status given the last successful recompute (read elsewhere, e.g. with the board's
    fingerprint in one query)."""
    if last is None:
        # In-process mode has no workers to wait for; with a broker, nothing has run yet.
        return BackgroundStatus(None, NEVER if settings.REDIS_URL else None)
    if now - last > timedelta(minutes=settings.BACKGROUND_DELAY_MINUTES):
        return BackgroundStatus(last, last)
    return BackgroundStatus(last, None)


def heartbeat_delayed_since(now: datetime | None = None) -> datetime | None:
    """When background updates have been delayed since, or None while they are current."""
    return background_status(now).delayed_since


# --- sending tasks ---------------------------------------------------------------------------

# Per-process connections, one per broker URL (tests point the web side at other brokers).
_publishers: dict[str, object] = {}
_redis_clients: dict[str, redis.Redis] = {}


def _in_process() -> bool:
    return not settings.REDIS_URL


def _timeout() -> float:
    return float(settings.CELERY_BROKER_CONNECTION_TIMEOUT)


def _publisher(url: str):
    """A broker connection for the web side: bounded timeouts and no retries, ever. (Workers and
    beat keep Celery's reconnecting defaults, so they come back by themselves with Redis.)"""
    conn = _publishers.get(url)
    if conn is None:
        conn = celery_app.connection_for_write(
            url,
            connect_timeout=_timeout(),
            transport_options={
                "max_retries": 0,
                "socket_timeout": _timeout(),
                "socket_connect_timeout": _timeout(),
            },
        )
        _publishers[url] = conn
    return conn


def _redis(url: str):
    client = _redis_clients.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url,
            socket_timeout=_timeout(),
            socket_connect_timeout=_timeout(),
            retry=Retry(NoBackoff(), 0),
        )
        _redis_clients[url] = client
    return client


def _run_inline(task: Task, args: tuple, kwargs: dict) -> bool:
    try:
        task.run(*args, **kwargs)
    except Exception:
        log.exception("Background task %s failed (run in-process)", task.name)
        return False
    return True


def enqueue(
    task: Task, *args, countdown: float | None = None, expires: float | None = None, **kwargs
) -> bool:
    """Send `task` (the task object, imported: a renamed task breaks at import, not in a worker)
    to the workers; True once it is on the broker (or, without one, done).

    Never raises and never hangs: a broker that is down or slow costs at most its connect
    timeout (CELERY_BROKER_CONNECTION_TIMEOUT), is logged, and returns False. `expires`
    (seconds): a worker that gets the task later drops it.
    """
    if _in_process():
        return _run_inline(task, args, kwargs)
    try:
        with producers[_publisher(settings.CELERY_BROKER_URL)].acquire(
            block=True, timeout=_timeout()
        ) as producer:
            celery_app.send_task(
                task.name,
                args=args,
                kwargs=kwargs,
                countdown=countdown,
                expires=expires,
                retry=False,
                producer=producer,
            )
    except Exception as exc:  # whatever the broker does, the request carries on
        log.warning("Could not enqueue %s (%s); the periodic run will catch up", task.name, exc)
        return False
    return True


def _coalesce(key: str, window_ms: int) -> bool | None:
    """True: this caller opened the window and must send the task; False: a task sent within the
    window will see this change too; None: Redis cannot be reached."""
    try:
        return bool(_redis(settings.CELERY_BROKER_URL).set(key, "1", nx=True, px=window_ms))
    except Exception as exc:
        log.warning("Could not reach Redis to coalesce %s (%s)", key, exc)
        return None


# --- the coalesced recompute of marked technicians -------------------------------------------


def technicians_mark_for_recompute(ids: Iterable[int], now: datetime) -> int:
    """Mark these technicians' queues as needing a background recompute (one UPDATE).

    The marker only moves forward (at least 1 microsecond per mark), so a recompute that clears
    the value it read never clears a mark made after it read.
    """
    ids = list(ids)
    if not ids:
        return 0
    now_value = Value(now, output_field=DateTimeField())
    bumped = F("needs_recompute_since") + timedelta(microseconds=1)
    return Technician.objects.filter(id__in=ids).update(
        needs_recompute_since=Greatest(
            now_value, Coalesce(bumped, now_value, output_field=DateTimeField())
        )
    )


def _clear_marks(marks: list[tuple[int, datetime]]) -> None:
    # Compare-and-clear: a technician marked again meanwhile keeps the newer mark.
    for start in range(0, len(marks), _CLEAR_BATCH):
        batch = marks[start : start + _CLEAR_BATCH]
        unchanged = reduce(or_, (Q(id=pk, needs_recompute_since=v) for pk, v in batch))
        Technician.objects.filter(unchanged).update(needs_recompute_since=None)


def technicians_recompute_marked(
    *, now: datetime | None = None, technician_ids: Iterable[int] | None = None
) -> int:
    """Recompute today's queue of every marked technician (or of these, if marked) and clear
    the marks it saw; returns the rows written."""
    now = now or clock.now()
    marked = Technician.objects.filter(needs_recompute_since__isnull=False)
    if technician_ids is not None:
        marked = marked.filter(id__in=list(technician_ids))
    marks = list(marked.order_by("id").values_list("id", "needs_recompute_since"))
    if not marks:
        return 0
    written = etas_refresh_technicians(
        technician_ids=[pk for pk, _ in marks], day=timezone.localdate(now), now=now
    )
    _clear_marks(marks)
    return written


def _request_recompute(fallback_ids: list[int] | None) -> None:
    """After commit: one coalesced recompute_technicians task, or (broker down) the fallback."""
    from dispatch.tasks import recompute_technicians  # the tasks module imports this one

    if _in_process():
        enqueue(recompute_technicians)
        return
    opened = _coalesce(COALESCE_KEY, COALESCE_MS)
    if opened is False:
        return  # a task already on its way starts after this change committed
    if opened and enqueue(recompute_technicians, countdown=COALESCE_COUNTDOWN):
        return
    if fallback_ids:
        # No broker: recompute here rather than leave the queue stale until Redis returns.
        try:
            technicians_recompute_marked(technician_ids=fallback_ids)
        except Exception:
            log.exception("In-process recompute of technicians %s failed", fallback_ids)


def after_commit_recompute(
    technician_ids: Iterable[int | None],
    *,
    now: datetime | None = None,
    inline_fallback: bool = False,
) -> None:
    """Mark these technicians' queues for a background recompute, in the caller's transaction,
    and once it commits ask for one: at most one task a second however many changes there are.

    With `inline_fallback`, a broker that cannot be reached means the marked queues are
    recomputed here after the commit; otherwise the beat's next run heals them.
    """
    ids = sorted({pk for pk in technician_ids if pk is not None})
    if not ids:
        return
    technicians_mark_for_recompute(ids, now or clock.now())
    transaction.on_commit(partial(_request_recompute, ids if inline_fallback else None))
