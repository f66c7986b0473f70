"""The one rule for a call's risk in words (dispatch/pages/risk_words.py) and its template filter;
the pages that print it are tested with their pages (cards, alert strip, phone, desk)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template import engines

from dispatch.pages.risk_words import risk_label, slack_words, standing_label, waiting_words


@pytest.mark.parametrize(
    ("slack", "words"),
    [
        (20, "20 min to spare"),
        (12.5, "13 min to spare"),  # half away from zero, as floatformat:0 printed it
        (0.4, "0 min to spare"),
        (-0.4, "0 min to spare"),  # never "-0"
        (-2.5, "3 min past the deadline"),
        (-15, "15 min past the deadline"),  # never "slack -15"
        (-75, "1 h 15 min past the deadline"),
        (1234.49, "20 h 34 min to spare"),
        (120, "2 h to spare"),
        (None, ""),  # no deadline: nothing to say
    ],
)
def test_slack_reads_as_time_to_spare_or_past_the_deadline(slack, words):
    assert slack_words(slack) == words


@pytest.mark.parametrize(
    ("risk", "label"),
    [("late", "Late"), ("at_risk", "At risk"), ("ok", "On time"), (None, "On time")],
)
def test_the_risk_label(risk, label):
    assert risk_label(risk) == label


@pytest.mark.parametrize(
    ("slack", "words"), [(-15.2, "15 min past the deadline"), (45, "45 min to spare"), (None, "")]
)
def test_templates_print_the_same_words(slack, words):
    template = engines["django"].from_string("{% load odds %}{{ slack|to_spare }}")
    assert template.render({"slack": slack}) == words


@pytest.mark.parametrize(
    ("risk", "has_deadline", "assigned", "label"),
    [
        ("late", True, False, "Late"),
        ("at_risk", True, True, "At risk"),
        ("ok", True, True, "On time"),
        ("ok", False, True, "No deadline"),  # nothing to be on time for
        ("ok", False, False, "Unassigned"),  # nobody has it: no ETA to be on time with
        ("ok", True, False, "Unassigned"),
        (None, False, True, "No deadline"),
    ],
)
def test_a_call_is_on_time_only_with_a_deadline_and_someone_going(
    risk, has_deadline, assigned, label
):
    assert standing_label(risk, has_deadline=has_deadline, assigned=assigned) == label


def test_waiting_words_count_from_the_start_of_the_wait_and_never_before_it():
    since = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
    assert waiting_words(since, since + timedelta(minutes=90, seconds=59)) == "waiting 1 h 30 min"
    assert waiting_words(since, since) == "waiting 0 min"
    assert waiting_words(since, since - timedelta(minutes=1)) == ""
    assert waiting_words(None, since) == ""
