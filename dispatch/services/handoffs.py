"""Hand-offs: a technician offers one of their calls to a teammate, who accepts or declines.

Who could take it comes from the candidates service (skills, shift, resulting ETA, ripple).
Accepting is a move through the move service, made with the offering technician's authority
(the permission matrix lets a technician hand their own call to a teammate) at the version the
call had when offered, so a call the dispatcher changed meanwhile is never moved behind their
back. An offer nobody answers lapses after HANDOFF_OFFER_MINUTES and the dispatcher is told.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from common import clock, roles
from common.errors import InvalidInput, MoveConflict, NotFound
from dispatch.models import ServiceCall
from dispatch.selectors import call_get_for_user
from dispatch.selectors.candidates import Candidate, Excluded, call_candidates
from dispatch.selectors.handoffs import handoff_offer_get_for_user
from dispatch.services.events import event_record
from dispatch.services.moves import call_move_within, with_retries
from technicians.models import HandoffOffer, Technician

_EXPIRE_BATCH = 200


def handoff_options(
    *, user, call_id: int, now: datetime | None = None
) -> tuple[list[Candidate], list[Excluded]]:
    """Teammates who could take one of my calls (ranked) and those who can't, with reasons."""
    call = call_get_for_user(user=user, call_id=call_id)
    me = _require_owner(user, call)
    return call_candidates(user=user, call_id=call_id, now=now, only_team=me.team_id)


def handoff_offer(
    *,
    user,
    call_id: int,
    to_technician_id: int,
    expected_version: int,
    note: str = "",
    now: datetime | None = None,
) -> HandoffOffer:
    """Offer my call to a teammate who could take it; one open offer per call."""
    now = now or clock.now()
    call = call_get_for_user(user=user, call_id=call_id)
    me = _require_owner(user, call)
    target = _teammate(me, to_technician_id)
    _require_able(user, call, target, now)
    try:
        with transaction.atomic():
            call = _lock_call(me, call.pk, expected_version)
            offer = HandoffOffer.objects.create(
                call=call,
                from_technician=me,
                to_technician=target,
                call_version=call.version,
                note=note.strip()[:500],
                created_at=now,
                expires_at=now + timedelta(minutes=settings.HANDOFF_OFFER_MINUTES),
            )
            _record(offer, "handoff_offered", user, note=offer.note)
    except IntegrityError:
        open_offer = HandoffOffer.objects.filter(call_id=call.pk, status="open").first()
        to = open_offer.to_technician if open_offer else "a teammate"
        raise InvalidInput(f"Call #{call.pk} is already offered to {to}.") from None
    return offer


def handoff_accept(*, user, offer_id: int, now: datetime | None = None) -> HandoffOffer:
    """The teammate takes the call: it moves into their queue where it fits best."""
    now = now or clock.now()

    def attempt() -> HandoffOffer:
        with transaction.atomic():
            offer = _offer_for_response(user, offer_id, now)
            _move_to_acceptor(offer, now)
            return _close(offer, "accepted", "handoff_accepted", user, now)

    return with_retries(attempt)


def handoff_decline(
    *, user, offer_id: int, note: str = "", now: datetime | None = None
) -> HandoffOffer:
    """The teammate says no; the call stays where it is and the offerer is told."""
    now = now or clock.now()
    with transaction.atomic():
        offer = _offer_for_response(user, offer_id, now)
        return _close(offer, "declined", "handoff_declined", user, now, note=note)


def handoff_withdraw(*, user, offer_id: int, now: datetime | None = None) -> HandoffOffer:
    """The offerer changes their mind before anyone answered."""
    now = now or clock.now()
    with transaction.atomic():
        offer = handoff_offer_get_for_user(user=user, offer_id=offer_id, for_update=True)
        roles.require_offered_by(user, offer)
        _require_open(offer)
        offer.status, offer.responded_at = "withdrawn", now
        offer.save(update_fields=["status", "responded_at"])
        _record(offer, "handoff_declined", user, withdrawn=True)
        return offer


def handoff_offers_void(*, call: ServiceCall, user, why: str, now: datetime) -> int:
    """Withdraw open offers of a call the offerer has since started or given back; inside the
    caller's transaction. Returns how many."""
    offers = list(
        HandoffOffer.objects.select_for_update()
        .filter(call=call, status="open")
        .select_related("from_technician", "to_technician", "call")
    )
    for offer in offers:
        offer.status, offer.responded_at = "withdrawn", now
        offer.save(update_fields=["status", "responded_at"])
        _record(offer, "handoff_declined", user, withdrawn=True, reason=why)
    return len(offers)


