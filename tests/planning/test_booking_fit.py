"""Booking windows fit only where nobody else pays: one example per feasibility rule.

Each test builds one queue where the only place that would take the new call breaks exactly one
rule, and a control where the same place is fine; so each fails on its own if that rule is lost.
"""

from __future__ import annotations

from dispatch.planning.booking import window_fit
from dispatch.planning.durations import Spread
from dispatch.planning.eta import Stop
from dispatch.planning.promises import Promises
from dispatch.planning.routes import Route
from dispatch.planning.rules import Rules
from dispatch.planning.travel import euclidean

RULES = Rules(risk_margin=10.0, promise_tolerance=5.0, ripple_shift=15.0)


def fit(route: Route, new: Stop, promises: Promises | None = None):
    return window_fit(route, new, euclidean, rules=RULES, promises=promises or Promises())


def test_a_window_that_breaks_another_customers_promise_is_not_offered():
    booked = Stop(1, (0.0, 1.0), 10.0)
    later = Stop(2, (0.0, 2.0), 10.0)
    route = Route(0.0, (0.0, 0.0), [booked, later], 1000.0)
    new = Stop(0, (0.0, 1.0), 30.0, 0.0, 200.0)
    kept = Promises({2: route.plan(euclidean)[1].start}, 5.0)
    found = fit(route, new, kept)
    # Only after call 2 keeps its promise (going first or second pushes it 30 later).
    assert found is not None and found.position == 2
    assert fit(route, new).position in (0, 1)  # with no promise, the shorter drive wins


def test_a_window_that_turns_another_call_at_risk_is_not_offered():
    due = Stop(1, (0.0, 5.0), 10.0, None, 60.0)  # arrives at 5, slack 55
    route = Route(0.0, (0.0, 0.0), [due], 1000.0)
    new = Stop(0, (0.0, 5.0), 50.0, 0.0, 500.0)
    found = fit(route, new)
    assert found is not None and found.position == 1  # first would leave call 1 slack 5 < 10
    easy = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 10.0, None, 600.0)], 1000.0)
    assert fit(easy, new).position == 0


def test_a_window_that_pushes_another_call_into_overtime_is_not_offered():
    last = Stop(1, (0.0, 5.0), 40.0)  # finishes at 45
    new = Stop(0, (0.0, 5.0), 40.0, 0.0, 30.0)  # due by 30: it can only go first
    # First, it pushes call 1 to finish at 85, past a day ending at 80: no window.
    assert fit(Route(0.0, (0.0, 0.0), [last], 80.0), new) is None
    # The same with a day ending at 100 fits first.
    assert fit(Route(0.0, (0.0, 0.0), [last], 100.0), new).position == 0


def test_a_window_whose_own_call_runs_into_overtime_is_not_offered():
    route = Route(0.0, (0.0, 0.0), [], 50.0)
    assert fit(route, Stop(0, (0.0, 5.0), 60.0, 0.0, 40.0)) is None  # 5 + 60 > 50
    assert fit(route, Stop(0, (0.0, 5.0), 40.0, 0.0, 40.0)) is not None


def test_a_window_that_makes_another_call_late_is_not_offered():
    # Call 1 is already at risk (arrives at 5, slack 7 < 10); going first would make it late.
    # Counted apart from "turns at risk": at risk -> late is a turn for the worse of its own.
    tight = Stop(1, (0.0, 5.0), 10.0, None, 12.0)
    route = Route(0.0, (0.0, 0.0), [tight], 1000.0)
    new = Stop(0, (0.0, 5.0), 50.0, 0.0, 500.0)
    found = fit(route, new)
    assert found is not None and found.position == 1
    assert found.ripple.turned_worse == ()
    easy = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 10.0, None, 600.0)], 1000.0)
    assert fit(easy, new).position == 0


def test_a_window_whose_own_call_would_arrive_at_risk_is_not_offered():
    # Alone in the day: arriving at 5 and due by 14 leaves 9 < the 10 margin.
    route = Route(0.0, (0.0, 0.0), [], 1000.0)
    assert fit(route, Stop(0, (0.0, 5.0), 10.0, 0.0, 14.0)) is None
    # Exactly the margin to spare is fine (the margin is the cushion asked for).
    assert fit(route, Stop(0, (0.0, 5.0), 10.0, 0.0, 15.0)) is not None


