"""One eligibility rule, in a dispatcher's words; overtime never excludes an emergency."""

from __future__ import annotations

from dispatch.planning.choice import World, candidates, send_now
from dispatch.planning.eligibility import Worker, unable
from dispatch.planning.eta import Stop
from dispatch.planning.promises import Promises
from dispatch.planning.routes import Route
from dispatch.planning.rules import Rules
from dispatch.planning.travel import euclidean

H = 3600.0
DAY_SHIFT = dict(shift_start=8 * H, shift_end=17 * H, shift_words=("08:00", "17:00"))


def worker(i, skills=("plumbing",), **kw) -> Worker:
    return Worker(i, frozenset(skills), **({"name": f"t{i}"} | DAY_SHIFT | kw))


def test_reasons_name_the_missing_skill_and_the_hours():
    w = worker(1, ("electrical",))
    assert unable(w, {"plumbing", "gas"}, now=9 * H) == ["missing skill: gas, plumbing"]
    assert unable(w, (), now=17 * H) == ["shift ended 17:00"]
    assert unable(w, (), now=9 * H, at=18 * H) == ["shift ends 17:00"]
    assert unable(w, (), now=6 * H) == []  # before the shift: they start on time


def test_marked_off_counts_only_during_the_shift_and_on_call_covers_an_emergency():
    off = worker(1, marked_off=True)
    assert unable(off, (), now=7 * H) == []
    assert unable(off, (), now=9 * H) == ["marked off today"]
    on_call = worker(2, on_call=((17 * H, 32 * H),))
    assert unable(on_call, (), now=22 * H) == ["shift ended 17:00"]
    assert unable(on_call, (), now=22 * H, emergency=True) == []


def _world(routes, workers, now) -> World:
    return World(routes, workers, Promises(), Rules(), euclidean_km, now)


def euclidean_km(a, b) -> float:
    return euclidean(a, b) * 60.0  # a minute per unit


def test_an_emergency_is_offered_to_the_nearest_even_into_overtime_a_normal_call_is_not():
    # 16:40: one technician whose day ends at 17:00; a 60-minute job ten minutes away.
    routes = {1: Route(16 * H + 40 * 60, (0.0, 0.0), [], 17 * H)}
    workers = {1: worker(1)}
    job = Stop(99, (10.0, 0.0), 60 * 60.0, None, 18 * H)
    found, excluded = candidates(_world(routes, workers, 16 * H + 40 * 60), job, ["plumbing"])
    assert found == [] and excluded == [(1, "would push this call into overtime")]
    found, excluded = candidates(
        _world(routes, workers, 16 * H + 40 * 60), job, ["plumbing"], emergency=True
    )
    assert [c.technician_id for c in found] == [1] and found[0].overtime and excluded == []
    nearest, _ = send_now(_world(routes, workers, 16 * H + 40 * 60), job, ["plumbing"])
    assert [c.technician_id for c in nearest] == [1]


def test_another_teams_equally_good_technician_ranks_after_the_own_team():
    routes = {t: Route(8 * H, (0.0, 0.0), [], 17 * H) for t in (1, 2)}
    workers = {1: worker(1, team="south", name="a"), 2: worker(2, team="north", name="b")}
    job = Stop(99, (5.0, 0.0), 600.0, None, 12 * H)
    found, _ = candidates(_world(routes, workers, 8 * H), job, ["plumbing"], home_team="north")
    assert [(c.technician_id, c.other_team) for c in found] == [(2, False), (1, True)]


def test_an_emergency_arriving_after_the_shift_end_is_overtime_not_a_reason():
    w = worker(1)
    assert unable(w, (), now=16 * H, at=17.5 * H) == ["shift ends 17:00"]
    assert unable(w, (), now=16 * H, at=17.5 * H, emergency=True) == []
    assert unable(w, (), now=17.5 * H, emergency=True) == ["shift ended 17:00"]


def test_a_rescue_swap_never_sends_the_traded_call_into_the_other_technicians_overtime():
    from dispatch.planning.rescue import rescue_options

    tight = Stop("A", (0.0, 10.0), 10.0, None, 15.0)  # at risk where it is
    first, long = Stop("X", (0.0, 1.0), 100.0), Stop("B", (0.0, 2.0), 110.0, None, 1000.0)
    routes = {
        1: Route(0.0, (0.0, 0.0), [tight], 100.0),
        2: Route(0.0, (0.0, 0.0), [first, long], 1000.0),
    }
    shift = dict(shift_start=0.0, shift_words=("00:00", ""))
    workers = {
        1: Worker(1, frozenset(), shift_end=100.0, **shift),
        2: Worker(2, frozenset(), shift_end=1000.0, **shift),
    }
    world = World(routes, workers, Promises(), Rules(risk_margin=30.0), euclidean, 0.0, {})
    options = rescue_options(world, tight, ())
    # B would finish at 112 in a queue whose day ends at 100: no swap is offered.
    assert [o for o in options if o.kind == "swap"] == []
    assert any(o.kind == "reassign" for o in options)


