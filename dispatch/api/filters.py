"""Query-string filters of the API lists; bad values are a 400, never an empty page or a 500."""

from __future__ import annotations

from datetime import datetime, timedelta

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from common import clock
from customers.models import Site
from dispatch.models import ServiceCall
from technicians.models import HandoffOffer, Technician

MAX_ID = 2**63 - 1  # a bigint primary key


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number (the float NumberFilter took 1e105 and then refused it)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


def _comma_list(value: str, allowed: list[str], name: str) -> list[str]:
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    unknown = sorted(set(wanted) - set(allowed))
    if unknown or not wanted:
        raise ValidationError(
            {name: [f"Unknown {name} {', '.join(unknown) or '(empty)'}; use {', '.join(allowed)}."]}
        )
    return wanted


def _choice_list(allowed: list[str]) -> dict:
    """The schema of a comma-separated list of choices (it said "any string")."""
    one = "(" + "|".join(allowed) + ")"
    return {"type": "string", "pattern": f"^{one}(,{one})*$", "example": ",".join(allowed[:2])}


def risk_q(risks: list[str], now: datetime) -> Q:
    """Calls whose risk is one of `risks`, as the API shows it.

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


class CallFilter(django_filters.FilterSet):
    day = django_filters.DateFilter(field_name="scheduled_day", help_text="Scheduled day.")
    technician = django_filters.CharFilter(
        method="filter_technician", help_text="Technician id, or `none` for unassigned calls."
    )
    status = django_filters.CharFilter(
        method="filter_status", help_text="Status, or several separated by commas."
    )
    risk = django_filters.CharFilter(
        method="filter_risk", help_text="ok, at_risk or late; several separated by commas."
    )
    priority = django_filters.CharFilter(
        method="filter_priority", help_text="Priority, or several separated by commas."
    )

    class Meta:
        model = ServiceCall
        fields = ["day", "technician", "status", "risk", "priority"]

    @extend_schema_field({"type": "string", "pattern": r"^([0-9]+|none|null)$"})
    def filter_technician(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value.strip().lower() in ("none", "null"):
            return queryset.filter(technician__isnull=True)
        try:
            return queryset.filter(technician_id=int(value))
        except ValueError:
            raise ValidationError(
                {"technician": [f"Give a technician id or 'none', not {value!r}."]}
            ) from None

    @extend_schema_field(_choice_list(ServiceCall.Status.values))
    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(status__in=_comma_list(value, ServiceCall.Status.values, "status"))

    @extend_schema_field(_choice_list(ServiceCall.Priority.values))
    def filter_priority(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            priority__in=_comma_list(value, ServiceCall.Priority.values, "priority")
        )

    @extend_schema_field(_choice_list(ServiceCall.Risk.values))
    def filter_risk(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            risk_q(_comma_list(value, ServiceCall.Risk.values, "risk"), clock.now())
        )


class SiteFilter(django_filters.FilterSet):
    # By id: an id outside the caller's reach (or no such customer) is an empty list, as any
    # other filter that matches nothing (a choice filter answered 400 "not a valid choice").
    customer = IdFilter(field_name="customer_id", help_text="Customer id.")

    class Meta:
        model = Site
        fields = ["customer"]


class HandoffFilter(django_filters.FilterSet):
    # By id, as SiteFilter: a choice filter over every call answered 400 for a call id that does
    # not exist and 200 for one that does, telling a technician which ids are real.
    call = IdFilter(field_name="call_id", help_text="Call id.")

    class Meta:
        model = HandoffOffer
        fields = ["status", "call"]


class TechnicianFilter(django_filters.FilterSet):
    team = IdFilter(field_name="team_id", help_text="Team id.")

    class Meta:
        model = Technician
        fields = ["team", "status"]
