"""Rescue for a call at risk or late: the smallest change that brings it back on time.

Three kinds of change, smallest first: move it earlier in its own queue, give it to another
technician (the candidates' best places), or swap it with another technician's waiting call
that has slack and that this call's technician can do. Every option carries its ripple; moves in
a queue and swaps that push anyone past the end of their shift are left out, and so are reassigns
for a normal call (an emergency may be given to someone who then works overtime: a cost shown).
Ranked: on time first, then harmless, then safe (not even at risk), then least harm, own team,
smallest kind, least shift, most slack.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dispatch.planning.choice import World, candidates
from dispatch.planning.eligibility import unable
from dispatch.planning.eta import LATE, OK, Leg, Stop, classify_risk
from dispatch.planning.ripple import Ripple, ripple_between
from dispatch.planning.routes import Route

KIND_ORDER = {"earlier": 0, "reassign": 1, "swap": 2}


@dataclass(frozen=True, slots=True)
class Move:
    call_id: object
    technician_id: object
    position: int  # 0-based, as the move service takes it


@dataclass(frozen=True)
class RescueOption:
    kind: str  # earlier | reassign | swap
    technician_id: object  # who would serve the rescued call
    moves: tuple[Move, ...]  # applied in order (a swap has two)
    leg: Leg  # the rescued call's timing after the change
    risk: str
    ripple: Ripple
    swap_with: object = None
    other_team: bool = False

    @property
    def on_time(self) -> bool:
        return self.risk != LATE

    @property
    def hurts(self) -> bool:
        return self.ripple.hurts

    def rank(self) -> tuple:
        r = self.ripple
        harm = (round(r.added_lateness / 60.0, 1), len(r.turned_worse), len(r.promises_broken))
        kind = KIND_ORDER[self.kind]
        slack = -(self.leg.slack or 0.0)
        return (not self.on_time, self.hurts, self.risk != OK, *harm, self.other_team, kind,
                r.max_shift_minutes, slack)  # fmt: skip


def leg_of(world: World, call_id: object) -> Leg | None:
    """The call's planned timing in its current queue (None when it is in no queue)."""
    owner = world.owner_of(call_id)
    if owner is None:
        return None
    return next(leg for leg in world.routes[owner].plan(world.travel) if leg.id == call_id)


def rescue_options(
    world: World,
    stop: Stop,
    needs: Iterable[str],
    *,
    emergency: bool = False,
    home_team: object = None,
) -> list[RescueOption]:
    """Every rescue option for the call, best first (see the module docstring)."""
    options, _ = rescue_search(world, stop, needs, emergency=emergency, home_team=home_team)
    return options


def rescue_search(
    world: World,
    stop: Stop,
    needs: Iterable[str],
    *,
    emergency: bool = False,
    home_team: object = None,
) -> tuple[list[RescueOption], list[tuple[object, str]]]:
    """The rescue options, best first, and the technicians who cannot take the call, with why
    (the candidates' exclusions: asked once for both)."""
    needs = frozenset(needs)
    options = _earlier(world, stop.id) + _swaps(world, stop.id, needs, home_team)
    found, excluded = candidates(world, stop, needs, emergency=emergency, home_team=home_team)
    for c in found:
        move = Move(stop.id, c.technician_id, c.position)
        leg = c.insertion.leg
        options.append(
            RescueOption(
                "reassign",
                c.technician_id,
                (move,),
                leg,
                _risk(world, leg),
                c.ripple,
                other_team=c.other_team,
            )  # fmt: skip
        )
    return sorted(options, key=RescueOption.rank), excluded


def _risk(world: World, leg: Leg) -> str:
    return classify_risk(leg, world.rules.risk_margin)


def _ripple(world: World, before: dict, after: list[Leg], route: Route, skip) -> Ripple:
    return ripple_between(
        before,
        {leg.id: leg for leg in after},
        rules=world.rules,
        promises=world.promises,
        shift_end=route.shift_end,
        skip=skip,
    )


