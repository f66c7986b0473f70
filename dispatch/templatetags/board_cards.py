"""`{% board_cards calls board %}`: a column's cards in one call (see dispatch/cards.py)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from dispatch.cards import cards_html

register = template.Library()


@register.simple_tag
def board_cards(calls, board) -> SafeString:
    team = board.team.pk if board.team is not None else None
    return cards_html(calls, calls_prefix=board.calls_prefix, team_id=team)
