"""Query-string filters of the API lists; bad values are a 400, never an empty page or a 500."""

from __future__ import annotations

from datetime import datetime, timedelta

import django_filters
from django.conf import settings
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

from customers.models import Site
from dispatch import clock
from dispatch.models import ServiceCall
from technicians.models import Technician


def _comma_list(value: str, allowed: list[str], name: str) -> list[str]:
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    unknown = sorted(set(wanted) - set(allowed))
    if unknown or not wanted:
        raise ValidationError(
            {name: [f"Unknown {name} {', '.join(unknown) or '(empty)'}; use {', '.join(allowed)}."]}
        )
    return wanted


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

    def filter_technician(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value.strip().lower() in ("none", "null"):
            return queryset.filter(technician__isnull=True)
        try:
            return queryset.filter(technician_id=int(value))
        except ValueError:
            raise ValidationError(
                {"technician": [f"Give a technician id or 'none', not {value!r}."]}
            ) from None

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(status__in=_comma_list(value, ServiceCall.Status.values, "status"))

    def filter_priority(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            priority__in=_comma_list(value, ServiceCall.Priority.values, "priority")
        )

    def filter_risk(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            risk_q(_comma_list(value, ServiceCall.Risk.values, "risk"), clock.now())
        )


class SiteFilter(django_filters.FilterSet):
    class Meta:
        model = Site
        fields = ["customer"]


class TechnicianFilter(django_filters.FilterSet):
    class Meta:
        model = Technician
        fields = ["team", "status"]
