"""The board's columns and cards in one call each (see dispatch/pages/cards.py)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from dispatch.pages.cards import column_html, unassigned_html
from dispatch.pages.timeline_html import timeline_rows_html

register = template.Library()


@register.simple_tag
def board_column(column, board, oob: bool = False) -> SafeString:
    return column_html(column, board=board, oob=oob)


@register.simple_tag
def board_unassigned(board, oob: bool = False, focus: int | None = None) -> SafeString:
    return unassigned_html(board, oob=oob, focus=focus)


@register.simple_tag
def timeline_rows(timeline) -> SafeString:
    return timeline_rows_html(timeline)
