"""What to call a person in words people read: their name, never a login like "tech1"."""

from __future__ import annotations


def person_name(user) -> str:
    """Full name if the account has one, else the technician record's name, else the login."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "system"
    full = user.get_full_name().strip()
    if full:
        return full
    try:
        return user.technician.name  # technicians are named on their record, not the account
    except Exception:  # RelatedObjectDoesNotExist: office staff have no technician record
        return user.get_username()
