"""What the base layout needs to know about the signed-in user's role, lazily."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from common import roles


def nav(request: HttpRequest) -> dict:
    # Lazy, and from the roles the view already looked up (cached on the user): the nav costs
    # no query of its own on the board. Each link shows only to a role its page lets in (a CSR
    # sent to a bare 403 by their own menu was issue 15's complaint).
    user = request.user
    return {
        "nav_is_technician": SimpleLazyObject(lambda: roles.TECHNICIAN in roles.roles_of(user)),
        "nav_is_office": SimpleLazyObject(lambda: roles.is_office(user)),
        "nav_dashboards": SimpleLazyObject(lambda: roles.can_see_dashboards(user)),
        "nav_rota": SimpleLazyObject(lambda: roles.can_edit_rota(user)),
    }
