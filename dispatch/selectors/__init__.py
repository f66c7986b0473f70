"""Reads for pages and the API; every permission-checked object comes through a door here
(escalations and hand-off offers through theirs in `escalations.py` and `handoffs.py`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import F, JSONField, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse

from common import roles
from common.errors import NotFound
from customers.models import Customer, Site
from dispatch.models import CallEvent, ServiceCall
from dispatch.selectors.queue_fields import ETA_FIELDS
from technicians.models import Skill, Technician


# What a board card shows; everything else stays in the database. The board reads these as
# plain rows (no model instances, no prefetch machinery: a third of a 600-card board's time).
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


def call_get_for_user(
    *, user, call_id: int, for_update: bool = False, related: bool = True
) -> ServiceCall:
    """The only way a view gets a call: anything outside the user's reach is 'not found'.

    `related=False` skips the customer, site, technician and skills (a move re-reads the call
    under its locks and needs only the permission check and where the call is).
    """
    calls = calls_visible_to(user)
    if not related:
        calls = calls.select_related(None).prefetch_related(None)
    if for_update:
        calls = (
            ServiceCall.objects.select_for_update()
            .filter(pk__in=calls.values("pk"))
            .select_related("customer", "site", "technician")
        )
    try:
        return calls.get(pk=call_id)
    except (ServiceCall.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Service call {call_id} was not found.") from None


# A call as the API lists it, read as rows (CallSerializer's fields; see call_rows_data).
CALL_ROW_FIELDS = (
    "id",
    "customer_id",
    "site_id",
    "summary",
    "description",
    "priority",
    "duration_minutes",
    "window_start",
    "deadline",
    "scheduled_day",
    "status",
    "technician_id",
    "position",
    *ETA_FIELDS,
    "eta_computed_at",
    "promised_eta",
    "reschedule_count",
    "version",
    "tracking_token",
    "actual_minutes",
)


def _skill_codes():
    """A call's skill codes, sorted, read in the same query as the call (no query per call)."""
    return skill_codes_subquery(ServiceCall)


# SQLite (`make run` without DATABASE_URL) has no ARRAY(): the same sorted list as a JSON array,
# one constant statement per model (nothing is formatted into SQL).
_SQLITE_SKILL_CODES = {
    "servicecall": "SELECT json_group_array(code) FROM (SELECT s.code FROM technicians_skill s"
    " JOIN dispatch_servicecall_skills cs ON cs.skill_id = s.id"
    " WHERE cs.servicecall_id = dispatch_servicecall.id ORDER BY s.code)",
    "technician": "SELECT json_group_array(code) FROM (SELECT s.code FROM technicians_skill s"
    " JOIN technicians_technician_skills ts ON ts.skill_id = s.id"
    " WHERE ts.technician_id = technicians_technician.id ORDER BY s.code)",
}
_SKILL_LOOKUP = {"servicecall": "calls", "technician": "technicians"}


def skill_codes_subquery(model):
    """A call's or a technician's skill codes, sorted, as a column of the same query."""
    name = model._meta.model_name
    codes = Skill.objects.filter(**{_SKILL_LOOKUP[name]: OuterRef("pk")}).order_by("code")
    if connection.vendor == "postgresql":
        return ArraySubquery(codes.values("code"))
    # A constant statement from the table above: nothing from a request reaches it.
    sql = _SQLITE_SKILL_CODES[name]
    return RawSQL(sql, [], output_field=JSONField())  # noqa: S611  # nosec B611


def call_rows(calls: QuerySet[ServiceCall]) -> QuerySet:
    """`calls` (already narrowed to the user's reach) as dicts with the names the API shows:
    the related names and skill codes in the same query, no model instances."""
    return (
        calls.select_related(None)
        .prefetch_related(None)
        .values(
            *CALL_ROW_FIELDS,
            customer_name=F("customer__name"),
            site_address=F("site__address"),
            technician_name=F("technician__name"),
            skill_codes=_skill_codes(),
        )
    )


