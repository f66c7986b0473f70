"""The one rule for a call's risk in words (dispatch/pages/risk_words.py) and its template filter;
the pages that print it are tested with their pages (cards, alert strip, phone, desk)."""

from __future__ import annotations

import pytest
from django.template import engines

from dispatch.pages.risk_words import risk_label, slack_words


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