def handoff_offers_expire(*, now: datetime | None = None) -> int:
    """Close every open offer past its expiry and tell the dispatcher; returns how many.

    Idempotent: a second run finds nothing open past its time. Rows another run holds are
    skipped, never waited for.
    """
    now = now or clock.now()
    expired = 0
    while True:
        with transaction.atomic():
            batch = list(
                HandoffOffer.objects.select_for_update(skip_locked=True)
                .filter(status="open", expires_at__lte=now)
                .select_related("from_technician", "to_technician")
                .order_by("expires_at", "id")[:_EXPIRE_BATCH]
            )
            for offer in batch:
                offer.status, offer.responded_at = "expired", now
                offer.save(update_fields=["status", "responded_at"])
                _record(offer, "handoff_expired", None)
        expired += len(batch)
        if len(batch) < _EXPIRE_BATCH:
            return expired


# --- helpers ----------------------------------------------------------------------------------


def _require_owner(user, call: ServiceCall) -> Technician:
    me = roles.require_can_hand_off(user, call)
    if call.status != "assigned":
        raise InvalidInput(
            f"Call #{call.pk} is {call.get_status_display().lower()}; only a call you have not "
            "set out for can be handed off. Ask the dispatcher."
        )
    return me


def _teammate(me: Technician, technician_id) -> Technician:
    try:
        target = Technician.objects.get(pk=technician_id)
    except (Technician.DoesNotExist, ValueError, TypeError):
        raise InvalidInput(
            f"Technician {technician_id} does not exist.", field="technician"
        ) from None
    if target.pk == me.pk:
        raise InvalidInput("Pick a teammate; the call is already yours.", field="technician")
    roles.require_can_hand_to(me, target)
    return target


def _require_able(user, call: ServiceCall, target: Technician, now: datetime) -> None:
    _, excluded = call_candidates(user=user, call_id=call.pk, now=now, only_team=target.team_id)
    for entry in excluded:
        if entry.technician.pk == target.pk:
            raise InvalidInput(f"{target} can't take call #{call.pk}: {entry.reason}.")


def _lock_call(me: Technician, call_id: int, expected_version: int) -> ServiceCall:
    Technician.objects.select_for_update().filter(pk=me.pk).values("id").get()
    call = ServiceCall.objects.select_for_update().get(pk=call_id)
    if call.version != expected_version or call.technician_id != me.pk:
        raise MoveConflict(f"Call #{call.pk} changed while you were looking. Reload and try again.")
    return call


def _offer_for_response(user, offer_id, now: datetime) -> HandoffOffer:
    """Only the teammate it was offered to may answer; to anyone else it does not exist."""
    offer = handoff_offer_get_for_user(user=user, offer_id=offer_id, for_update=True)
    roles.require_offered_to(user, offer)
    _require_open(offer)
    if offer.expires_at <= now:
        at = timezone.localtime(offer.expires_at).strftime("%H:%M")
        raise MoveConflict(f"This offer expired at {at}; the call was not moved.")
    return offer


def _require_open(offer: HandoffOffer) -> None:
    if offer.status != "open":
        raise MoveConflict(f"This offer was already {offer.get_status_display().lower()}.")


def _move_to_acceptor(offer: HandoffOffer, now: datetime) -> None:
    offerer = offer.from_technician.user
    position = _best_position(offer, now)
    try:
        call_move_within(
            user=offerer,
            call_id=offer.call_id,
            technician_id=offer.to_technician_id,
            position=position,
            expected_version=offer.call_version,
            reason=f"hand-off accepted by {offer.to_technician}",
            now=now,
        )
    except (MoveConflict, NotFound):
        raise MoveConflict(
            f"Call #{offer.call_id} changed since it was offered (it was moved or started), so "
            "the offer no longer stands. Nothing was moved."
        ) from None


def _best_position(offer: HandoffOffer, now: datetime) -> int:
    # Where the candidates service would put it; the end of the queue if it ranks them out.
    candidates, _ = call_candidates(
        user=offer.from_technician.user,
        call_id=offer.call_id,
        now=now,
        only_team=offer.from_technician.team_id,
    )
    for candidate in candidates:
        if candidate.technician.pk == offer.to_technician_id:
            return candidate.position
    return ServiceCall.objects.filter(
        technician_id=offer.to_technician_id,
        scheduled_day=offer.call.scheduled_day,
        status__in=ServiceCall.QUEUED_STATUSES,
    ).count()


def _close(offer, status: str, kind: str, user, now: datetime, **extra) -> HandoffOffer:
    offer.status, offer.responded_at = status, now
    offer.response_note = str(extra.get("note", "")).strip()[:500]
    offer.save(update_fields=["status", "responded_at", "response_note"])
    _record(offer, kind, user, **extra)
    return offer


def _record(offer: HandoffOffer, kind: str, actor, **extra) -> None:
    # Touching the offerer's row is how open boards notice (their fingerprint reads it), so the
    # dispatcher sees an offer come and go, expiry included, without a reload.
    Technician.objects.filter(pk=offer.from_technician_id).update(updated_at=timezone.now())
    event_record(
        call=offer.call,
        actor=actor,
        kind=kind,
        offer=offer.pk,
        from_technician=offer.from_technician_id,
        to_technician=offer.to_technician_id,
        from_name=offer.from_technician.name,
        to_name=offer.to_technician.name,
        expires_at=offer.expires_at,
        **extra,
    )
