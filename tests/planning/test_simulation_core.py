"""The simulated day asks the product's planning core; it keeps no ranking or rescue of its own."""

from __future__ import annotations

import inspect

from dispatch import simulation
from dispatch.planning import choice, rescue
from dispatch.planning.risk import risk_rank
from dispatch.planning.travel import great_circle
from dispatch.simulation import Simulation, day_generate

TRAVEL = great_circle(1.3, 40.0)


def test_ours_books_every_call_where_the_products_candidates_or_send_now_put_it():
    sim = Simulation(day_generate(techs=6, calls=40, seed=3), "ours", TRAVEL)
    book, checked = sim._book, []

    def checked_book(call, now):
        world = sim.world(now)
        pick = choice.send_now if call.emergency else choice.candidates
        found, _ = pick(world, call.stop(), call.needs)
        book(call, now)
        if found:
            state = sim.techs[found[0].technician_id]
            floor = world.routes[state.tech.id].floor
            assert state.queue.index(call.id) == found[0].position - floor
            checked.append(call.id)

    sim._book = checked_book
    sim.run()
    assert len(checked) >= 20


def test_ours_applies_the_first_harmless_option_of_the_products_rescue_search():
    sim = Simulation(day_generate(techs=15, calls=120, seed=1), "ours", TRAVEL)
    rescue_one, applied = sim._rescue, []

    def checked_rescue(call_id, now):
        owner = sim.techs[sim.owner[call_id]]
        world = sim.world(now)
        expected = None
        if call_id in owner.queue:
            call = sim.calls[call_id]
            current = risk_rank(rescue.leg_of(world, call_id), sim.rules.risk_margin)
            options = rescue.rescue_options(
                world, call.stop(), call.needs, emergency=call.emergency
            )
            expected = next(
                (
                    o
                    for o in options
                    if not o.hurts and risk_rank(o.leg, sim.rules.risk_margin) < current
                ),
                None,
            )
        done = rescue_one(call_id, now)
        assert done == (expected is not None)
        if expected is not None:
            for move in expected.moves:
                assert sim.owner[move.call_id] == move.technician_id
            applied.append(expected.kind)
        return done

    sim._rescue = checked_rescue
    assert sim.run().rescues == len(applied) > 0


def test_the_simulation_module_has_no_copy_of_ranking_or_rescue():
    source = inspect.getsource(simulation)
    for copied in ("def _earlier", "def _swaps", "def _reassign", "def _best_place", "RISK_RANK"):
        assert copied not in source
