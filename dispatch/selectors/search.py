"""Finding a call or a customer from what a caller says on the phone, and the board's filters.

One rule each, used everywhere it applies: the "Find a call" page, the API's
`GET /api/v1/calls/?search=` and the booking page's customer search match by `call_match_q` /
`customer_match_q`; the API's list filters and the board's filter bar narrow by `call_filter_q`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Replace
from django.db.models.lookups import Contains
from django.utils import timezone

from customers.models import Customer, Site
from dispatch.models import ServiceCall

SEARCH_MAX_LENGTH = 100
# Fewer digits would match half the phone book; "62" alone is a call number, not a phone.
PHONE_MIN_DIGITS = 4
# Only phone-like text is compared with phone numbers ("1234 Main St" is an address).
_PHONE_LIKE = re.compile(r"^[\d\s()+./-]+$")
_CALL_NUMBER = re.compile(r"^#?\s*(\d{1,18})$")
# What people write between a phone number's digits; stripped on both sides before comparing
# (a plain Replace chain: SQLite, used by `make run`, has no regexp_replace).
_PHONE_SEPARATORS = (" ", "-", "(", ")", ".", "+", "/")
# Closed calls stay findable this long ("the job you did last Tuesday"); open ones always.
RECENT_DAYS = 30
FIND_LIMIT = 50


def search_text(raw: str | None) -> str:
    """The search as typed, trimmed and bounded (a pasted page is not a query)."""
    return (raw or "").strip()[:SEARCH_MAX_LENGTH]


def _digits_of(field: str):
    expression = F(field)
    for separator in _PHONE_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def _phone_digits(text: str) -> str | None:
    if not _PHONE_LIKE.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= PHONE_MIN_DIGITS else None


def _phone_q(text: str, field: str) -> Q:
    digits = _phone_digits(text)
    if digits is None:
        return Q(pk__in=[])
    return Q(Contains(_digits_of(field), digits))


def call_match_q(text: str) -> Q:
    """Calls whose customer's name or phone, site address or number matches `text`.

    "62" and "#62" find call 62 (and any name or address containing "62"); a phone number
    matches whatever separators either side was written with; an empty text matches nothing.
    """
    text = search_text(text)
    if not text:
        return Q(pk__in=[])
    query = (
        Q(customer__name__icontains=text)
        | Q(site__address__icontains=text)
        | _phone_q(text, "customer__phone")
    )
    number = _CALL_NUMBER.match(text)
    if number and int(number.group(1)) < 2**63:
        query |= Q(pk=int(number.group(1)))
    return query


def customer_match_q(text: str) -> Q:
    """Customers whose name, phone or one of whose site addresses matches `text` (the same
    rule as `call_match_q`, for a customer before there is a call)."""
    text = search_text(text)
    if not text:
        return Q(pk__in=[])
    address = Site.objects.filter(customer=OuterRef("pk"), address__icontains=text)
    return Q(name__icontains=text) | Q(Exists(address)) | _phone_q(text, "phone")


def customers_matching(customers: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    return customers.filter(customer_match_q(text))


def calls_find(calls: QuerySet[ServiceCall], text: str, *, now: datetime) -> list[ServiceCall]:
    """The "Find a call" page: `calls` (already narrowed to the user's reach) matching `text`,
    open ones (any day) first, then the recently closed, newest day first."""
    since = timezone.localdate(now) - timedelta(days=RECENT_DAYS)
    open_first = Case(
        When(status__in=ServiceCall.OPEN_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return list(
        calls.filter(call_match_q(text))
        .filter(Q(status__in=ServiceCall.OPEN_STATUSES) | Q(scheduled_day__gte=since))
        .annotate(closed=open_first)
        .order_by("closed", "-scheduled_day", "position", "-id")[:FIND_LIMIT]
    )


# --- filters: the API's list and the board -----------------------------------------------------


def risk_q(risks: list[str] | tuple[str, ...], now: datetime) -> Q:
    """Calls whose risk is one of `risks`, as the API and the board show it.

    An unassigned call's risk comes from its deadline and the clock (it grows late while it
    waits); a queued call's risk is the one the ETA engine stored.
    """
    margin = now + timedelta(minutes=settings.RISK_MARGIN_MINUTES)
    waiting = {
        "late": Q(deadline__lt=now),
        "at_risk": Q(deadline__gte=now, deadline__lt=margin),
        "ok": Q(deadline__isnull=True) | Q(deadline__gte=margin),
    }
    stored = {"late": Q(risk="late"), "at_risk": Q(risk="at_risk"), "ok": Q(risk__in=["ok", ""])}
    query = Q(pk__in=[])
    for risk in risks:
        query |= (Q(status="new") & waiting[risk]) | (~Q(status="new") & stored[risk])
    return query


def skill_q(codes: list[str] | tuple[str, ...]) -> Q:
    """Calls needing any of these skills (an EXISTS, so a call needing two is listed once)."""
    needs = ServiceCall.skills.through.objects.filter(
        servicecall=OuterRef("pk"), skill__code__in=list(codes)
    )
    return Q(Exists(needs))


@dataclass(frozen=True)
class CallFilters:
    """The board's and the API's narrowing of calls; empty parts do not narrow."""

    skills: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    reschedules_min: int | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.skills
            or self.priorities
            or self.risks
            or self.statuses
            or self.reschedules_min is not None
        )

    def q(self, now: datetime) -> Q:
        query = Q()
        if self.skills:
            query &= skill_q(self.skills)
        if self.priorities:
            query &= Q(priority__in=self.priorities)
        if self.risks:
            query &= risk_q(self.risks, now)
        if self.statuses:
            query &= Q(status__in=self.statuses)
        if self.reschedules_min is not None:
            query &= Q(reschedule_count__gte=self.reschedules_min)
        return query


FILTER_PARAMS = ("skill", "priority", "risk", "status", "reschedules_min")


def call_filters_from(params) -> CallFilters:
    """The board's filters from a query string (the API's names). A page is lenient where the
    API answers 400: an unknown choice is dropped, as a hand-edited URL should not break the
    board."""

    def choices(name: str, allowed) -> tuple[str, ...]:
        wanted = [v.strip() for v in ",".join(params.getlist(name)).split(",") if v.strip()]
        return tuple(v for v in wanted if allowed is None or v in allowed)

    raw = (params.get("reschedules_min") or "").strip()
    return CallFilters(
        skills=choices("skill", None),
        priorities=choices("priority", ServiceCall.Priority.values),
        risks=choices("risk", ServiceCall.Risk.values),
        statuses=choices("status", ServiceCall.Status.values),
        reschedules_min=int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None,
    )
