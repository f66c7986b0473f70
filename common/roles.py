"""The four roles (Django groups) and the questions the permission matrix asks of them.

docs/design.md ("Roles: who may do what") is the source; services and selectors call these
helpers so pages and the API share one answer. Superusers count as managers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.errors import NotAllowed, NotFound

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from dispatch.models import ServiceCall
    from technicians.models import HandoffOffer, Technician

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


def can_edit_rota(user: User) -> bool:
    """The on-call rota (nights and weekends) is a manager's to set."""
    return MANAGER in roles_of(user)


def can_see_escalations(user: User) -> bool:
    """The escalation queue and each escalation in it are the office's (no technician's)."""
    return is_office(user)


def can_escalate(user: User, call: ServiceCall) -> bool:
    """Office staff may escalate any call they can see; a technician only their own."""
    if is_office(user):
        return True
    me = technician_of(user)
    return me is not None and call.technician_id == me.pk


def can_resolve_escalations(user: User) -> bool:
    return MANAGER in roles_of(user)


def can_see_dashboards(user: User) -> bool:
    return bool(roles_of(user) & {DISPATCHER, MANAGER})


def staff_team_ids(user: User) -> frozenset[int]:
    """The teams the user works as office staff (Team.staff), cached on the user for the
    request (a roster page asks once per technician)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_dispatch_team_ids", None)
    if cached is None:
        cached = frozenset(user.teams.values_list("pk", flat=True))
        user._dispatch_team_ids = cached
    return cached


def can_see_location(user: User, technician: Technician) -> bool:
    """Where a technician lives and is (issue 19: every role read it): the technician
    themselves, their team's dispatchers, and managers (who oversee every team)."""
    mine = roles_of(user)
    if MANAGER in mine:
        return True
    me = technician_of(user)
    if me is not None and me.pk == technician.pk:
        return True
    return DISPATCHER in mine and technician.team_id in staff_team_ids(user)


def technician_of(user: User) -> Technician | None:
    """The technician record of a user in the technician role, else None."""
    if TECHNICIAN not in roles_of(user):
        return None
    try:
        return user.technician
    except Exception:  # RelatedObjectDoesNotExist: a technician login without a record
        return None


def is_offered_by(user: User, offer: HandoffOffer) -> bool:
    """The user is the technician who made the hand-off offer."""
    me = technician_of(user)
    return me is not None and offer.from_technician_id == me.pk


def is_offered_to(user: User, offer: HandoffOffer) -> bool:
    """The user is the teammate the hand-off offer was made to."""
    me = technician_of(user)
    return me is not None and offer.to_technician_id == me.pk


# --- refusals: the one line a service or selector calls, with the words the user is shown -----


def require_can_see_escalations(user: User) -> None:
    if not can_see_escalations(user):
        raise NotAllowed("Only CSRs, dispatchers and managers see the escalation queue.")


def require_can_escalate(user: User, call: ServiceCall) -> None:
    if not can_escalate(user, call):
        raise NotAllowed("A technician can escalate only calls in their own queue.")


def require_can_resolve_escalations(user: User) -> None:
    if not can_resolve_escalations(user):
        raise NotAllowed("Only a manager can resolve an escalation.")


def require_can_hand_off(user: User, call: ServiceCall) -> Technician:
    """Only the technician whose queue holds the call may offer it; returns that technician."""
    me = technician_of(user)
    if me is None:
        raise NotAllowed("Only the technician on a call can offer it to a teammate.")
    if call.technician_id != me.pk:
        raise NotAllowed(f"Call #{call.pk} is not in your queue, so you can't hand it off.")
    return me


def require_can_hand_to(me: Technician, target: Technician) -> None:
    """A call is handed only to a teammate (the target's existence and identity are checked
    first, by the service)."""
    if target.team_id != me.team_id:
        raise NotAllowed(f"You can hand a call only to a teammate; {target} is on another team.")


def require_offered_to(user: User, offer: HandoffOffer) -> None:
    """Only the teammate an offer was made to may answer it; to anyone else it does not exist
    (the offerer and office staff may see it, but not answer it)."""
    if not is_offered_to(user, offer):
        raise NotFound(f"Hand-off offer {offer.pk} was not found.")


def require_offered_by(user: User, offer: HandoffOffer) -> None:
    """Only the offerer may withdraw an offer; to anyone else it does not exist."""
    if not is_offered_by(user, offer):
        raise NotFound(f"Hand-off offer {offer.pk} was not found.")
