"""Ask the technician first: before a call is taken from a technician already on the way to
it (or at it), the dispatcher asks them on their phone, "Can you still make #62 by 14:00?",
and they answer with one tap: "Yes, I'll make it" or "No, hand it over".

The answer informs, it does not move anything: the dispatcher decides with the move service,
which reads the latest ask (`checks._require_asked_or_reason`). "Hand it over" lets the move go
without a reason; while the question is open and not yet due (settings.TECH_ASK_MINUTES) the
call is not taken; after that, or after "yes", taking it needs a reason, as it always did. An
open ask is closed as overtaken when the call moves, starts, finishes or is given back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from common import clock, roles
from common.errors import InvalidInput, MoveConflict, NotAllowed, NotFound
from dispatch.models import ServiceCall
from dispatch.planning.routes import WORKING_STATUSES
from dispatch.selectors import call_get_for_user
from dispatch.selectors.asks import ask_get_for_user
from dispatch.services.events import event_record
from technicians.models import TechAsk, Technician

ANSWERS = {
    "yes": TechAsk.Status.CAN_MAKE_IT,
    "hand_over": TechAsk.Status.HAND_OVER,
}
MAX_NOTE = 500


def tech_ask(
    *,
    user,
    call_id: int,
    expected_version: int,
    to_technician_id: int | None = None,
    now: datetime | None = None,
) -> TechAsk:
    """Ask the technician working a call whether they can still make it; one open ask a call."""
    now = now or clock.now()
    call_get_for_user(user=user, call_id=call_id, related=False)  # the door: 404 outside reach
    if not roles.can_take_from_working_tech(user):
        raise NotAllowed("Only a dispatcher or manager asks a technician about their call.")
    target = _target(to_technician_id)
    try:
        with transaction.atomic():
            call = _lock(call_id, expected_version)
            if target is not None and target.pk == call.technician_id:
                raise InvalidInput(
                    f"Call #{call.pk} is already {target}'s; pick someone else or leave it.",
                    field="technician",
                )
            ask = TechAsk.objects.create(
                call=call,
                technician=call.technician,
                asked_by=user,
                to_technician=target,
                question=question_for(call),
                call_status=call.status,
                created_at=now,
                answer_by=now + timedelta(minutes=settings.TECH_ASK_MINUTES),
            )
            _record(
                ask,
                "ask_sent",
                user,
                calls_locked=True,
                question=ask.question,
                answer_by=ask.answer_by,
            )
    except IntegrityError:
        open_ask = TechAsk.objects.filter(call_id=call_id, status="open").first()
        when = _hhmm(open_ask.answer_by) if open_ask else "soon"
        raise InvalidInput(
            f"{call.technician} was already asked about call #{call_id}; their answer is due by "
            f"{when}."
        ) from None
    return ask


def tech_ask_answer(
    *, user, ask_id, answer: str, note: str = "", now: datetime | None = None
) -> TechAsk:
    """The technician answers with one tap; the dispatcher's board and the call's history show
    it. A late answer still counts while nobody has acted on the call."""
    now = now or clock.now()
    if answer not in ANSWERS:
        raise InvalidInput("Answer yes (you'll make it) or hand_over.", field="answer")
    with transaction.atomic():
        ask = ask_get_for_user(user=user, ask_id=ask_id, for_update=True)
        me = roles.technician_of(user)
        if me is None or me.pk != ask.technician_id:
            raise NotFound(f"Ask {ask_id} was not found.")
        if ask.status != TechAsk.Status.OPEN:
            raise MoveConflict(f"You already answered: {ask.get_status_display()}.")
        call = ServiceCall.objects.select_for_update(of=("self",)).get(pk=ask.call_id)
        if call.technician_id != ask.technician_id or call.status not in WORKING_STATUSES:
            _close(ask, TechAsk.Status.OVERTAKEN, now)
            raise MoveConflict(
                f"Call #{call.pk} changed since you were asked, so there is nothing to answer."
            )
        _close(ask, ANSWERS[answer], now, note=note)
        _record(
            ask,
            "ask_answered",
            user,
            answer=answer,
            words=ask.get_status_display(),
            note=ask.answer_note,
            calls_locked=True,
        )
    return ask


def asks_overtake(*, call: ServiceCall, user, why: str, now: datetime) -> int:
    """Close the call's open ask: it was moved, started, finished or given back before an answer
    came. Inside the caller's transaction, with the call locked. Returns how many (0 or 1)."""
    asks = list(TechAsk.objects.select_for_update().filter(call=call, status="open"))
    for ask in asks:
        ask.call = call
        _close(ask, TechAsk.Status.OVERTAKEN, now)
        _record(ask, "ask_answered", user, answer="overtaken", why=why, calls_locked=True)
    return len(asks)


def question_for(call: ServiceCall) -> str:
    """ "Can you still make #62 by 14:00?" in the trade's words: make it on the way, finish it
    on site; by the deadline, or today when there is none."""
    verb = "finish" if call.status == "on_site" else "make"
    by = f"by {_hhmm(call.deadline)}" if call.deadline else "today"
    return f"Can you still {verb} #{call.pk} ({call.summary[:80]}) {by}?"


# --- helpers ----------------------------------------------------------------------------------


def _target(technician_id) -> Technician | None:
    if technician_id in (None, ""):
        return None
    try:
        return Technician.objects.get(pk=int(technician_id))
    except (Technician.DoesNotExist, ValueError, TypeError):
        raise InvalidInput(
            f"Technician {technician_id} does not exist.", field="technician"
        ) from None


def _lock(call_id: int, expected_version: int) -> ServiceCall:
    call = (
        ServiceCall.objects.select_for_update(of=("self",))
        .select_related("technician")
        .get(pk=call_id)
    )
    if call.version != expected_version:
        raise MoveConflict(
            f"Someone else changed call #{call.pk} ({call.summary}) while you were looking. "
            "Check the call and try again."
        )
    if call.status not in WORKING_STATUSES:
        raise InvalidInput(
            f"Call #{call.pk} is {call.get_status_display().lower()}, not under way: nobody is on "
            "the way to ask. Move it directly."
        )
    return call


def _close(ask: TechAsk, status: str, now: datetime, note: str = "") -> None:
    ask.status, ask.answered_at = status, now
    ask.answer_note = note.replace("\x00", "").strip()[:MAX_NOTE]
    ask.save(update_fields=["status", "answered_at", "answer_note"])


def _record(ask: TechAsk, kind: str, actor, calls_locked: bool = False, **extra) -> None:
    # Touching the technician's row is how open boards and the technician's phone notice (their
    # fingerprints read it): the question arrives and the answer shows without a reload.
    Technician.objects.filter(pk=ask.technician_id).update(updated_at=timezone.now())
    event_record(
        call=ask.call,
        actor=actor,
        kind=kind,
        calls_locked=calls_locked,
        ask=ask.pk,
        technician=ask.technician_id,
        technician_name=ask.technician.name,
        to_technician=ask.to_technician_id,
        to_name=ask.to_technician.name if ask.to_technician_id else "",
        **extra,
    )


def _hhmm(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%H:%M") if moment else "?"
