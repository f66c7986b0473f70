"""The session's user arrives with its roles: one query instead of two on every request."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef

from common import roles


class RoleAwareBackend(ModelBackend):
    """Django's ModelBackend whose get_user (the session's user, once per request) reads the
    user's group names in the same query, so roles.roles_of needs no query of its own. The
    board's poll runs every 500 ms per open board; this is a sixth of its queries."""

    def get_user(self, user_id):
        if connection.vendor != "postgresql":
            # ArraySubquery is PostgreSQL's; `make run` on SQLite reads roles in a second query.
            return super().get_user(user_id)
        users = get_user_model()._default_manager.annotate(
            group_names=ArraySubquery(Group.objects.filter(user=OuterRef("pk")).values("name"))
        )
        user = users.filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        roles.roles_remember(user, group_names=user.group_names)
        return user
