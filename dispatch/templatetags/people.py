"""`{{ user|person }}`: a person's name on a page, never their login ("tech1")."""

from __future__ import annotations

from django import template

from common.names import person_name

register = template.Library()


@register.filter
def person(user) -> str:
    return person_name(user)