def test_the_call_out_is_a_cost_in_words_only_for_an_emergency_outside_the_shift():
    from dispatch.planning.eligibility import call_out

    on = worker(2, on_call=((17 * H, 32 * H),), on_call_words=("17:00-08:00",))
    words = "call-out: on call 17:00-08:00, overtime"
    assert call_out(on, now=22 * H, at=22.5 * H, emergency=True) == words
    assert call_out(on, now=22 * H, at=22.5 * H, emergency=False) == ""
    assert call_out(on, now=10 * H, at=11 * H, emergency=True) == ""  # in the shift
    assert call_out(worker(1), now=22 * H, at=22.5 * H, emergency=True) == ""  # not on call


def test_an_on_call_technician_called_out_before_dawn_sets_off_now():
    # 02:00 of the next day (26 h): the day shift starts at 08:00 (32 h); t2 is on call until then.
    routes = {t: Route(32 * H, (0.0, 0.0), [], 41 * H) for t in (1, 2)}
    day = dict(shift_start=32 * H, shift_end=41 * H, shift_words=("08:00", "17:00"))
    workers = {
        1: Worker(1, frozenset(), name="a", **day),
        2: Worker(2, frozenset(), name="b", on_call=((17 * H, 32 * H),), **day),
    }
    job = Stop(99, (5.0, 0.0), 600.0, None, None)
    found, _ = send_now(_world(routes, workers, 26 * H), job, ())
    assert [c.technician_id for c in found] == [2, 1]
    assert found[0].insertion.leg.arrival == 26 * H + 5 * 60 and found[0].call_out
    assert found[1].insertion.leg.arrival >= 32 * H and not found[1].call_out
    assert Route(32 * H, (0.0, 0.0), [], 41 * H).starting_by(26 * H).start_at == 26 * H


# --- the edges of each span (found by mutation testing: `make mutate MODULES=eligibility`) ------


def test_an_on_call_span_holds_its_start_but_not_its_end():
    on = worker(2, on_call=((17 * H, 32 * H),))
    assert on.on_call_span(17 * H) == 0 and on.on_call_at(17 * H)
    assert on.on_call_span(32 * H) is None and not on.on_call_at(32 * H)
    assert on.on_call_span(32 * H - 1) == 0


def test_marked_off_counts_from_the_first_second_of_the_shift_until_it_ends():
    off = worker(1, marked_off=True)
    assert unable(off, (), now=8 * H) == ["marked off today"]
    assert unable(off, (), now=17 * H) == ["shift ended 17:00"]  # over: ended, not marked off


def test_work_due_exactly_at_the_shift_end_is_past_it():
    assert unable(worker(1), (), now=9 * H, at=17 * H) == ["shift ends 17:00"]
    assert unable(worker(1), (), now=9 * H, at=17 * H - 1) == []


def test_a_shift_without_words_still_reads_as_words():
    bare = Worker(1, frozenset(), shift_start=8 * H, shift_end=17 * H)
    assert unable(bare, (), now=17 * H) == ["shift ended"]
    assert unable(bare, (), now=9 * H, at=18 * H) == ["shift ends"]


def test_the_call_out_starts_where_the_shift_ends_and_not_at_its_first_second():
    from dispatch.planning.eligibility import call_out

    # On call the night before (from 17:00 the day before until 08:00) and from 17:00 tonight.
    on = worker(2, on_call=((-7 * H, 8 * H), (17 * H, 32 * H)), on_call_words=("night", "tonight"))
    # Work at 08:00 exactly is the shift's own, whoever is on call when they are sent.
    assert call_out(on, now=7 * H, at=8 * H, emergency=True) == ""
    # Work at 17:00 exactly is past the shift: the span holding the work counts when the
    # technician is not on call at the moment they are sent.
    assert call_out(on, now=16.5 * H, at=17 * H, emergency=True) == (
        "call-out: on call tonight, overtime"
    )


def test_the_call_out_names_the_span_they_are_on_call_in_when_sent():
    from dispatch.planning.eligibility import call_out

    on = worker(2, on_call=((17 * H, 20 * H), (21 * H, 32 * H)), on_call_words=("first", "second"))
    # Sent at 19:00 (the first span), working at 21:30 (the second): the first is the call-out.
    assert call_out(on, now=19 * H, at=21.5 * H, emergency=True) == (
        "call-out: on call first, overtime"
    )
    # Sent at 19:00, working at 20:30 (no span): still the first.
    assert call_out(on, now=19 * H, at=20.5 * H, emergency=True) == (
        "call-out: on call first, overtime"
    )


def test_a_span_without_words_is_a_call_out_in_plain_words():
    from dispatch.planning.eligibility import call_out

    on = worker(2, on_call=((17 * H, 32 * H),))  # no on_call_words
    assert call_out(on, now=22 * H, at=22.5 * H, emergency=True) == "call-out: on call, overtime"
