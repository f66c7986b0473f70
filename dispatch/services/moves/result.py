"""What a move planned and did: the ripple entries, the plan, the result."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from common import roles
from dispatch.models import ServiceCall
from dispatch.planning.ripple import Ripple
from dispatch.planning.risk import risk_worse
from dispatch.selectors.queue_fields import (
    EtaFields,
)
from technicians.models import TechAsk, Technician


@dataclass(frozen=True)
class RippleEntry:
    call_id: int
    summary: str
    technician_id: int | None
    eta_before: datetime | None
    eta_after: datetime | None
    risk_before: str
    risk_after: str
    shift_minutes: float | None
    promise_broken: bool = False
    moved: bool = False

    @property
    def worsened(self) -> bool:
        return risk_worse(self.risk_before, self.risk_after)


@dataclass
class MovePlan:
    call: ServiceCall
    source_id: int | None
    target_id: int | None
    queues: dict[int, list[ServiceCall]]  # technician id -> calls in their new order
    after: dict[int, EtaFields]
    ripple: list[RippleEntry]
    takes_from_working_tech: bool
    kind: str
    version_before: int = 0
    warnings: list[str] = field(default_factory=list)  # eligibility, in words: a dispatcher's
    # override needs confirming ("missing skill: plumbing", "shift ends 17:00")
    target: Technician | None = None
    summary: Ripple = field(
        default_factory=Ripple
    )  # the planning core's ripple to every other call
    promised_shifted: list[int] = field(default_factory=list)  # promised ETAs moved past the
    # ripple-shift setting (the moved call's own included)
    # The technicians of both queues as read (locked) for the plan: the answer's columns.
    technicians: dict[int, Technician] = field(default_factory=dict)
    # Technicians under way whose next call changes: id -> (next call before, after).
    next_changed: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)
    # The latest ask about this call to the technician it touches (services/asks.py).
    ask: TechAsk | None = None

    def ask_state(self, now: datetime) -> str:
        """Where asking the technician under way stands, for the rule and the confirm panel:
        "" (nobody under way is touched), "none" (not asked about the call as it is now),
        "waiting" (asked, answer not yet due), "unanswered", "kept" or "agreed"."""
        if not (self.takes_from_working_tech or self.next_changed):
            return ""
        ask = self.ask
        about = "working" if self.takes_from_working_tech else "next_call"
        same_move = ask is not None and (ask.about, ask.to_technician_id) == (about, self.target_id)
        if not same_move or ask.call_version != self.version_before:
            return "none"  # never asked, asked about another move, or before the call changed
        if ask.status == "open":
            return "waiting" if now < ask.answer_by else "unanswered"
        return ask.status if ask.status in ("agreed", "kept") else "none"

    @property
    def asked_technician_id(self) -> int | None:
        """Who is asked about this move: the technician whose call is taken, else the first
        (by id) whose next call changes. One person is asked per move: a move touches two
        technicians at most, and when both are under way the one losing work is asked."""
        if self.takes_from_working_tech:
            return self.source_id
        return next(iter(self.next_changed), None)

    def ripple_for(self, user) -> list[RippleEntry]:
        """The ripple as this user may see it: a technician sees other queues anonymously."""
        if roles.is_office(user):
            return self.ripple
        me = roles.technician_of(user)
        own = me.pk if me else None
        return [
            e if e.moved or e.technician_id == own else replace(e, summary="A teammate's call")
            for e in self.ripple
        ]

    @property
    def needs_confirmation(self) -> bool:
        """A drop that hurts someone must be confirmed; a harmless one commits at once. Hurting
        includes running into overtime: the moved call's own (unless an emergency, where
        overtime is the price of going) or another call's."""
        hurts = any(e.worsened or e.promise_broken for e in self.ripple)
        asks = self.takes_from_working_tech or bool(
            self.warnings or self.promised_shifted or self.next_changed
        )
        return hurts or asks or bool(self.summary.overtime) or self._own_overtime

    @property
    def _own_overtime(self) -> bool:
        if self.call.priority == "emergency" or self.target_id is None:
            return False
        return self.after[self.call.pk].overtime and not self.call.overtime


@dataclass
class MoveResult:
    plan: MovePlan
    applied: bool

    @property
    def call(self) -> ServiceCall:
        return self.plan.call
