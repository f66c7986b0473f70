"""Writes to the on-call rota: a manager adds a span (technician, from, to) or removes one.

Each row records who added it and when; a removed span is kept with who removed it and when,
so the rota's history reads from the table. The door is ``rota_visible_to`` (managers only).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from common import clock
from common.errors import InvalidInput, NotFound
from dispatch.selectors.rota import live_shifts, rota_shift_get_for_user, rota_visible_to
from technicians.models import OnCallShift, Technician

LONGEST_SPAN = timedelta(days=7)
NOTE_LIMIT = 200


def _hm(value: datetime) -> str:
    return f"{timezone.localtime(value):%a %d %b %H:%M}"


def _check_span(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidInput(
            f"“To” ({_hm(ends_at)}) must be after “From” ({_hm(starts_at)}).", field="ends_at"
        )
    if ends_at - starts_at > LONGEST_SPAN:
        raise InvalidInput("An on-call span can be at most 7 days; add another.", field="ends_at")
    if ends_at <= now:
        raise InvalidInput(
            f"That span ended already ({_hm(ends_at)}); the rota is for what is coming.",
            field="ends_at",
        )


def on_call_add(
    *,
    user,
    technician_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
    now: datetime | None = None,
) -> OnCallShift:
    """Put a technician on call for their team from ``starts_at`` to ``ends_at``."""
    rota_visible_to(user)
    now = now or clock.now()
    if technician_id is None:
        raise InvalidInput("Choose who is on call.", field="technician")
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(
            f"The note is {len(note)} characters; keep it to {NOTE_LIMIT}.", field="note"
        )
    _check_span(starts_at, ends_at, now)
    with transaction.atomic():
        # The technician's row is the lock: two managers adding spans for them take turns.
        tech = Technician.objects.select_for_update().filter(pk=technician_id).first()
        if tech is None:
            raise NotFound(
                f"Technician {technician_id} was not found; choose one from the list.",
                field="technician",
            )
        clash = (
            live_shifts()
            .filter(technician=tech, starts_at__lt=ends_at, ends_at__gt=starts_at)
            .order_by("starts_at")
            .first()
        )
        if clash is not None:
            raise InvalidInput(
                f"{tech.name} is already on call {_hm(clash.starts_at)} to {_hm(clash.ends_at)}.",
                field="starts_at",
            )
        return OnCallShift.objects.create(
            technician=tech,
            team_id=tech.team_id,
            starts_at=starts_at,
            ends_at=ends_at,
            note=note,
            created_by=user,
            created_at=now,
        )


def on_call_remove(*, user, shift_id: int, now: datetime | None = None) -> OnCallShift:
    """Take a span off the rota (kept as the record: who removed it, and when)."""
    now = now or clock.now()
    with transaction.atomic():
        shift = rota_shift_get_for_user(user=user, shift_id=shift_id, for_update=True)
        shift.removed_by, shift.removed_at = user, now
        shift.save(update_fields=["removed_by", "removed_at"])
    return shift
