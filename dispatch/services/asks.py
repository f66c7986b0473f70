"""Ask the technician first: before a move changes the day of a technician who is under way
(takes the call they are on, or changes the call they go to next), the dispatcher asks them on
their phone and they answer with one tap.

- The call they are on: "Can you still make #62 by 14:00?", "Yes, I'll make it" or "No, hand it
  over".
- Their next call: "Can you do #70 next, before #62?", "Yes, go ahead" or "No, keep my order".

The answer informs, it moves nothing: the dispatcher decides with the move service, which reads
the latest ask (`checks._require_asked_or_reason`). Once they agree, the move goes without more
ado; while the answer is not yet due (settings.TECH_ASK_MINUTES) nothing changes; otherwise
taking the call they are on needs a reason, as it always did. An ask is about the call as it
was when asked (its version): an open one is closed as overtaken when the call changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from common import clock, roles
from common.errors import InvalidInput, MoveConflict, NotAllowed, NotFound
from dispatch.models import ServiceCall
from dispatch.selectors.asks import ask_get_for_user
from dispatch.services.ask_events import ask_close, ask_record, asks_overtake
from dispatch.services.moves import MovePlan, call_move_preview
from technicians.models import ANSWERS, TechAsk, Technician


def tech_ask(
    *,
    user,
    call_id: int,
    expected_version: int,
    to_technician_id: int | None = None,
    position: int | None = None,
    now: datetime | None = None,
) -> TechAsk:
    """Ask the technician under way whom this move would touch; one open ask a call. The move
    is planned exactly as the board would (the preview), so the question names what changes."""
    now = now or clock.now()
    if to_technician_id not in (None, "") and position in (None, ""):
        position = 0  # the front, after any work under way: where the question matters most
    plan = call_move_preview(
        user=user,
        call_id=call_id,
        technician_id=to_technician_id,
        position=position,
        expected_version=expected_version,
        now=now,
    )  # the door, the move's own rules and the version check
    if not roles.can_take_from_working_tech(user):
        raise NotAllowed("Only a dispatcher or manager asks a technician about their day.")
    asked_id = plan.asked_technician_id
    if asked_id is None:
        raise InvalidInput(
            f"Nobody under way is affected by this move of call #{plan.call.pk}: make it directly."
        )
    try:
        with transaction.atomic():
            _lock_technician(asked_id)
            call = _lock(plan.call.pk, expected_version)
            # A question about the call as it was (moved or started since) no longer stands.
            why = "the call changed before an answer"
            asks_overtake(call=call, user=user, why=why, now=now, only_stale=True)
            ask = TechAsk.objects.create(
                call=call,
                technician=plan.technicians[asked_id],
                asked_by=user,
                about=TechAsk.About.WORKING if plan.takes_from_working_tech else "next_call",
                to_technician=plan.target,
                position=_place(plan),
                question=question_for(plan),
                call_version=call.version,
                created_at=now,
                answer_by=now + timedelta(minutes=settings.TECH_ASK_MINUTES),
            )
            ask_record(
                ask,
                "ask_sent",
                user,
                calls_locked=True,
                question=ask.question,
                answer_by=ask.answer_by,
            )
    except IntegrityError:
        open_ask = TechAsk.objects.filter(call_id=call_id, status="open").first()
        who = open_ask.technician if open_ask else "Someone"
        when = _hhmm(open_ask.answer_by) if open_ask else "soon"
        raise InvalidInput(
            f"{who} was already asked about call #{call_id}; the answer is due by {when}."
        ) from None
    return ask


def tech_ask_answer(
    *, user, ask_id, answer: str, note: str = "", now: datetime | None = None
) -> TechAsk:
    """The technician answers with one tap; the dispatcher's board and the call's history show
    it. A late answer still counts while the call is as it was when they were asked."""
    now = now or clock.now()
    with transaction.atomic():
        ask = ask_get_for_user(user=user, ask_id=ask_id)
        me = roles.technician_of(user)
        if me is None:
            raise NotAllowed("Only the technician asked answers; the office sees the answer.")
        if me.pk != ask.technician_id:
            raise NotFound(f"Ask {ask_id} was not found.")
        options = {value: status for value, status, _ in ANSWERS[ask.about]}
        if answer not in options:
            words = " or ".join(f"{v} ({w})" for v, _, w in ANSWERS[ask.about])
            raise InvalidInput(f"Answer {words}.", field="answer")
        # The technician, the call, then the ask: the order a move takes them in (it locks its
        # technicians, then the call, and closes the call's open ask), so an answer and a move
        # at once queue, never deadlock.
        _lock_technician(ask.technician_id)
        call = ServiceCall.objects.select_for_update(of=("self",)).get(pk=ask.call_id)
        ask = ask_get_for_user(user=user, ask_id=ask.pk, for_update=True)
        if ask.status != TechAsk.Status.OPEN:
            raise MoveConflict(f"You already answered: {ask.answer_words}.")
        stale = call.version != ask.call_version
        # A question about a call that has changed since is closed as such (and that is kept),
        # and the technician told there is nothing to answer.
        ask_close(ask, TechAsk.Status.OVERTAKEN if stale else options[answer], now, note=note)
        if stale:
            why = "the call changed before the answer"
            ask_record(ask, "ask_answered", user, answer="overtaken", why=why, calls_locked=True)
        else:
            ask_record(
                ask,
                "ask_answered",
                user,
                answer=ask.status,
                words=ask.answer_words,
                note=ask.answer_note,
                calls_locked=True,
            )
    if stale:
        raise MoveConflict(
            f"Call #{ask.call_id} changed since you were asked, so there is nothing to answer."
        )
    return ask


def question_for(plan: MovePlan) -> str:
    """The question in the trade's words. The call they are on: "Can you still make #62 by
    14:00?" (finish, on site; today, without a deadline). Their next call: whether it may go
    elsewhere, or whether they can do another one first."""
    call = plan.call
    if plan.takes_from_working_tech:
        verb = "finish" if call.status == "on_site" else "make"
        by = f"by {_hhmm(call.deadline)}" if call.deadline else "today"
        return f"Can you still {verb} #{call.pk} ({call.summary[:80]}) {by}?"
    before, after = plan.next_changed[plan.asked_technician_id]
    if before == call.pk:
        where = f"go to {plan.target.name}" if plan.target else "go back to the dispatcher"
        then = f" You would go on to #{after} next." if after else ""
        return f"Can #{call.pk} ({call.summary[:80]}) {where}?{then}"
    if after == call.pk:
        instead = f", before #{before}" if before else ""
        return f"Can you do #{call.pk} ({call.summary[:80]}) next{instead}?"
    return f"Can you do #{after} next, before #{before}? (#{call.pk} moves in your queue)"


# --- helpers ----------------------------------------------------------------------------------


def _place(plan: MovePlan) -> int | None:
    # Where the plan puts the call (the asked-for place, clamped to the queue), not the number
    # posted: a question names a real place.
    if plan.target_id is None:
        return None
    queue = plan.queues[plan.target_id]
    return next(i for i, c in enumerate(queue) if c.pk == plan.call.pk)


def _lock_technician(technician_id: int) -> None:
    # Its row is touched when the ask is recorded (how boards notice): taken first, like a move.
    Technician.objects.select_for_update().filter(pk=technician_id).values("id").get()


def _lock(call_id: int, expected_version: int) -> ServiceCall:
    call = ServiceCall.objects.select_for_update(of=("self",)).get(pk=call_id)
    if call.version != expected_version:
        raise MoveConflict(
            f"Someone else changed call #{call.pk} ({call.summary}) while you were looking. "
            "Check the call and try again."
        )
    return call


def _hhmm(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%H:%M") if moment else "?"
