"""Hand-off offers as a user may read them: the list, and the one door to a single offer.

The expiry sweep (`handoff_offers_expire`) and the voiding of a call's offers act for the system,
not for a user, and read offers without these doors.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from common import roles
from common.errors import NotFound
from technicians.models import HandoffOffer


def handoffs_visible_to(user) -> QuerySet[HandoffOffer]:
    """Office staff see every offer; a technician sees offers made by or to them."""
    offers = HandoffOffer.objects.select_related("from_technician", "to_technician")
    if roles.is_office(user):
        return offers
    me = roles.technician_of(user)
    if me is None:
        return offers.none()
    return offers.filter(Q(from_technician=me) | Q(to_technician=me))


def handoff_offer_get_for_user(*, user, offer_id: int, for_update: bool = False) -> HandoffOffer:
    """The only way a page, an API view or a service gets one offer, with its call and both
    technicians (and the offerer's user, whose authority an accepted offer moves with).

    The offering technician, the teammate it was offered to and office staff may get it; to
    anyone else it does not exist (NotFound). Who may *answer* or *withdraw* it is narrower:
    see `roles.require_offered_to` / `roles.require_offered_by`. `for_update` locks the offer
    with the rows read alongside it.
    """
    offers = handoffs_visible_to(user).select_related("from_technician__user", "call")
    if for_update:
        offers = offers.select_for_update()
    try:
        return offers.get(pk=offer_id)
    except (HandoffOffer.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Hand-off offer {offer_id} was not found.") from None
