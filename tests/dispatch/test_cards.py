"""The Python board renderer prints exactly what the templates it replaced printed.

tests/data/card_template_spec.html is the card template as it was (templates/dispatch/partials/
_card.html, rendered inside the columns' `{% localize off %}`): it is the specification of
dispatch/pages/cards.py, so the two cannot drift apart unnoticed. The column templates are kept the
same way (tests/data/column_template_spec.html, unassigned_template_spec.html), with the cards
they included as a variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Exists, OuterRef
from django.template import engines
from django.utils import timezone

from dispatch import selectors
from dispatch.models import Escalation, ServiceCall
from dispatch.pages.cards import card_html, cards_html, column_html, unassigned_html
from dispatch.pages.risk_words import duration_words
from tests.conftest import DAY, local

# The card template this renderer replaced, as the columns rendered it.
CARD_TEMPLATE = (
    "{% load l10n %}{% localize off %}"
    + (Path(__file__).parent.parent / "data" / "card_template_spec.html").read_text()
    + "{% endlocalize %}"
)

ODD_TEXT = "<script>alert('x')</script> & \"quotes\" Ü ×"


@pytest.fixture
def varied_calls(make_call, tom, tina, skills, customer):
    customer.name = 'O\'Brien & <Sons> "Ltd"'
    customer.save()
    calls = [
        make_call(summary=ODD_TEXT, priority="emergency", deadline=local(11, 30)),
        make_call(summary="plain", priority="low", slack_minutes=None),
        make_call(
            tom,
            summary="windowed",
            priority="high",
            window_start=local(9, 5),
            deadline=local(11, 0),
            eta=local(9, 7),
            slack_minutes=-2.5,
            risk="late",
            overtime=True,
            reschedule_count=2,
            status="en_route",
            skills=[skills["plumbing"], skills["hvac"]],
        ),
        make_call(
            tom, summary="due only", deadline=local(23, 59), eta=local(0, 1), slack_minutes=0.4
        ),
        make_call(
            tom, summary="negative zero", slack_minutes=-0.4, risk="at_risk", status="on_site"
        ),
        make_call(
            tom, summary="half", slack_minutes=12.5, risk="ok", skills=[skills["electrical"]]
        ),
        make_call(
            tina, summary="big", slack_minutes=1234.49, priority="normal", reschedule_count=1
        ),
        make_call(
            tina, summary="window without deadline", window_start=local(8, 0), eta=local(8, 0)
        ),
    ]
    Escalation.objects.create(call=calls[2], reason="complaint")
    Escalation.objects.create(call=calls[1], reason="other", status="resolved")
    return calls


@pytest.mark.parametrize("with_team", [True, False])
def test_python_cards_match_the_card_template(dispatcher, north, varied_calls, with_team):
    team = north if with_team else None
    board = selectors.board_get(user=dispatcher, day=DAY, team=team)
    cards = board.unassigned + [call for column in board.columns for call in column.calls]
    assert len(cards) == len(varied_calls)
    spec = engines["django"].from_string(CARD_TEMPLATE)
    team_param = str(north.pk) if with_team else "all"
    escalated = Exists(Escalation.objects.filter(call=OuterRef("pk"), status="open"))
    now = timezone.now() + timedelta(minutes=90)
    for card in cards:
        # The template read model instances: the call, its customer, its skills.
        call = ServiceCall.objects.annotate(escalated=escalated).get(pk=card.pk)
        waited = ""
        if call.technician_id is None:
            since = max(call.created_at, call.window_start or call.created_at)
            waited = f"waiting {duration_words(int((now - since).total_seconds() // 60))}"
        expected = spec.render({"call": call, "board": board, "waited": waited})
        html = card_html(card, calls_prefix=board.calls_prefix, team=team_param, now=now)
        assert html == expected


def test_cards_escape_user_text_on_the_board(client, dispatcher, varied_calls):
    client.force_login(dispatcher)
    html = client.get(f"/board/?day={DAY.isoformat()}&view=columns").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in html
    assert "O&#x27;Brien &amp; &lt;Sons&gt; &quot;Ltd&quot;" in html
    assert html.count('class="card ') == len(varied_calls)
    assert "▲ Escalated: a manager is on it" in html and "⚠ EMERGENCY" in html


def _spec(name: str):
    return engines["django"].from_string((Path(__file__).parent.parent / "data" / name).read_text())


@pytest.mark.parametrize("oob", [False, True])
def test_python_columns_match_the_column_templates(dispatcher, north, varied_calls, tom, oob):
    tom.name = "Tom <O'Hara> & Co"
    tom.status = "en_route"
    tom.save()
    board = selectors.board_get(user=dispatcher, day=DAY, team=north)
    assert any(column.overtime for column in board.columns)
    for column in board.columns:
        cards = cards_html(column.calls, calls_prefix=board.calls_prefix, team_id=north.pk)
        context = {"column": column, "board": board, "oob": oob, "cards": cards}
        assert column_html(column, board=board, oob=oob) == _spec(
            "column_template_spec.html"
        ).render(context)
    for unassigned in (board.unassigned, board.unassigned[:1], []):
        board.unassigned = unassigned
        cards = cards_html(unassigned, calls_prefix=board.calls_prefix, team_id=north.pk)
        context = {"board": board, "oob": oob, "cards": cards}
        assert unassigned_html(board, oob=oob) == _spec("unassigned_template_spec.html").render(
            context
        )


def test_a_card_says_the_time_to_spare_or_how_late_in_words(client, dispatcher, tom, make_call):
    late = make_call(tom, summary="late", deadline=local(9), risk="late", slack_minutes=-15.4)
    spare = make_call(tom, summary="spare", deadline=local(15), slack_minutes=80)
    client.force_login(dispatcher)
    html = client.get(f"/board/?day={DAY.isoformat()}&view=columns").content.decode()

    def card(call):
        start = html.index(f'id="call-{call.pk}"')
        return html[start : html.index("</article>", start)]

    assert '<span class="spare">15 min past the deadline</span>' in card(late)
    assert '<span class="spare">1 h 20 min to spare</span>' in card(spare)
    assert "Slack" not in html and "-15" not in card(late)


def test_an_unassigned_emergency_says_how_long_it_has_waited_not_on_time(
    client, clock_at, dispatcher, tom, make_call
):
    waiting = make_call(summary="gas smell", priority="emergency", created_at=local(7, 0))
    later = make_call(summary="not open yet", window_start=local(13), deadline=local(15))
    mine = make_call(tom, summary="no deadline", eta=local(9, 10))
    clock_at(local(8, 30))
    client.force_login(dispatcher)
    html = client.get(f"/board/?day={DAY.isoformat()}&view=columns").content.decode()
    card = html.split(f'id="call-{waiting.pk}"')[1].split("</article>")[0]
    assert "⚠ EMERGENCY" in card
    assert '<span class="risk-badge standing-unassigned">Unassigned</span>' in card
    assert '<span class="waiting">Waiting 1 h 30 min</span>' in card
    assert "On time" not in card and "ETA" not in card
    # Not waiting yet (its window opens at 13:00): no ETA, and nothing counted.
    card = html.split(f'id="call-{later.pk}"')[1].split("</article>")[0]
    assert "<span>No ETA yet</span>" in card and "Waiting" not in card and "On time" not in card
    # Someone has it, but there is nothing to be on time for.
    card = html.split(f'id="call-{mine.pk}"')[1].split("</article>")[0]
    assert '<span class="risk-badge standing-none">No deadline</span>' in card
    assert "<span>ETA 09:10</span>" in card and "On time" not in card
