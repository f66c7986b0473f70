"""The session's user arrives with its roles: from the shared cache, else in one query.

The cached user is dropped whenever the user row, its groups or a group it is in change (so a
role removed, an account deactivated or a password changed counts on the next request)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in
from django.contrib.postgres.expressions import ArraySubquery
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import OuterRef
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from common import roles


class RoleAwareBackend(ModelBackend):
    """Django's ModelBackend whose get_user (the session's user, once per request) reads the
    user's group names in the same query, so roles.roles_of needs no query of its own. The
    board's poll runs every 500 ms per open board; this is a sixth of its queries."""

    def get_user(self, user_id):
        if not settings.CACHE_URL:
            return self._read_user(user_id)
        user = cache.get(user_cache_key(user_id))
        if user is None:
            user = self.user_remember(user_id)
        elif not self.user_can_authenticate(user):
            return None
        if user is not None:
            roles.roles_remember(user, group_names=user.group_names)
        return user

    def user_remember(self, user_id):
        """Read the user with its roles and cache it (None: no such active user)."""
        user = self._read_user(user_id)
        if user is not None:
            cache.set(user_cache_key(user_id), user, settings.USER_CACHE_SECONDS)
        return user

    def _read_user(self, user_id):
        if connection.vendor != "postgresql":
            # ArraySubquery is PostgreSQL's; `make run` on SQLite reads roles in a second query.
            user = super().get_user(user_id)
            if user is not None:
                user.group_names = list(user.groups.values_list("name", flat=True))
            return user
        users = get_user_model()._default_manager.annotate(
            group_names=ArraySubquery(Group.objects.filter(user=OuterRef("pk")).values("name"))
        )
        user = users.filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        return user


def user_cache_key(user_id) -> str:
    return f"auth-user:{user_id}"


def user_forget(*user_ids) -> None:
    """Drop the cached users, now and again once the change commits (a request that read the
    old row in between would otherwise cache it again)."""
    keys = [user_cache_key(pk) for pk in user_ids]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def _user_changed(sender, instance, **kwargs) -> None:
    user_forget(instance.pk)  # a deactivation, a password (the session's hash), names


def _groups_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if not reverse:  # user.groups.add/remove/clear
        if action.startswith("post_"):
            user_forget(instance.pk)
    elif action == "pre_clear":  # group.user_set.clear(): its members, while still there
        user_forget(*instance.user_set.values_list("pk", flat=True))
    elif action.startswith("post_") and pk_set:  # group.user_set.add/remove
        user_forget(*pk_set)


def _group_changed(sender, instance, **kwargs) -> None:
    # A renamed or deleted group changes the roles of everyone in it.
    user_forget(*instance.user_set.values_list("pk", flat=True))


def _signed_in(sender, request, user, **kwargs) -> None:
    # After `last_login` is saved (Django's own receiver runs first): the first page after
    # signing in finds the user cached.
    if settings.CACHE_URL:
        RoleAwareBackend().user_remember(user.pk)


def connect_signals() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="auth-user-signed-in")
    user_model = get_user_model()
    post_save.connect(_user_changed, sender=user_model, dispatch_uid="auth-user-saved")
    post_delete.connect(_user_changed, sender=user_model, dispatch_uid="auth-user-deleted")
    m2m_changed.connect(
        _groups_changed, sender=user_model.groups.through, dispatch_uid="auth-user-groups"
    )
    post_save.connect(_group_changed, sender=Group, dispatch_uid="auth-group-saved")
    pre_delete.connect(_group_changed, sender=Group, dispatch_uid="auth-group-deleted")
