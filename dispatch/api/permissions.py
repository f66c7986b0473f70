"""Coarse API gates from the role matrix; services and selectors make the fine decisions."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from common import roles


class HasDispatchRole(BasePermission):
    """Signed in with one of the four roles; anyone else has no business on the board."""

    message = "Your account has no role on the dispatch board."

    def has_permission(self, request, view) -> bool:
        return bool(roles.roles_of(request.user))


class OfficeWritesOrReadOnly(HasDispatchRole):
    """Customers and sites: every role reads (within its reach), office staff write."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        self.message = "Only CSRs, dispatchers and managers can change customers and sites."
        return roles.can_book(request.user)


class ManagerWritesOrReadOnly(HasDispatchRole):
    """Skills and the technician roster: every role reads, managers write."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        self.message = "Only managers can change skills and the technician roster."
        return roles.can_edit_reference_data(request.user)


class CanBookCalls(HasDispatchRole):
    """Booking, editing and cancelling calls is office work.

    Checked per object for existing calls, so a call outside the user's reach is a 404 (from
    `call_get_for_user`) before it is a 403.
    """

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS or getattr(view, "action", None) != "create":
            return True
        self.message = "Only CSRs, dispatchers and managers can book calls."
        return roles.can_book(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        self.message = "Only CSRs, dispatchers and managers can edit or cancel calls."
        return roles.can_book(request.user)
