"""The risk rule for a queued call and the order of badness (dispatch/planning/risk.py): what is
stored and shown on every card, and what raises or clears a risk event."""

from __future__ import annotations

import pytest

from dispatch.planning.eta import AT_RISK, LATE, OK
from dispatch.planning.risk import risk_of, risk_worse


def test_late_is_late_whatever_the_chance_says():
    assert risk_of(True, None, 0.3) == LATE
    assert risk_of(True, 0.0, 0.3) == LATE


def test_at_risk_only_above_the_threshold_not_at_it():
    assert risk_of(False, 0.31, 0.3) == AT_RISK
    assert risk_of(False, 0.3, 0.3) == OK  # exactly at the threshold is still ok
    assert risk_of(False, 0.0, 0.3) == OK


def test_without_a_chance_a_call_that_is_not_late_is_ok():
    assert risk_of(False, None, 0.3) == OK  # no distribution drawn: never at risk by default


@pytest.mark.parametrize(
    ("before", "after", "worse"),
    [
        (OK, AT_RISK, True),
        (AT_RISK, LATE, True),
        ("", LATE, True),  # a blank (never computed) counts as ok
        (OK, OK, False),  # the same is not worse: no second risk event
        (AT_RISK, AT_RISK, False),
        (LATE, LATE, False),
        ("", OK, False),
        (LATE, AT_RISK, False),
    ],
)
def test_worse_means_strictly_worse(before, after, worse):
    assert risk_worse(before, after) is worse