def _waiting(world: World, call_id: object):
    """The call's technician, route and index, when it waits in a queue (not under way)."""
    owner = world.owner_of(call_id)
    if owner is None:
        return None
    route = world.routes[owner]
    index = route.index_of(call_id)
    return None if index < route.floor else (owner, route, index)


def _earlier(world: World, call_id: object) -> list[RescueOption]:
    waiting = _waiting(world, call_id)
    if waiting is None:
        return []
    owner, route, index = waiting
    worker = world.workers.get(owner)
    if worker is None or unable(worker, (), now=world.now):
        return []  # nobody works that queue now: moving the call up in it rescues nothing
    before = {leg.id: leg for leg in route.plan(world.travel)}
    mine, rest = route.stops[index], [s for s in route.stops if s.id != call_id]
    options = []
    for p in range(route.floor, index):
        after = route.with_stops(rest[:p] + [mine] + rest[p:]).plan(world.travel)
        ripple = _ripple(world, before, after, route, call_id)
        if ripple.overtime:
            continue  # nobody is pushed past the end of their shift by a rescue
        move = Move(call_id, owner, p)
        options.append(
            RescueOption("earlier", owner, (move,), after[p], _risk(world, after[p]), ripple)
        )
    return options


def _swaps(world: World, call_id: object, needs: frozenset, home_team) -> list[RescueOption]:
    """Trade places with another technician's waiting call that has slack and that this call's
    technician can do: both calls are timed in their new queues, both queues' ripples counted."""
    waiting = _waiting(world, call_id)
    if waiting is None:
        return []
    me, my_route, index = waiting
    mine = world.workers.get(me)
    if mine is None or unable(mine, (), now=world.now):
        return []  # the call's technician must be working to take a call in trade
    my_skills = mine.skills
    call_skills = world.call_skills or {}
    mine_before = my_route.plan(world.travel)
    options = []
    for tech_id, worker in world.workers.items():
        if tech_id == me or unable(worker, needs, now=world.now):
            continue
        route = world.routes[tech_id]
        before = route.plan(world.travel)
        both = {leg.id: leg for leg in mine_before + before}
        for j in range(route.floor, len(route.stops)):
            if before[j].slack is not None and before[j].slack < world.rules.risk_margin:
                continue  # only a call with slack to spare can give up its place
            if not call_skills.get(route.stops[j].id, frozenset()) <= my_skills:
                continue
            option = _swap_with(world, call_id, (me, my_route, index), tech_id, both, j)
            if option is not None:
                other = home_team is not None and worker.team != home_team
                options.append(option if not other else _marked_other(option))
    return options


def _marked_other(option: RescueOption) -> RescueOption:
    return RescueOption(
        option.kind, option.technician_id, option.moves, option.leg, option.risk, option.ripple,
        option.swap_with, True,
    )  # fmt: skip


def _swap_with(world: World, call_id, side, tech_id, both: dict, j: int) -> RescueOption | None:
    me, my_route, index = side
    route = world.routes[tech_id]
    mine, other = my_route.stops[index], route.stops[j]
    theirs = route.with_stops([*route.stops[:j], mine, *route.stops[j + 1 :]]).plan(world.travel)
    ours = my_route.with_stops([*my_route.stops[:index], other, *my_route.stops[index + 1 :]]).plan(
        world.travel
    )
    ripple = _ripple(world, both, theirs, route, call_id)
    ripple += _ripple(world, both, ours, my_route, call_id)
    if ripple.overtime or theirs[j].finish > route.shift_end:
        return None  # nobody is pushed past the end of their shift by a rescue
    if ours[index].finish > my_route.shift_end:
        return None  # nor is the call that comes back in trade
    moves = (Move(call_id, tech_id, j), Move(other.id, me, index))
    return RescueOption(
        "swap", tech_id, moves, theirs[j], _risk(world, theirs[j]), ripple, other.id
    )
