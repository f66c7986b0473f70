"""One ripple: the incremental insertion pricing and the whole-plan comparison agree exactly."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.planning.eta import Leg, Stop
from dispatch.planning.insertion import insertions
from dispatch.planning.promises import Promises
from dispatch.planning.ripple import Ripple, ripple_between
from dispatch.planning.routes import Route
from dispatch.planning.rules import Rules
from dispatch.planning.travel import euclidean

RULES = Rules(risk_margin=30.0, promise_tolerance=10.0, ripple_shift=15.0)


def _queue(draw_stops) -> list[Stop]:
    return [
        Stop(i, (x, y), dur, ready, None if due is None else (ready or 0.0) + due)
        for i, (x, y, dur, ready, due) in enumerate(draw_stops)
    ]


stop_specs = st.lists(
    st.tuples(
        st.floats(0, 50),
        st.floats(0, 50),
        st.floats(1, 40),
        st.one_of(st.none(), st.floats(0, 300)),
        st.one_of(st.none(), st.floats(5, 200)),
    ),
    max_size=7,
)


@settings(max_examples=150, deadline=None)
@given(
    specs=stop_specs,
    new=st.tuples(st.floats(0, 50), st.floats(0, 50), st.floats(1, 40), st.floats(10, 400)),
    promised=st.lists(st.floats(-30, 30), max_size=7),
    shift_end=st.floats(100, 600),
)
def test_every_insertion_prices_the_ripple_that_replanning_the_queue_gives(
    specs, new, promised, shift_end
):
    stops = _queue(specs)
    route = Route(0.0, (0.0, 0.0), stops, shift_end)
    base = route.plan(euclidean)
    # Promises near the planned arrivals, so some are kept and some break.
    promises = Promises(
        {leg.id: leg.arrival + d for leg, d in zip(base, promised, strict=False)}, 10.0
    )
    added = Stop("new", (new[0], new[1]), new[2], None, new[3])
    for found in insertions(route, added, euclidean, rules=RULES, promises=promises):
        order = list(stops)
        order.insert(found.position, added)
        after = {leg.id: leg for leg in Route(0.0, (0.0, 0.0), order, shift_end).plan(euclidean)}
        whole = ripple_between(
            {leg.id: leg for leg in base},
            after,
            rules=RULES,
            promises=promises,
            shift_end=shift_end,
            skip="new",
        )
        got = found.ripple
        assert math.isclose(got.added_lateness, whole.added_lateness, abs_tol=1e-6)
        assert set(got.turned_worse) == set(whole.turned_worse)
        assert set(got.promises_broken) == set(whole.promises_broken)
        assert set(got.overtime) == set(whole.overtime)
        assert set(got.shifted) == set(whole.shifted)
        assert math.isclose(got.max_shift, whole.max_shift, abs_tol=1e-6)
        assert math.isclose(found.leg.arrival, after["new"].arrival, abs_tol=1e-9)


def test_a_call_pushed_93_minutes_later_is_part_of_the_ripple_even_with_no_risk_change():
    # Two roomy calls; putting a 90-minute job first pushes both far later, both still on time.
    stops = [Stop(1, (0.0, 1.0), 600.0, None, 90_000.0), Stop(2, (0.0, 2.0), 600.0, None, 90_000.0)]
    route = Route(0.0, (0.0, 0.0), stops, 100_000.0)
    rules = Rules(risk_margin=1800.0, promise_tolerance=900.0, ripple_shift=900.0)
    (first,) = insertions(
        route, Stop("x", (0.0, 0.0), 93 * 60.0), euclidean, rules=rules, positions=[0]
    )
    assert first.ripple.turned_worse == () and not first.ripple.hurts
    assert first.ripple.shifted == (1, 2)
    assert first.ripple.max_shift_minutes == 93.0
    assert first.ripple.words() == "2 customers later by up to 93 min"


def test_a_window_that_absorbs_the_delay_still_counts_its_own_arrival_shift():
    # The second call waits for a window at 500: arriving later (but before 500) changes
    # nothing after it, yet its own ETA moved, and its slack under the margin is a risk change.
    stops = [Stop(1, (0.0, 10.0), 10.0, 500.0, 520.0), Stop(2, (0.0, 20.0), 10.0)]
    route = Route(0.0, (0.0, 0.0), stops, 10_000.0)
    rules = Rules(risk_margin=30.0, promise_tolerance=10.0, ripple_shift=15.0)
    (found,) = insertions(
        route, Stop("x", (0.0, 5.0), 200.0), euclidean, rules=rules, positions=[0]
    )
    assert found.ripple.shifted == (1,)
    assert found.ripple.max_shift == 200.0


def test_words_say_nothing_changed_when_nothing_did():
    assert Ripple().words() == "none"
    assert Ripple(shifted=(4,), max_shift=31 * 60.0).words() == "1 customer later by up to 31 min"


def test_a_promise_breaks_when_a_kept_eta_drifts_past_the_tolerance_or_goes_unassigned():
    promises = Promises({7: 1000.0}, 60.0)
    assert promises.broken(7, 1030.0, 1100.0)
    assert not promises.broken(7, 1030.0, 1050.0)
    assert promises.broken(7, 1030.0, None)  # back to the unassigned list
    assert not promises.broken(7, None, 2000.0)  # nothing was being kept
    assert not promises.broken(7, 1200.0, 1300.0)  # already broken before
    assert not promises.broken(8, 1000.0, 5000.0)  # never promised


def test_words_name_the_calls_turned_worse_broken_or_pushed_into_overtime():
    ripple = Ripple(turned_worse=(30,), promises_broken=(51, 52), overtime=(77,))
    assert ripple.words() == (
        "1 call turns at risk or late (#30); 2 promises broken (#51, #52); pushes #77 into overtime"
    )


def test_taking_out_the_call_on_site_frees_the_technician_for_the_next_one():
    on_site = Stop(1, (0.0, 0.0), 100.0)
    nxt = Stop(2, (0.0, 10.0), 10.0)
    route = Route(50.0, (0.0, 0.0), [on_site, nxt], 1000.0, floor=1, first_on_site_since=0.0)
    left = route.without(1)
    assert left.floor == 0 and left.first_on_site_since is None
    (leg,) = left.plan(euclidean)
    assert leg.arrival == 60.0  # from now (50) and where they are, not "on site since 0"
    assert route.without(2).first_on_site_since == 0.0 and route.without(2).floor == 1


def test_a_technicians_words_do_not_name_a_teammates_calls():
    ripple = Ripple(turned_worse=(30,), promises_broken=(51,), overtime=(77,))
    assert ripple.words(ids=False) == (
        "1 call turns at risk or late; 1 promise broken; runs into overtime"
    )


def test_two_ripples_add_field_by_field_and_keep_the_larger_shift():
    # A move's ripple is the sum of its two queues' ripples (rescue and hand-offs add them).
    left = Ripple(60.0, (1,), (2,), (3,), (4,), 300.0)
    right = Ripple(30.0, (5,), (6,), (7,), (8,), 120.0)
    assert left + right == Ripple(90.0, (1, 5), (2, 6), (3, 7), (4, 8), 300.0)
    assert right + left == Ripple(90.0, (5, 1), (6, 2), (7, 3), (8, 4), 300.0)


def test_words_count_lateness_from_half_a_minute_and_say_plurals_right():
    assert Ripple(added_lateness=29.0).words() == "none"
    assert Ripple(added_lateness=30.0).words() == "+0 min late to others"
    assert Ripple(added_lateness=45 * 60.0).words() == "+45 min late to others"
    two = Ripple(shifted=(1, 2), max_shift=20 * 60.0, turned_worse=(1, 2))
    assert two.words() == "2 customers later by up to 20 min; 2 calls turn at risk or late (#1, #2)"
    assert Ripple(promises_broken=(9,)).words() == "1 promise broken (#9)"
    assert Ripple(overtime=(3, 4)).words() == "pushes #3, #4 into overtime"
    every = Ripple(1800.0, (1,), (2,), (3,), (4,), 16 * 60.0)
    assert every.words() == (
        "+30 min late to others; 1 customer later by up to 16 min; 1 call turns at risk or late "
        "(#1); 1 promise broken (#2); pushes #3 into overtime"
    )


def test_the_ripple_hurts_only_with_lateness_a_turn_for_the_worse_or_a_broken_promise():
    assert not Ripple().hurts
    assert not Ripple(overtime=(1,), shifted=(2,), max_shift=999.0).hurts
    assert Ripple(added_lateness=1.0).hurts
    assert Ripple(turned_worse=(1,)).hurts
    assert Ripple(promises_broken=(1,)).hurts
    assert Ripple(shifted=(1, 2, 3)).shifted_calls == 3
    assert Ripple(max_shift=93 * 60.0 + 6.0).max_shift_minutes == 93.1


def test_a_promise_drifting_exactly_the_tolerance_is_still_kept():
    promises = Promises({7: 1000.0}, 60.0)
    assert promises.kept(7, 1060.0) and promises.kept(7, 940.0)
    assert not promises.kept(7, 1060.5) and not promises.kept(7, None)
    assert not promises.broken(7, 1000.0, 1060.0)
    assert promises.broken(7, 1000.0, 1060.5)


def test_pricing_a_late_call_stops_at_the_first_place_that_cannot_be_less_late():
    # ripple_if_late=False: once the stop ahead finishes so late that the new call would be at
    # least as late as the best seen, no later place is priced (the work skipped on a bad day).
    def priced(stops, new):
        route = Route(0.0, (0.0, 0.0), stops, 10_000.0)
        return [i.position for i in insertions(route, new, euclidean, ripple_if_late=False)]

    new = Stop("new", (0.0, 110.0), 5.0, None, 100.0)
    # Arriving at 110, 115, 120 after stops finishing at 5 and 10: late by 10, 15, 20; after the
    # stop finishing at 210 it could be no less than 110 late, so that place is not priced.
    quick = [Stop(1, (0.0, 0.0), 5.0), Stop(2, (0.0, 0.0), 5.0), Stop(3, (0.0, 0.0), 200.0)]
    assert priced(quick, new) == [0, 1, 2]
    # First is 6 late (arriving at 10, due by 4); after call 1, which finishes at exactly 10,
    # it could not be less than 6 late: the bound is inclusive.
    tight = [Stop(1, (0.0, 5.0), 5.0), Stop(2, (0.0, 10.0), 10.0)]
    assert priced(tight, Stop("new", (0.0, 10.0), 5.0, None, 4.0)) == [0]
    # The late places are not priced for others: an empty ripple, not a missing one.
    route = Route(0.0, (0.0, 0.0), quick, 10_000.0)
    assert [i.ripple for i in insertions(route, new, euclidean, ripple_if_late=False)] == [
        Ripple()
    ] * 3


def test_a_call_on_only_one_side_counts_for_its_promise_and_the_rest_are_still_compared():
    before = {1: Leg(1, 10.0, 10.0, 20.0, 90.0, False), 2: Leg(2, 30.0, 30.0, 40.0, 60.0, False)}
    after = {
        3: Leg(3, 5.0, 5.0, 8.0, 50.0, False),  # arrived with the change
        1: None,  # went back to the unassigned list
        2: Leg(2, 80.0, 80.0, 90.0, 10.0, False),  # 50 later, slack under the margin
    }
    ripple = ripple_between(
        before, after, rules=RULES, promises=Promises({1: 10.0, 3: 5.0}, 5.0), shift_end=1000.0
    )
    assert ripple.promises_broken == (1,)  # call 3 was promised nothing kept before
    assert ripple.turned_worse == (2,) and ripple.shifted == (2,) and ripple.max_shift == 50.0


def test_overtime_is_finishing_past_each_technicians_own_shift_end_not_at_it():
    before = {
        1: Leg(1, 0.0, 0.0, 90.0, None, False),
        2: Leg(2, 0.0, 0.0, 50.0, None, False),  # finished exactly at its shift end: in time
        3: Leg(3, 0.0, 0.0, 10.0, None, False),
    }
    after = {
        1: Leg(1, 0.0, 0.0, 100.0, None, False),  # exactly at its end (100): not overtime
        2: Leg(2, 0.0, 0.0, 60.0, None, False),  # past its end (50): newly overtime
        3: Leg(3, 0.0, 0.0, 70.0, None, False),  # 70 is past 50 but inside its own 100
    }
    ends = {1: 100.0, 2: 50.0, 3: 100.0}
    ripple = ripple_between(before, after, rules=RULES, promises=Promises(), shift_end=ends)
    assert ripple.overtime == (2,)


def test_a_bare_margin_is_the_risk_margin_of_the_default_rules():
    # The older form insertions(..., margin=M): call 1 goes from 55 to 25 of slack.
    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 10.0, None, 60.0)], 1000.0)
    new = Stop("new", (0.0, 5.0), 30.0)

    def worse(**kwargs):
        return insertions(route, new, euclidean, positions=[0], **kwargs)[0].ripple.turned_worse

    assert worse(margin=30.0) == (1,)  # ok -> at risk under a 30 margin
    assert worse(margin=10.0) == ()
    assert worse() == ()  # the default 30-minute margin: at risk before and after


def test_a_call_moved_exactly_the_ripple_shift_later_is_not_listed_as_shifted():
    before = {1: Leg(1, 10.0, 10.0, 20.0, None, False), 2: Leg(2, 30.0, 30.0, 40.0, None, False)}
    after = {1: Leg(1, 25.0, 25.0, 35.0, None, False), 2: Leg(2, 45.5, 45.5, 55.5, None, False)}
    ripple = ripple_between(before, after, rules=RULES, promises=Promises(), shift_end=1000.0)
    assert ripple.shifted == (2,) and ripple.max_shift == 15.5  # RULES.ripple_shift is 15


def test_a_technician_who_got_there_exactly_at_the_deadline_is_not_late():
    on_site = Stop(1, (0.0, 0.0), 30.0, None, 100.0)
    (leg,) = Route(120.0, (0.0, 0.0), [on_site], 1000.0, first_on_site_since=100.0).plan(euclidean)
    assert leg.arrival == 100.0 and not leg.late
    (leg,) = Route(120.0, (0.0, 0.0), [on_site], 1000.0, first_on_site_since=100.5).plan(euclidean)
    assert leg.late


def test_a_call_with_exactly_the_margin_in_hand_that_drops_under_it_is_turned_at_risk():
    # Call 1 arrives at 5, due by 35: exactly the 30-minute margin in hand is ok. A 10-minute
    # call put in front of it leaves 20 in hand: ok -> at risk, so it is turned worse.
    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 10.0, None, 35.0)], 1000.0)
    new = Stop("new", (0.0, 5.0), 10.0)
    (found,) = insertions(route, new, euclidean, rules=RULES, positions=[0])
    assert found.ripple.turned_worse == (1,)


def test_a_call_on_time_by_under_a_minute_that_turns_late_adds_only_its_new_lateness():
    # Call 1 arrives at 5, due by 5.5 (half a minute in hand). A 15-minute call in front of it
    # makes it arrive at 20: 14.5 late, all of it added (the half minute was not lateness).
    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 10.0, None, 5.5)], 1000.0)
    new = Stop("new", (0.0, 5.0), 15.0)
    (found,) = insertions(route, new, euclidean, rules=RULES, positions=[0])
    assert found.ripple.added_lateness == 14.5
    assert found.ripple.turned_worse == (1,)


def test_a_promise_kept_at_exactly_the_tolerance_breaks_when_the_call_drifts_past_it():
    # Call 1 starts at 5, promised for 15 with 10 of tolerance: kept, at the edge. A 30-minute
    # call in front of it moves it to 35, 20 off the promise: broken.
    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 10.0)], 1000.0)
    promises = Promises({1: 15.0}, 10.0)
    new = Stop("new", (0.0, 5.0), 30.0)
    (found,) = insertions(route, new, euclidean, rules=RULES, promises=promises, positions=[0])
    assert found.ripple.promises_broken == (1,)


def test_a_promise_drifted_to_exactly_the_tolerance_by_an_insertion_is_still_kept():
    # Call 1 starts at 5, promised for 5. A 10-minute call in front of it moves it to 15:
    # exactly the 10 of tolerance off, still kept.
    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 10.0)], 1000.0)
    promises = Promises({1: 5.0}, 10.0)
    new = Stop("new", (0.0, 5.0), 10.0)
    (found,) = insertions(route, new, euclidean, rules=RULES, promises=promises, positions=[0])
    assert found.ripple.promises_broken == ()
    assert found.ripple.shifted == ()  # 10 later, under the 15 of RULES.ripple_shift


def test_an_insertion_that_moves_a_call_exactly_the_ripple_shift_later_does_not_list_it():
    # A 15-minute call in front of call 1 moves it from 5 to 20: exactly RULES.ripple_shift.
    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 10.0)], 1000.0)
    (found,) = insertions(route, Stop("new", (0.0, 5.0), 15.0), euclidean, rules=RULES)[:1]
    assert found.position == 0
    assert found.ripple.shifted == () and found.ripple.max_shift == 15.0


def test_an_insertion_is_overtime_for_another_call_only_past_the_shift_end_not_at_it():
    # Call 1 finishes at 15. A 15-minute call in front of it makes it finish at 30.
    stops = [Stop(1, (0.0, 5.0), 10.0)]
    new = Stop("new", (0.0, 5.0), 15.0)

    def overtime(shift_end):
        route = Route(0.0, (0.0, 0.0), stops, shift_end)
        return insertions(route, new, euclidean, rules=RULES, positions=[0])[0].ripple.overtime

    assert overtime(30.0) == ()  # now finishing exactly at the shift end: in time
    assert overtime(15.0) == (1,)  # finished exactly at the end before, past it now
    assert overtime(14.0) == ()  # already past the end before: not newly overtime


def test_a_call_an_insertion_makes_much_earlier_breaks_its_promise_too():
    # Road times need not obey the triangle rule: going by the new call's address is quicker
    # than driving straight to call 1. Call 1 then starts 97 minutes before its promised time,
    # though no call is later, late or in overtime: the ripple still names the broken promise.
    times = {("o", "b"): 100.0, ("o", "n"): 1.0, ("n", "b"): 1.0}

    def travel(a, b):
        return 0.0 if a == b else times.get((a, b), times.get((b, a), 100.0))

    route = Route(0.0, "o", [Stop(1, "b", 10.0)], 1000.0)
    promises = Promises({1: 100.0}, 10.0)
    (found,) = insertions(route, Stop("new", "n", 1.0), travel, promises=promises, positions=[0])
    assert found.leg.finish == 2.0
    assert found.ripple.promises_broken == (1,) and found.ripple.max_shift == 0.0


def test_a_late_call_an_insertion_makes_on_time_takes_its_lateness_off_the_ripple():
    # The same quicker way round: call 1, due by 50, goes from arriving at 100 (50 late) to
    # arriving at 3. Nothing is later, yet the ripple says 50 minutes of lateness were taken off.
    times = {("o", "b"): 100.0, ("o", "n"): 1.0, ("n", "b"): 1.0}

    def travel(a, b):
        return 0.0 if a == b else times.get((a, b), times.get((b, a), 100.0))

    route = Route(0.0, "o", [Stop(1, "b", 10.0, None, 50.0)], 1000.0)
    (found,) = insertions(route, Stop("new", "n", 1.0), travel, rules=RULES, positions=[0])
    assert found.ripple.added_lateness == -50.0 and found.ripple.turned_worse == ()


def test_pricing_a_late_call_stops_at_the_least_lateness_seen_not_the_latest():
    # ripple_if_late=False keeps the least lateness found so far as the bound.
    def priced(stops):
        route = Route(0.0, (0.0, 0.0), stops, 10_000.0)
        new = Stop("new", (0.0, 110.0), 5.0, None, 100.0)
        return [i.position for i in insertions(route, new, euclidean, ripple_if_late=False)]

    # 10 late first, then 15 late after call 1; call 2 finishes at 112, so after it the new
    # call is at least 12 late: more than the least (10), though less than the latest (15).
    assert priced([Stop(1, (0.0, 0.0), 5.0), Stop(2, (0.0, 0.0), 107.0)]) == [0, 1]
    # 10 late first; call 1 finishes at 95, 5 before the deadline: after it the bound says
    # nothing yet, so that place is still priced.
    assert priced([Stop(1, (0.0, 0.0), 95.0)]) == [0, 1]


def test_the_new_call_is_in_overtime_only_when_it_finishes_past_the_shift_end():
    def overtime(shift_end):
        route = Route(0.0, (0.0, 0.0), [], shift_end)
        return insertions(route, Stop("new", (0.0, 5.0), 15.0), euclidean)[0].overtime

    assert not overtime(20.0)  # finishes at 20, exactly the shift end
    assert overtime(19.5)


def test_a_symmetric_travel_provider_is_asked_once_per_place_when_pricing_every_position():
    asked = []

    def travel(a, b):
        asked.append((a, b))
        return euclidean(a, b)

    travel.symmetric = True
    stops = [Stop(i, (0.0, 10.0 * i), 5.0) for i in (1, 2, 3)]
    route = Route(0.0, (0.0, 0.0), stops, 10_000.0)
    base = route.plan(euclidean)
    new = Stop("new", (5.0, 5.0), 5.0)
    found = insertions(route, new, travel, base=base)
    assert [i.position for i in found] == [0, 1, 2, 3]
    # The origin and three stops: four lookups, not one for each direction (seven).
    assert len(asked) == 4


def test_travel_that_does_not_say_it_is_symmetric_is_asked_in_the_direction_driven():
    # Uphill takes 10, downhill 1: to the new call is uphill, from it back to call 1 downhill.
    def travel(a, b):
        return 0.0 if a == b else (10.0 if b[1] > a[1] else 1.0)

    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 0.0), 5.0)], 10_000.0)
    (found,) = insertions(route, Stop("new", (0.0, 5.0), 5.0), travel, positions=[0])
    assert found.leg.arrival == 10.0 and found.travel_added == 11.0


def test_a_call_put_after_another_is_driven_to_from_that_call_at_its_finish():
    # Calls at 10 and 50 up the road; the new call is at call 1's address. Put after call 1
    # (finishing at 15) it is reached at once: arrival 15, and call 2 is 5 minutes later.
    stops = [Stop(1, (0.0, 10.0), 5.0), Stop(2, (0.0, 50.0), 5.0)]
    route = Route(0.0, (0.0, 0.0), stops, 10_000.0)
    (found,) = insertions(route, Stop("new", (0.0, 10.0), 5.0), euclidean, positions=[1])
    assert found.leg.arrival == 15.0 and found.leg.finish == 20.0
    assert found.travel_added == 0.0 and found.ripple.max_shift == 5.0


def test_a_new_call_with_a_window_is_started_no_earlier_than_the_window_opens():
    # Reached at 5, its window opens at 100: it starts at 100 and the call after it waits too.
    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 10.0)], 10_000.0)
    new = Stop("new", (0.0, 5.0), 10.0, 100.0)
    (found,) = insertions(route, new, euclidean, rules=RULES, positions=[0])
    assert (found.leg.id, found.leg.arrival, found.leg.start, found.leg.finish) == (
        "new",
        5.0,
        100.0,
        110.0,
    )
    assert found.ripple.max_shift == 105.0 and found.ripple.shifted == (1,)
