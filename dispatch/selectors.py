"""Reads for pages and the API; every permission-checked object comes through a door here."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from customers.models import Customer, Site
from dispatch import roles
from dispatch.errors import NotFound
from dispatch.models import CallEvent, ServiceCall
from technicians.models import Technician


def calls_visible_to(user) -> QuerySet[ServiceCall]:
    """Office staff see every call; a technician sees their own queue and unassigned calls."""
    calls = ServiceCall.objects.select_related("customer", "site", "technician").prefetch_related(
        "skills"
    )
    if roles.is_office(user):
        return calls
    tech = roles.technician_of(user)
    if tech is None:
        return calls.none()
    return calls.filter(Q(technician=tech) | Q(technician__isnull=True, status="new"))


def call_get_for_user(*, user, call_id: int, for_update: bool = False) -> ServiceCall:
    """The only way a view gets a call: anything outside the user's reach is 'not found'."""
    calls = calls_visible_to(user)
    if for_update:
        calls = ServiceCall.objects.select_for_update().filter(
            pk__in=calls.values("pk")
        ).select_related("customer", "site", "technician")
    try:
        return calls.get(pk=call_id)
    except (ServiceCall.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Service call {call_id} was not found.") from None


def call_events_for_user(*, user, call_id: int) -> QuerySet[CallEvent]:
    call = call_get_for_user(user=user, call_id=call_id)
    return call.events.select_related("actor").order_by("created_at", "id")


def customers_visible_to(user) -> QuerySet[Customer]:
    if roles.is_office(user):
        return Customer.objects.all()
    visible_calls = calls_visible_to(user).values("customer_id")
    return Customer.objects.filter(pk__in=visible_calls)


def sites_visible_to(user) -> QuerySet[Site]:
    return Site.objects.select_related("customer").filter(
        customer__in=customers_visible_to(user)
    )


def technicians_visible_to(user) -> QuerySet[Technician]:
    """The roster is visible to every signed-in role: technicians hand calls to teammates."""
    if not user.is_authenticated or not roles.roles_of(user):
        return Technician.objects.none()
    return Technician.objects.select_related("team", "user").prefetch_related("skills")


def technician_get_for_user(*, user, technician_id: int) -> Technician:
    try:
        return technicians_visible_to(user).get(pk=technician_id)
    except (Technician.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Technician {technician_id} was not found.") from None
