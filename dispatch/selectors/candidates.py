"""Which technician should go: every able technician's best place for a call, and its cost.

Read-only advice: the day is loaded once through the planning adapter (every team's
technicians, own team first) and the answer comes from the planning core
(``dispatch.planning.choice``), the same functions the move preview and the simulated day use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from common import clock, roles
from common.errors import InvalidInput, NotAllowed
from dispatch.models import ServiceCall
from dispatch.planning import choice
from dispatch.planning.choice import Choice
from dispatch.planning.ripple import Ripple
from dispatch.selectors import board_team_default, call_get_for_user
from dispatch.selectors.planning import PlanningWorld, stop_of_call, utc_datetime, world_load
from technicians.models import Technician


@dataclass(frozen=True)
class Candidate:
    technician: Technician
    position: int  # 0-based, as the move service takes it
    arrival: datetime
    slack_minutes: float | None
    travel_added_minutes: float
    added_lateness_minutes: float  # summed over every other call
    turned_worse: list[int] = field(default_factory=list)  # calls that become at risk or late
    promises_broken: int = 0
    shifted_calls: int = 0  # other calls whose ETA moves later by more than RIPPLE_SHIFT_MINUTES
    max_shift_minutes: float = 0.0  # the most any other call's ETA moves later
    overtime: bool = False  # a cost shown (for an emergency it never excludes)
    other_team: bool = False
    ripple_words: str = "none"
    ripple_words_unnamed: str = "none"  # the same without call numbers, for technicians
    call_out: str = ""  # an on-call technician sent outside their shift: "call-out: on call ..."

    @property
    def hurts(self) -> bool:
        return bool(self.added_lateness_minutes or self.turned_worse or self.promises_broken)


@dataclass(frozen=True)
class Excluded:
    technician: Technician
    reason: str


def ripple_figures(ripple: Ripple) -> dict:
    """A ripple's figures as every answer shows them (candidates, rescue options)."""
    return {
        "added_lateness_minutes": round(ripple.added_lateness / 60.0, 1),
        "turned_worse": list(ripple.turned_worse),
        "promises_broken": len(ripple.promises_broken),
        "shifted_calls": ripple.shifted_calls,
        "max_shift_minutes": ripple.max_shift_minutes,
        "ripple_words": ripple.words(),
        "ripple_words_unnamed": ripple.words(ids=False),
    }


def candidate_of(plan: PlanningWorld, found: Choice) -> Candidate:
    leg = found.insertion.leg
    return Candidate(
        technician=plan.techs[found.technician_id],
        position=found.position,
        arrival=utc_datetime(leg.arrival),
        slack_minutes=None if leg.slack is None else round(leg.slack / 60.0, 1),
        travel_added_minutes=round(found.insertion.travel_added / 60.0, 1),
        overtime=found.overtime,
        other_team=found.other_team,
        call_out=found.call_out,
        **ripple_figures(found.ripple),
    )


def excluded_of(plan: PlanningWorld, excluded: list[tuple[int, str]]) -> list[Excluded]:
    return [Excluded(plan.techs[tech_id], reason) for tech_id, reason in excluded]


# --- whose day is asked -----------------------------------------------------------------------


def home_team_id(user, call: ServiceCall) -> int | None:
    """The call's team: its technician's, else the user's default board team."""
    if call.technician_id:
        return call.technician.team_id
    team = board_team_default(user)
    return team.pk if team else None


def every_technician(home_team: int | None, only_team: int | None = None) -> list[Technician]:
    """Every team's technicians (or one team's), the call's own team first, each by name."""
    techs = Technician.objects.select_related("team").order_by("name", "id")
    if only_team is not None:
        techs = techs.filter(team_id=only_team)
    return sorted(techs, key=lambda t: t.team_id != home_team)


def call_open_get(*, user, call_id: int, office_only: bool = False) -> ServiceCall:
    call = call_get_for_user(user=user, call_id=call_id)
    if office_only and not roles.is_office(user):
        # Rescues and send-now move other technicians' work: the office decides those.
        raise NotAllowed(
            "Rescue and emergency dispatch are for the office (CSR, dispatcher, manager)."
        )
    if not call.is_open:
        raise InvalidInput(f"Call #{call.pk} is {call.status}; there is no one to send.")
    return call


def call_world(
    user,
    call: ServiceCall,
    now: datetime,
    *,
    with_call_skills: bool = False,
    only_team: int | None = None,
) -> tuple[PlanningWorld, int | None]:
    home = home_team_id(user, call)
    plan = world_load(
        techs=every_technician(home, only_team),
        day=call.scheduled_day,
        now=now,
        with_call_skills=with_call_skills,
    )
    return plan, home


def needs_of(call: ServiceCall) -> frozenset[str]:
    return frozenset(s.code for s in call.skills.all())


# --- candidates -------------------------------------------------------------------------------


def call_candidates(
    *, user, call_id: int, now: datetime | None = None, only_team: int | None = None
):
    """Ranked candidates (on time, least ripple, own team, least travel) and every exclusion.
    The office asks every team; a technician sees only their own team's (as for a hand-off),
    or ``only_team``'s when the caller says."""
    now = now or clock.now()
    call = call_open_get(user=user, call_id=call_id)
    if only_team is None and not roles.is_office(user):
        me = roles.technician_of(user)
        only_team = me.team_id if me else None
    plan, home = call_world(user, call, now, only_team=only_team)
    return candidates_in(plan, call, home)


def candidates_in(plan: PlanningWorld, call: ServiceCall, home: int | None):
    found, excluded = choice.candidates(
        plan.world,
        stop_of_call(call),
        needs_of(call),
        emergency=call.priority == "emergency",
        home_team=home,
    )
    return [candidate_of(plan, c) for c in found], excluded_of(plan, excluded)


def call_send_now(*, user, call_id: int, now: datetime | None = None):
    """For an emergency: every able technician with the call placed right after their current
    work, soonest arrival first (then least ripple). Late arrivals are still offered."""
    now = now or clock.now()
    call = call_open_get(user=user, call_id=call_id, office_only=True)
    plan, home = call_world(user, call, now)
    found, excluded = choice.send_now(
        plan.world, stop_of_call(call), needs_of(call), home_team=home
    )
    return [candidate_of(plan, c) for c in found], excluded_of(plan, excluded)
