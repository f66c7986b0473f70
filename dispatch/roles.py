"""The four roles (Django groups) and the questions the permission matrix asks of them.

DESIGN.md "Who may do what" is the source; services and selectors call these helpers so pages
and the API share one answer. Superusers count as managers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from technicians.models import Technician

    User = AbstractBaseUser | AnonymousUser

CSR = "csr"
DISPATCHER = "dispatcher"
TECHNICIAN = "technician"
MANAGER = "manager"
ALL_ROLES = (CSR, DISPATCHER, TECHNICIAN, MANAGER)
OFFICE_ROLES = frozenset({CSR, DISPATCHER, MANAGER})


def roles_of(user: User) -> frozenset[str]:
    """The user's roles, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_dispatch_roles", None)
    if cached is None:
        cached = roles_remember(user, group_names=user.groups.values_list("name", flat=True))
    return cached


def roles_remember(user: User, *, group_names) -> frozenset[str]:
    """Cache the roles on the user for the request, from its group names (read by roles_of, or
    with the user row itself by dispatch.auth.RoleAwareBackend)."""
    names = set(group_names)
    if user.is_superuser:
        names.add(MANAGER)
    user._dispatch_roles = frozenset(names & set(ALL_ROLES))
    return user._dispatch_roles


def is_office(user: User) -> bool:
    """CSR, dispatcher or manager: sees the whole board."""
    return bool(roles_of(user) & OFFICE_ROLES)


def can_book(user: User) -> bool:
    return bool(roles_of(user) & OFFICE_ROLES)


def can_move_any(user: User) -> bool:
    return bool(roles_of(user) & {DISPATCHER, MANAGER})


def can_take_from_working_tech(user: User) -> bool:
    return bool(roles_of(user) & {DISPATCHER, MANAGER})


def can_manage_technicians(user: User) -> bool:
    return bool(roles_of(user) & {DISPATCHER, MANAGER})


def can_edit_reference_data(user: User) -> bool:
    """Skills and the technician roster are a manager's to change."""
    return MANAGER in roles_of(user)


def can_resolve_escalations(user: User) -> bool:
    return MANAGER in roles_of(user)


def can_see_dashboards(user: User) -> bool:
    return bool(roles_of(user) & {DISPATCHER, MANAGER})


def technician_of(user: User) -> Technician | None:
    """The technician record of a user in the technician role, else None."""
    if TECHNICIAN not in roles_of(user):
        return None
    try:
        return user.technician
    except Exception:  # RelatedObjectDoesNotExist: a technician login without a record
        return None
