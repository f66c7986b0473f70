"""Celery tasks: thin wrappers that take ids and ISO strings and call one service.

Every task is idempotent (running one twice leaves identical data and writes nothing the second
time), acknowledged only once done (`acks_late`; a worker killed mid-run leaves it on the broker)
and retried with backoff. None is relied on for correctness: the beat runs them every minute.
"""

from __future__ import annotations

from datetime import date, datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from common import clock
from dispatch.services.background import (
    RECOMPUTE_TECHNICIANS,
    enqueue,
    heartbeat_beat,
    heartbeat_team_beat,
    technicians_recompute_marked,
)
from dispatch.services.backlog import backlog_check
from dispatch.services.durations import durations_learn
from dispatch.services.escalations import escalations_check
from dispatch.services.etas import etas_refresh_team, recompute_units
from dispatch.services.handoffs import handoff_offers_expire

TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


def _now(now_iso: str | None) -> datetime:
    if not now_iso:
        return clock.now()
    now = datetime.fromisoformat(now_iso)
    return now if timezone.is_aware(now) else timezone.make_aware(now)


# A team's part that waited in the queue this long is dropped (`expires`): the beat's next run
# does it with a fresher "now". So is one a SIGKILLed worker had reserved, when Redis gives it
# back an hour later (the visibility timeout): the minutes since have healed its team.
TEAM_EXPIRES_SECONDS = 55


def _day_and_today(day_iso: str | None, now: datetime) -> tuple[date, date]:
    today = timezone.localdate(now)
    return (date.fromisoformat(day_iso) if day_iso else today), today


@shared_task(**TASK_OPTIONS)
def recompute_day(day_iso: str | None = None, now_iso: str | None = None) -> int:
    """Recompute every open queue of a day (default: today) as of `now_iso` (default: now), in
    parts: one `recompute_team` task per team and one for calls of no team, so that several
    workers share the day. Returns how many parts were sent to the workers. A part that cannot
    be sent is run here; without a broker (REDIS_URL unset) every part runs here, in order."""
    now = _now(now_iso)
    day, _ = _day_and_today(day_iso, now)
    args = (day.isoformat(), now.isoformat())
    sent = 0
    for team_id in recompute_units():
        if not settings.REDIS_URL:  # no broker, no other workers: in order, here
            recompute_team.run(team_id, *args)
        elif enqueue(recompute_team, team_id, *args, expires=TEAM_EXPIRES_SECONDS):
            sent += 1
        else:  # the broker refused it: this worker does the part rather than skip it
            recompute_team.run(team_id, *args)
    return sent


@shared_task(**TASK_OPTIONS)
def recompute_team(
    team_id: int | None, day_iso: str | None = None, now_iso: str | None = None
) -> int:
    """One team's part of a day (None: the unassigned calls of no team): writes only the rows
    that changed and returns how many. For today, records the team's heartbeat; the day's
    heartbeat (the banner's) moves on once every part has been done as of a later time."""
    now = _now(now_iso)
    day, today = _day_and_today(day_iso, now)
    written = etas_refresh_team(team_id=team_id, day=day, now=now)
    if day == today:
        heartbeat_team_beat(team_id, now)
    return written


@shared_task(**TASK_OPTIONS)
def recompute_technicians(now_iso: str | None = None) -> int:
    """Recompute today's queue of every technician marked for it, clearing the marks it saw."""
    now = _now(now_iso)
    written = technicians_recompute_marked(now=now)
    heartbeat_beat(RECOMPUTE_TECHNICIANS, now)
    return written


@shared_task(**TASK_OPTIONS)
def check_escalations(now_iso: str | None = None) -> int:
    """Apply the auto-escalation rules once; returns escalations opened (never duplicates)."""
    return escalations_check(now=_now(now_iso))


@shared_task(**TASK_OPTIONS)
def check_backlog(now_iso: str | None = None) -> list[int]:
    """Raise, refresh or clear every team's backlog alert; returns [raised, cleared]."""
    raised, cleared = backlog_check(now=_now(now_iso))
    return [raised, cleared]


@shared_task(**TASK_OPTIONS)
def expire_handoff_offers(now_iso: str | None = None) -> int:
    """Close hand-off offers nobody answered in time (the dispatcher is told); returns how many."""
    return handoff_offers_expire(now=_now(now_iso))


@shared_task(**TASK_OPTIONS)
def learn_durations(now_iso: str | None = None) -> int:
    """Refit the learned job and drive spreads (nightly); returns the completed calls used."""
    return durations_learn(now=_now(now_iso)).calls


# The solver stops itself at the plan's limit (at most 120 s); this bounds a stuck one.
@shared_task(**{**TASK_OPTIONS, "max_retries": 2}, soft_time_limit=240, time_limit=300)
def plan_day(plan_id: int) -> str:
    """Compute a day plan asked for on the board or the API; returns its status."""
    from dispatch.services.day_plans import plan_compute

    return plan_compute(plan_id).status
