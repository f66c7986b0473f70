"""Technician status and location, as the technician or a dispatcher reports them."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from common import clock, roles
from common.errors import InvalidInput, NotAllowed
from dispatch.models import ServiceCall
from dispatch.planning.routes import WORKING_STATUSES
from dispatch.services import background
from dispatch.services.etas import etas_refresh_technicians
from technicians.models import Technician


def _require_status_updater(user, technician: Technician) -> None:
    if roles.can_manage_technicians(user):
        return
    me = roles.technician_of(user)
    if me is None or me.pk != technician.pk:
        raise NotAllowed("Only dispatchers, managers and the technician themselves can do this.")


def _validate(*, status: str | None, lat: float | None, lng: float | None) -> None:
    if status is not None and status not in Technician.Status.values:
        choices = ", ".join(Technician.Status.values)
        raise InvalidInput(f"Unknown status {status!r}; use one of {choices}.", field="status")
    if (lat is None) != (lng is None):
        raise InvalidInput("Give both latitude and longitude, or neither.", field="lat")
    if lat is not None and not -90 <= lat <= 90:
        raise InvalidInput("Latitude must be between -90 and 90.", field="lat")
    if lng is not None and not -180 <= lng <= 180:
        raise InvalidInput("Longitude must be between -180 and 180.", field="lng")


@transaction.atomic
def technician_status_update(
    *,
    user,
    technician: Technician,
    status: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
    now: datetime | None = None,
) -> Technician:
    """Set a technician's status and/or last known location, then re-plan today's queue.

    A new status re-plans the queue at once (it changes how the day starts: en route, on site).
    A location alone (a phone reports one every few seconds) marks the queue for the coalesced
    background recompute: many pings within a second cost one recompute, and with the broker
    down the queue is re-planned here after the commit instead.

    Writes the technician row and the ETA fields of their queue, nothing else.
    """
    _require_status_updater(user, technician)
    _validate(status=status, lat=lat, lng=lng)
    now = now or clock.now()
    # Locked like every queue change, so a concurrent move re-plans with the new position.
    tech = Technician.objects.select_for_update().get(pk=technician.pk)
    fields = []
    if status is not None:
        tech.status = status
        fields.append("status")
    if lat is not None:
        tech.last_lat, tech.last_lng, tech.last_seen_at = lat, lng, now
        fields += ["last_lat", "last_lng", "last_seen_at"]
    if status is not None:
        # updated_at (auto_now is only written when named) lets open boards notice the status.
        tech.save(update_fields=[*fields, "updated_at"])
        etas_refresh_technicians(technician_ids=[tech.pk], day=timezone.localdate(now), now=now)
    elif fields:
        tech.save(update_fields=fields)
        background.after_commit_recompute([tech.pk], now=now, inline_fallback=True)
    return tech


def technician_released(*, technician_id: int) -> None:
    """The call a technician was on their way to (or at) was taken from them or cancelled: they
    are free again, not shown "En route" for a call that is no longer theirs (issue 15).

    Called inside the move's or the cancel's transaction, which already holds the technician's
    lock (every queue change takes it first). A technician still under way on another call of
    theirs keeps their status.
    """
    tech = Technician.objects.get(pk=technician_id)
    if tech.status not in WORKING_STATUSES:
        return
    if ServiceCall.objects.filter(technician_id=tech.pk, status__in=WORKING_STATUSES).exists():
        return
    tech.status = Technician.Status.AVAILABLE
    # updated_at (auto_now is only written when named) lets open boards and phones notice.
    tech.save(update_fields=["status", "updated_at"])