def call_events_for_user(*, user, call_id: int) -> QuerySet[CallEvent]:
    call = call_get_for_user(user=user, call_id=call_id)
    # The actor's technician record too: pages name people, and a technician's name is there.
    return call.events.select_related("actor", "actor__technician").order_by("created_at", "id")


def customers_visible_to(user) -> QuerySet[Customer]:
    if roles.is_office(user):
        return Customer.objects.all()
    visible_calls = calls_visible_to(user).values("customer_id")
    return Customer.objects.filter(pk__in=visible_calls)


def sites_visible_to(user) -> QuerySet[Site]:
    return Site.objects.select_related("customer").filter(customer__in=customers_visible_to(user))


def technicians_visible_to(user) -> QuerySet[Technician]:
    """The roster is visible to every signed-in role: technicians hand calls to teammates."""
    if not user.is_authenticated or not roles.roles_of(user):
        return Technician.objects.none()
    return Technician.objects.select_related("team", "user").prefetch_related("skills")


# A technician's home and whereabouts: shown only to those roles.can_see_location allows.
TECHNICIAN_LOCATION_FIELDS = frozenset(
    {"home_lat", "home_lng", "last_lat", "last_lng", "last_seen_at"}
)


def technician_fields_hidden_from(*, user, technician: Technician) -> frozenset[str]:
    """The door for what of a technician a user may read: every serializer of a technician asks
    here, and answers the fields named as null."""
    if roles.can_see_location(user, technician):
        return frozenset()
    return TECHNICIAN_LOCATION_FIELDS


def technician_get_for_user(*, user, technician_id: int) -> Technician:
    try:
        return technicians_visible_to(user).get(pk=technician_id)
    except (Technician.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Technician {technician_id} was not found.") from None


# --- the board ----------------------------------------------------------------------------------


def _done_at(call: ServiceCall) -> datetime | None:
    """When a completed or cancelled call was closed (None while it is open)."""
    if call.status == "completed":
        return call.completed_at or call.updated_at
    if call.status == "cancelled":
        cancelled = (
            CallEvent.objects.filter(call=call, kind="cancelled")
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        return cancelled or call.updated_at
    return None


def tracking_url(token: str) -> str:
    """The customer's tracking link, the same in messages, pages and the API: built on
    PUBLIC_BASE_URL, never the request's Host header (which the client chooses)."""
    return settings.PUBLIC_BASE_URL + reverse("pages:track", args=[token])


_TOKEN_SLOT = "TOKEN0SLOT"  # noqa: S105  # a placeholder in a URL, not a secret


def tracking_url_maker() -> Callable[[str], str]:
    """``tracking_url`` for many calls at once (a page of the API list): the URL is reversed
    once, not once per row (reverse() was a quarter of a 200-call page). Tokens are URL-safe
    base64 (``new_tracking_token``), so putting one in the slot needs no quoting."""
    head, tail = tracking_url(_TOKEN_SLOT).split(_TOKEN_SLOT)
    return lambda token: head + token + tail


def call_get_for_tracking(*, token: str, now: datetime) -> ServiceCall:
    """The customer's door: the unguessable token is the only key; no login. The link works
    until TRACKING_LINK_HOURS_AFTER_DONE after the call is completed or cancelled."""
    call = (
        ServiceCall.objects.select_related("customer", "technician")
        .filter(tracking_token=token)
        .first()
    )
    if call is None:
        raise NotFound("This tracking link is not valid.")
    done_at = _done_at(call)
    lifetime = timedelta(hours=settings.TRACKING_LINK_HOURS_AFTER_DONE)
    if done_at is not None and now > done_at + lifetime:
        raise NotFound("This tracking link has expired.")
    return call


# The board's reads live in board.py; the package keeps them under their old names.
from dispatch.selectors.board import (  # noqa: E402, F401
    ALERT_FIELDS,
    ALERT_MINUTES,
    BOARD_ALERT_KINDS,
    CARD_FIELDS,
    Board,
    BoardCard,
    BoardColumn,
    BoardFingerprint,
    board_alerts,
    board_fingerprint,
    board_get,
    board_of_queues,
    board_team_default,
    board_version,
)
