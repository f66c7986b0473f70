"""Closing and recording asks (dispatch/services/asks.py): apart, because the move service
closes a call's open ask when it moves the call, and the asks service plans with the move
service."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from dispatch.models import ServiceCall
from dispatch.services.events import event_record
from technicians.models import TechAsk, Technician

MAX_NOTE = 500


def asks_overtake(
    *, call: ServiceCall, user, why: str, now: datetime, only_stale: bool = False
) -> int:
    """Close the call's open ask: it was moved, started, finished or given back before an answer
    came (`only_stale`: only one asked about an earlier version of the call). Inside the
    caller's transaction, with the call locked. Returns how many (0 or 1)."""
    asks = TechAsk.objects.select_for_update(of=("self",)).filter(call=call, status="open")
    if only_stale:
        asks = asks.exclude(call_version=call.version)
    asks = list(asks.select_related("technician", "to_technician"))
    for ask in asks:
        ask.call = call
        ask_close(ask, TechAsk.Status.OVERTAKEN, now)
        # No technician row touched: this runs under locks a move or a status change took, and
        # the asked technician's row may not be among them; their phone drops a stale question
        # by itself (it shows only questions about the call as it is).
        ask_record(
            ask, "ask_answered", user, answer="overtaken", why=why, calls_locked=True, touch=False
        )
    return len(asks)


def ask_close(ask: TechAsk, status: str, now: datetime, note: str = "") -> None:
    ask.status, ask.answered_at = status, now
    ask.answer_note = note.replace("\x00", "").strip()[:MAX_NOTE]
    ask.save(update_fields=["status", "answered_at", "answer_note"])


def ask_record(
    ask: TechAsk, kind: str, actor, calls_locked: bool = False, touch: bool = True, **extra
) -> None:
    # Touching the technician's row is how open boards and the technician's phone notice (their
    # fingerprints read it): the question arrives and the answer shows without a reload. The
    # caller holds that row's lock already (taken before the call's, as every move does).
    if touch:
        Technician.objects.filter(pk=ask.technician_id).update(updated_at=timezone.now())
    event_record(
        call=ask.call,
        actor=actor,
        kind=kind,
        calls_locked=calls_locked,
        ask=ask.pk,
        about=ask.about,
        asked_by=ask.asked_by_id,  # whose board shows the answer, whatever team it shows
        technician=ask.technician_id,
        technician_name=ask.technician.name,
        to_technician=ask.to_technician_id,
        to_name=ask.to_technician.name if ask.to_technician_id else "",
        **extra,
    )
