"""Asks as a user may read them: the list, the one door to a single ask, and the latest ask
about a call (what the move rule and the confirm panel read)."""

from __future__ import annotations

from django.db.models import QuerySet

from common import roles
from common.errors import NotFound
from technicians.models import TechAsk


def asks_visible_to(user) -> QuerySet[TechAsk]:
    """Office staff see every ask; a technician sees the asks put to them."""
    asks = TechAsk.objects.select_related("technician", "to_technician", "asked_by")
    if roles.is_office(user):
        return asks
    me = roles.technician_of(user)
    return asks.none() if me is None else asks.filter(technician=me)


def ask_get_for_user(*, user, ask_id, for_update: bool = False) -> TechAsk:
    """The only way a page, an API view or a service gets one ask, with its call. Who may
    *answer* it is narrower (only the technician asked: the service checks)."""
    asks = asks_visible_to(user).select_related("call")
    if for_update:
        asks = asks.select_for_update(of=("self",))
    try:
        return asks.get(pk=ask_id)
    except (TechAsk.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Ask {ask_id} was not found.") from None


def latest_ask(*, call_id: int, technician_id: int | None) -> TechAsk | None:
    """The newest ask to this technician about this call, if any (one query)."""
    if technician_id is None:
        return None
    return (
        TechAsk.objects.filter(call_id=call_id, technician_id=technician_id)
        .select_related("technician")
        .order_by("-created_at", "-id")
        .first()
    )
