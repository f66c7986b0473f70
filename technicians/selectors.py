"""Reads for the technician's own day (`/me/`): their queue, offers, notices, calls to claim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Max, Q

from common import roles
from common.errors import NotAllowed
from dispatch.models import CallEvent, ServiceCall
from dispatch.planning.routes import WORKING_STATUSES
from dispatch.selectors.candidates import call_candidates
from dispatch.selectors.reports import local_start
from dispatch.selectors.rota import on_call_line, on_call_spans
from technicians.models import HandoffOffer, Skill, TechAsk, Technician

HANDOFF_KINDS = ("handoff_offered", "handoff_accepted", "handoff_declined", "handoff_expired")
# Changes to a technician's queue that someone else made: they hear about them here.
QUEUE_KINDS = ("assigned", "moved", "reordered", "cancelled")
NOTICE_LIMIT = 8
# A wait at the door shorter than this is not worth a second time on the card.
WAIT_WORTH_SAYING = timedelta(minutes=5)
# One action writes its events within a transaction: what one person did to one call inside
# this span is one notice (a call taken away is both its "moved" event and a "tech_notified").
SAME_ACTION = timedelta(seconds=5)
# Notices are news: what happened since the start of the day before the one shown. A hand-off
# accepted last week for today's call is in the call's history, not on the phone's first screen.
NOTICES_SINCE_DAYS = 1
CLAIMABLE_LIMIT = 10


@dataclass
class MyDay:
    technician: Technician
    day: date
    queue: list[ServiceCall]
    done: list[ServiceCall]
    offers_to_me: list[HandoffOffer]
    offers_from_me: dict[int, HandoffOffer]  # call id -> my open offer of it
    asks: list[TechAsk]  # the dispatcher's open questions about calls I am on
    notices: list[CallEvent]
    unassigned: list[ServiceCall]
    unassigned_count: int
    on_call: str = ""  # "On call until 08:00", from the rota (dispatch.selectors.rota)

    @property
    def unassigned_more(self) -> int:
        return self.unassigned_count - len(self.unassigned)

    @property
    def next_call(self) -> ServiceCall | None:
        return self.queue[0] if self.queue else None

    @property
    def later(self) -> list[ServiceCall]:
        """The queue after the next call."""
        return self.queue[1:]

    @property
    def only_one(self) -> bool:
        return len(self.queue) == 1

    @property
    def done_minutes(self) -> int | None:
        """Minutes on the jobs done today, as reported; None when none was (never a "?")."""
        reported = [c.actual_minutes for c in self.done if c.actual_minutes]
        return sum(reported) if reported else None


def technician_for_me(*, user) -> Technician:
    """The technician record behind `/me/`; anyone else is told where to go instead."""
    tech = roles.technician_of(user)
    if tech is None:
        raise NotAllowed("“My day” is for technicians. Office staff work from the board.")
    return tech


def my_day_get(*, user, day: date, now: datetime) -> MyDay:
    """Everything `/me/` shows, in a fixed number of queries whatever the day holds."""
    tech = technician_for_me(user=user)
    calls = list(
        ServiceCall.objects.filter(technician=tech, scheduled_day=day)
        .exclude(status="cancelled")
        .select_related("customer", "site")
        .order_by("position", "completed_at", "id")
    )
    offered = {o.call_id: o for o in _offers_from(tech)}
    unassigned, unassigned_count = _claimable(day, tech)
    queue = [c for c in calls if c.status in ServiceCall.QUEUED_STATUSES]
    for call in queue:
        call.open_offer = offered.get(call.pk)
        # "Done" suggests the time on the job so far; the technician corrects it.
        started = call.started_at if call.status == "on_site" else None
        call.minutes_so_far = max(1, round((now - started).total_seconds() / 60)) if started else ""
        call.starts_at = _starts_after_waiting(call)
    return MyDay(
        technician=tech,
        day=day,
        queue=queue,
        done=[c for c in calls if c.status == "completed"],
        offers_to_me=_offers_to(tech, now),
        offers_from_me=offered,
        asks=_open_asks(tech, queue),
        notices=notices_for_technician(technician=tech, day=day),
        unassigned=unassigned,
        unassigned_count=unassigned_count,
        on_call=on_call_line(on_call_spans([tech.pk], day, now)[tech.pk], now),
    )


def _starts_after_waiting(call: ServiceCall) -> datetime | None:
    """When work starts, if the technician would be at the door well before the window opens
    (an ETA of 07:16 for a 09:00 window reads as a promise nobody made): None otherwise."""
    if call.eta is None or call.planned_start is None:
        return None
    return call.planned_start if call.planned_start - call.eta >= WAIT_WORTH_SAYING else None


def _offers_to(tech: Technician, now: datetime) -> list[HandoffOffer]:
    offers = _open_offers_to(tech, now)
    for offer in offers:
        offer.fit = _fit_for(offer, tech, now)
    return offers


def _fit_for(offer: HandoffOffer, tech: Technician, now: datetime):
    """Where the call would land in my queue, from the candidates service (read-only): the
    Candidate, or the Excluded entry saying why it fits badly. Offers are few at a time."""
    candidates, excluded = call_candidates(
        user=offer.from_technician.user, call_id=offer.call_id, now=now, only_team=tech.team_id
    )
    return next((c for c in [*candidates, *excluded] if c.technician.pk == tech.pk), None)


def _open_offers_to(tech: Technician, now: datetime) -> list[HandoffOffer]:
    return list(
        # An offer of a call that changed since (moved, started) can no longer be accepted.
        HandoffOffer.objects.filter(to_technician=tech, status="open", expires_at__gt=now)
        .filter(call_version=F("call__version"))
        .select_related("call__customer", "call__site", "from_technician__user")
        .order_by("expires_at", "id")
    )


def _open_asks(tech: Technician, queue: list[ServiceCall]) -> list[TechAsk]:
    """The dispatcher's open questions to me that still stand (the call unchanged since): about
    the call I am on or my next call, so only asked while I am under way."""
    if not any(c.status in WORKING_STATUSES for c in queue):
        return []  # nobody asks a technician who is not under way: no query on most pages
    return list(
        TechAsk.objects.filter(technician=tech, status="open", call_version=F("call__version"))
        .select_related("call", "asked_by", "to_technician")
        .order_by("created_at", "id")
    )


def _offers_from(tech: Technician) -> list[HandoffOffer]:
    return list(
        HandoffOffer.objects.filter(from_technician=tech, status="open").select_related(
            "to_technician"
        )
    )


def _claimable(day: date, tech: Technician) -> tuple[list[ServiceCall], int]:
    """Unassigned calls of the day this technician has every skill for, soonest deadline first:
    the first CLAIMABLE_LIMIT of them (a phone is no place for the whole backlog) and the count."""
    calls = ServiceCall.objects.filter(
        scheduled_day=day, status="new", technician__isnull=True
    ).exclude(skills__in=Skill.objects.exclude(technicians=tech))
    shown = list(
        calls.select_related("customer", "site")
        .prefetch_related("skills")
        .order_by(F("deadline").asc(nulls_last=True), "id")[:CLAIMABLE_LIMIT]
    )
    return shown, len(shown) if len(shown) < CLAIMABLE_LIMIT else calls.count()


def notices_for_technician(*, technician: Technician, day: date) -> list[CallEvent]:
    """What others did that concerns this technician, oldest first, the last NOTICE_LIMIT since
    the day before and one per action: a call taken from them or moved in their queue by
    someone else, and hand-offs to or from them."""
    tid = technician.pk
    addressed = (
        Q(kind="tech_notified", payload__technician=tid)
        | Q(kind__in=HANDOFF_KINDS, payload__to_technician=tid)
        | Q(kind__in=HANDOFF_KINDS, payload__from_technician=tid)
        | (
            Q(kind__in=QUEUE_KINDS)
            & (Q(payload__before__technician=tid) | Q(payload__after__technician=tid))
            & ~Q(actor=technician.user)
            # An accepted hand-off is told once, by its own event, not again as a move.
            & ~Q(payload__reason__startswith="hand-off")
        )
    )
    since = local_start(day - timedelta(days=NOTICES_SINCE_DAYS))
    # Twice the limit read, so that after folding duplicates there are still enough to show.
    newest = list(
        CallEvent.objects.filter(addressed, call__scheduled_day=day, created_at__gte=since)
        .select_related("call", "actor", "actor__technician")  # notices name people
        .order_by("-created_at", "-id")[: NOTICE_LIMIT * 2]
    )
    return _one_per_action(reversed(newest))[-NOTICE_LIMIT:]


def _one_per_action(events) -> list[CallEvent]:
    """Oldest first, one notice per action: a `tech_notified` written beside the event it tells
    of (same call, same person, same moment) is dropped, the structured event kept."""
    kept: list[CallEvent] = []
    for event in events:
        twin = next(
            (
                k
                for k in reversed(kept)
                if k.call_id == event.call_id
                and k.actor_id == event.actor_id
                and abs(event.created_at - k.created_at) <= SAME_ACTION
                and "tech_notified" in (k.kind, event.kind)
            ),
            None,
        )
        if twin is None:
            kept.append(event)
        elif twin.kind == "tech_notified":
            kept[kept.index(twin)] = event
    return kept


def my_day_version(*, technician: Technician, day: date) -> str:
    """A cheap fingerprint of what people change on `/me/` (three aggregate queries, no rows): an
    open page polls it and reloads when someone acted. ETAs drifting with the clock are left out
    on purpose: a phone that jumped every minute would be unusable."""
    calls = ServiceCall.objects.filter(scheduled_day=day).filter(
        Q(technician=technician) | Q(technician__isnull=True, status="new")
    )
    c = calls.aggregate(n=Count("id"), u=Max("updated_at"))
    offers = HandoffOffer.objects.filter(
        Q(to_technician=technician) | Q(from_technician=technician)
    )
    o = offers.aggregate(n=Count("id"), c=Max("created_at"), r=Max("responded_at"))
    t = Technician.objects.filter(pk=technician.pk).values_list("updated_at", flat=True).get()
    parts = [c["n"], c["u"], o["n"], o["c"], o["r"], t]
    return "-".join(str(p.timestamp() if isinstance(p, datetime) else p) for p in parts)
