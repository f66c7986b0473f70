"""Rescue for a call at risk or late: the smallest change that brings it back on time.

Read-only advice over the planning core's rescue search (``dispatch.planning.rescue``: move it
earlier, give it to another technician, or swap it with a call that has slack), with every
option's ripple. When every option that saves the call hurts someone, the answer says so and
lists the least-bad ones. A chosen option is applied through the move service (a swap is two
moves in one transaction, ``dispatch.services.swaps.calls_swap``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from common import clock
from dispatch.models import ServiceCall
from dispatch.planning import rescue
from dispatch.planning.eta import classify_risk
from dispatch.selectors.candidates import (
    Excluded,
    call_open_get,
    call_world,
    excluded_of,
    needs_of,
    ripple_figures,
)
from dispatch.selectors.planning import PlanningWorld, stop_of_call, utc_datetime
from technicians.models import Technician

SHOWN = 6


@dataclass(frozen=True)
class RescueMove:
    call_id: int
    technician_id: int
    position: int  # 0-based
    expected_version: int


@dataclass(frozen=True)
class RescueOption:
    kind: str  # earlier | reassign | swap
    description: str
    technician: Technician  # who would serve the rescued call
    moves: list[RescueMove]
    arrival: datetime
    slack_minutes: float | None
    risk: str
    added_lateness_minutes: float
    turned_worse: list[int] = field(default_factory=list)
    promises_broken: int = 0
    shifted_calls: int = 0
    max_shift_minutes: float = 0.0
    ripple_words: str = "none"
    ripple_words_unnamed: str = "none"  # the same without call numbers, for technicians
    other_team: bool = False
    swap_with: int | None = None

    @property
    def on_time(self) -> bool:
        return self.risk != "late"

    @property
    def hurts(self) -> bool:
        return bool(self.added_lateness_minutes or self.turned_worse or self.promises_broken)


@dataclass
class Rescue:
    call: ServiceCall
    risk: str  # the call's risk now
    options: list[RescueOption]  # best first
    excluded: list[Excluded]

    @property
    def needed(self) -> bool:
        return self.risk in ("at_risk", "late")

    @property
    def clean(self) -> bool:
        return bool(self.options) and self.options[0].on_time and not self.options[0].hurts

    @property
    def verdict(self) -> str:
        if not self.needed:
            return f"Call #{self.call.pk} is on time; it needs no rescue."
        if self.clean:
            return f"Rescue: {self.options[0].description}."
        if any(o.on_time for o in self.options):
            return "No rescue without breaking another promise; the least-bad options are below."
        if self.options:
            return "No change brings this call back on time; the least-late options are below."
        # The reasons inline: a page may show no list below to point at.
        nobody = "No change brings this call back on time, and nobody else can take it"
        if not self.excluded:
            return f"{nobody}."
        why = "; ".join(f"{e.technician.name}: {e.reason}" for e in self.excluded[:3])
        more = f" (and {len(self.excluded) - 3} more)" if len(self.excluded) > 3 else ""
        return f"{nobody} ({why}{more})."


def call_rescue(*, user, call_id: int, now: datetime | None = None) -> Rescue:
    """The rescue options for a call at risk or late, best first (see the module docstring)."""
    now = now or clock.now()
    call = call_open_get(user=user, call_id=call_id, office_only=True)
    plan, home = call_world(user, call, now, with_call_skills=True)
    risk = _current_risk(plan, call)
    if risk not in ("at_risk", "late"):
        return Rescue(call, risk, [], [])
    found, excluded = rescue.rescue_search(
        plan.world,
        stop_of_call(call),
        needs_of(call),
        emergency=call.priority == "emergency",
        home_team=home,
    )
    options = [_option(plan, call, o) for o in found[:SHOWN]]
    return Rescue(call, risk, options, excluded_of(plan, excluded))


def _current_risk(plan: PlanningWorld, call: ServiceCall) -> str:
    leg = rescue.leg_of(plan.world, call.pk)
    if leg is None:
        return call.risk or "ok"
    return classify_risk(leg, plan.world.rules.risk_margin)


def _option(plan: PlanningWorld, call: ServiceCall, found: rescue.RescueOption) -> RescueOption:
    tech = plan.techs[found.technician_id]
    moves = [
        RescueMove(
            m.call_id,
            m.technician_id,
            m.position,
            call.version if m.call_id == call.pk else plan.versions[m.call_id],
        )
        for m in found.moves
    ]
    leg = found.leg
    return RescueOption(
        kind=found.kind,
        description=_description(plan, call, found),
        technician=tech,
        moves=moves,
        arrival=utc_datetime(leg.arrival),
        slack_minutes=None if leg.slack is None else round(leg.slack / 60.0, 1),
        risk=found.risk,
        other_team=found.other_team,
        swap_with=found.swap_with,
        **ripple_figures(found.ripple),
    )


def _description(plan: PlanningWorld, call: ServiceCall, found: rescue.RescueOption) -> str:
    tech = plan.techs[found.technician_id]
    first = found.moves[0]
    team = f" of the {tech.team.name} team" if found.other_team else ""
    if found.kind == "earlier":
        return f"move #{call.pk} up to place {first.position + 1} in {tech.name}'s queue"
    if found.kind == "reassign":
        return f"give #{call.pk} to {tech.name}{team} (place {first.position + 1})"
    back = found.moves[1]
    mine = plan.techs[back.technician_id]
    return (
        f"swap #{call.pk} with {tech.name}'s #{found.swap_with}: #{call.pk} goes to {tech.name} "
        f"(place {first.position + 1}), #{found.swap_with} to {mine.name} "
        f"(place {back.position + 1})"
    )
