"""The one protocol for changing the board (docs/design.md, "Changing the board").

Every assign, unassign, move and reorder goes through `call_move`; `call_move_preview` runs the
same planning without writing. Steps: lock the affected technicians in id order, check the
client's version (``checks``), time both queues with the planning core and price the ripple
(``plan``), rewrite positions and ETA fields and write the events (``apply``), and enqueue
background work (escalation checks) only after commit.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, transaction

from common import clock, roles
from common.errors import Busy, InvalidInput, NotAllowed
from dispatch.services.background import enqueue
from dispatch.services.moves.apply import _apply
from dispatch.services.moves.checks import _require_asked_or_reason
from dispatch.services.moves.plan import _plan
from dispatch.services.moves.result import MovePlan, MoveResult, RippleEntry

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_PGCODES = {"40P01", "40001"}  # deadlock detected, serialization failure
MAX_ATTEMPTS = 4


__all__ = [
    "MovePlan",
    "MoveResult",
    "RippleEntry",
    "call_move",
    "call_move_preview",
    "call_move_within",
    "call_release_within",
    "with_retries",
]


# --- entry points -----------------------------------------------------------------------------


def call_move(
    *,
    user,
    call_id: int,
    technician_id: int | None,
    position: int | None,
    expected_version: int,
    reason: str = "",
    require_confirmation: bool = False,
    now: datetime | None = None,
) -> MoveResult:
    """Move a call; with `require_confirmation`, a harmful move is planned but not applied."""

    def attempt() -> MoveResult:
        with transaction.atomic():
            return call_move_within(
                user=user,
                call_id=call_id,
                technician_id=technician_id,
                position=position,
                expected_version=expected_version,
                reason=reason,
                require_confirmation=require_confirmation,
                now=now,
                wait_for_answer=True,
            )

    return with_retries(attempt)


def call_move_within(
    *,
    user,
    call_id: int,
    technician_id: int | None,
    position: int | None,
    expected_version: int,
    reason: str = "",
    require_confirmation: bool = False,
    now: datetime | None = None,
    wait_for_answer: bool = False,
) -> MoveResult:
    """The move inside a transaction the caller owns (and retries), e.g. resolving an escalation.

    `wait_for_answer`: refuse while a technician under way has a question about this move not
    yet due. The board's and the API's moves wait (`call_move`); a service acting on its own
    decision (a manager's rescue, a plan applied, a hand-off accepted) does not, and closes
    the question as overtaken."""
    plan = _plan(user, call_id, technician_id, position, expected_version, reason, now)
    if require_confirmation and plan.needs_confirmation:
        return MoveResult(plan, applied=False)
    now = now or clock.now()
    _require_asked_or_reason(plan, reason, now, wait_for_answer)
    _apply(plan, user, reason, now)
    # Escalation rules look at the new state once it is durable; a broker outage costs at most
    # its connect timeout and the beat's next run does the same check.
    transaction.on_commit(_check_escalations_soon)
    return MoveResult(plan, applied=True)


def call_release_within(
    *,
    user,
    call_id: int,
    expected_version: int,
    reason: str,
    now: datetime | None = None,
) -> MoveResult:
    """A technician gives their own call back to the unassigned list ("can't complete").

    The one exception to "technicians can't unassign": the call is theirs and they say why, so
    the dispatcher finds it waiting with the reason. Inside a transaction the caller owns.
    """
    if not reason.strip():
        raise InvalidInput("Say why the call can't be completed.", field="reason")
    plan = _plan(user, call_id, None, None, expected_version, reason, now, allow=_check_release)
    _apply(plan, user, reason, now or clock.now())
    transaction.on_commit(_check_escalations_soon)
    return MoveResult(plan, applied=True)


def _check_release(user, call, target, taking: bool, reason: str) -> None:
    if roles.can_move_any(user):
        return
    me = roles.technician_of(user)
    if me is None or call.technician_id != me.pk or taking:
        raise NotAllowed("Only the technician on the call can give it back this way.")


def _check_escalations_soon() -> None:
    if not settings.REDIS_URL:
        return  # no workers: `recompute_etas --every` runs the rules each minute instead
    from dispatch.tasks import check_escalations  # the tasks build on the services

    enqueue(check_escalations)


def call_move_preview(
    *,
    user,
    call_id: int,
    technician_id: int | None,
    position: int | None,
    expected_version: int,
    reason: str = "",
    now: datetime | None = None,
) -> MovePlan:
    """The ripple of a move, computed exactly as the move would, writing nothing: read without
    locks and outside a transaction (a preview that waited on a move's locks, or committed a
    transaction that wrote nothing, cost a drag's hover more than its answer)."""
    return _plan(user, call_id, technician_id, position, expected_version, reason, now, lock=False)


def with_retries(fn: Callable[[], T]) -> T:
    """Retry the whole transaction on deadlock or serialization failure, then give up politely."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return fn()
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) not in RETRYABLE_PGCODES:
                raise
            log.warning("move retry %s after %s", attempt + 1, exc.__cause__.pgcode)
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)  # noqa: S311 - jitter, not crypto
    raise Busy("The board is busy right now and the move was not made. Please try again.")