def test_among_places_that_fit_the_least_added_drive_wins_to_a_tenth_of_a_minute():
    # Times in seconds here. Call 1 at 100 s out; the new call d further on: going first adds
    # 2d of driving, going after call 1 adds d.
    def best(d: float) -> int:
        route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 100.0), 10.0)], 100_000.0)
        return fit(route, Stop(0, (0.0, 100.0 + d), 10.0, 0.0, 50_000.0)).position

    assert best(600.0) == 1  # 20 against 10 minutes more driving: after call 1
    assert best(12.0) == 1  # 0.4 against 0.2 minutes: still told apart
    assert best(1.51) == 1  # 3.02 s is 0.1 minutes, 1.51 s is 0.0: told apart at the tenth
    # 2 s against 1 s are both 0.0 minutes: a tie, and the earlier arrival (first) wins.
    assert best(1.0) == 0


def test_a_window_is_only_tried_where_the_call_could_still_arrive_in_time():
    # Call 1 finishes at 5 + 100 = 105; the new call is due by 50, so only first can fit, and
    # that is what is offered even though going after call 1 would add no driving at all.
    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 100.0)], 10_000.0)
    found = fit(route, Stop(0, (0.0, 5.0), 10.0, 0.0, 50.0))
    assert found is not None and found.position == 0
    # With work under way (floor 1), nothing can go first: no window.
    busy = Route(0.0, (0.0, 5.0), [Stop(1, (0.0, 5.0), 100.0)], 10_000.0, floor=1)
    assert fit(busy, Stop(0, (0.0, 5.0), 10.0, 0.0, 50.0)) is None


def _confident_fit(route: Route, new: Stop, job: Spread):
    from dispatch.planning.booking import QueueOdds
    from dispatch.planning.odds import queue_odds

    base = route.plan(euclidean)
    travel = Spread(0.0, 0.1)
    odds = queue_odds(route.start_at, base, route.stops, [job] * len(base), travel, now=0.0)
    rules = Rules(risk_margin=10.0, promise_tolerance=5.0, booking_confidence=0.8)
    return window_fit(
        route, new, euclidean, rules=rules, promises=Promises(), base=base,
        odds=QueueOdds(odds, travel),
    )  # fmt: skip


def test_a_window_is_offered_only_where_it_is_likely_enough_to_be_kept():
    # One 240-unit job under way (set out for: nothing goes ahead of it), then the new call:
    # planned to arrive at 241, due at 300.
    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 0.0), 240.0)], 10_000.0, floor=1)
    new = Stop(0, (0.0, 1.0), 30.0, 250.0, 300.0)
    assert fit(route, new) is not None  # 59 of slack: the slack screen would offer it
    steady = _confident_fit(route, new, Spread(0.0, 0.05))
    assert steady is not None and steady.position == 1
    # The same job, but it often runs long: fewer than 8 in 10 arrive by 300.
    assert _confident_fit(route, new, Spread(0.1, 0.4)) is None


def test_a_late_finish_further_down_the_queue_does_not_hide_an_earlier_place():
    # Call 1 (due by 10) cannot be pushed; call 2 finishes at 215, long after the new call is
    # due: the one place is between them.
    route = Route(
        0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 10.0, None, 10.0), Stop(2, (0.0, 5.0), 200.0)], 1e4
    )
    found = fit(route, Stop(0, (0.0, 5.0), 10.0, 0.0, 100.0))
    assert found is not None and found.position == 1


def test_with_no_margin_a_call_due_exactly_when_the_one_before_finishes_still_fits():
    # Same address, call 1 finishes at 50 and cannot be pushed (due by 10); the new call due at
    # 50 arrives at 50: on time, and with a zero margin not at risk either.
    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 5.0), 45.0, None, 10.0)], 1e4)
    exact = Rules(risk_margin=0.0, promise_tolerance=5.0, ripple_shift=15.0)
    found = window_fit(
        route, Stop(0, (0.0, 5.0), 10.0, 0.0, 50.0), euclidean, rules=exact, promises=Promises()
    )
    assert found is not None and found.position == 1


def test_with_no_margin_pushing_another_call_to_arrive_exactly_at_its_deadline_still_fits():
    # Call 1 ten minutes away, due at 30. The new call here first (20 long) gets call 1 there at
    # exactly 30: on time, and with a zero margin not at risk, so the first place is offered.
    route = Route(0.0, (0.0, 0.0), [Stop(1, (0.0, 10.0), 10.0, None, 30.0)], 1e4)
    exact = Rules(risk_margin=0.0, promise_tolerance=5.0, ripple_shift=15.0)
    found = window_fit(
        route, Stop(0, (0.0, 0.0), 20.0, 0.0, 100.0), euclidean, rules=exact, promises=Promises()
    )
    assert found is not None and found.position == 0
    assert found.ripple.turned_worse == ()
