"""Query-string filters of the API lists; bad values are a 400, never an empty page or a 500."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from common import clock
from customers.models import Site
from dispatch.models import ServiceCall
from dispatch.selectors import search as call_search
from dispatch.selectors.search import CallFilters
from technicians.models import HandoffOffer, Skill, TechAsk, Technician

MAX_ID = 2**63 - 1  # a bigint primary key
MAX_COUNT = 2**31 - 1  # an integer column


class WholeNumberField(forms.IntegerField):
    """Digits only: Django's IntegerField read "3.0" as 3 (found by fuzzing: `?team=3.0`)."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not value.strip().isdigit():
            raise forms.ValidationError("Give a whole number, e.g. 3.", code="invalid")
        return super().to_python(value)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number (the float NumberFilter took 1e105 and then refused it)."""

    field_class = WholeNumberField

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


# The rules themselves live with the board's (one rule in one place); kept here under the old name.
risk_q = call_search.risk_q


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_COUNT})
class CountFilter(django_filters.NumberFilter):
    """A count of at least zero, as a whole number."""

    field_class = WholeNumberField

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, min_value=0, max_value=MAX_COUNT, **kwargs)


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
    skill = django_filters.CharFilter(
        method="filter_skill",
        help_text="Skill code: calls needing it; several separated by commas for any of them.",
    )
    reschedules_min = CountFilter(
        method="filter_reschedules_min",
        help_text="Calls rescheduled (a promised time broken) at least this many times.",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        help_text=(
            "Customer name, phone (any separators, at least 4 digits), site address, or call "
            'number ("62" or "#62"): the same match as the "Find a call" page.'
        ),
        max_length=call_search.SEARCH_MAX_LENGTH,
    )

    class Meta:
        model = ServiceCall
        fields = ["day", "technician", "status", "risk", "priority", "skill", "reschedules_min"]

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

    # Each list filter narrows by the board's rule (search.CallFilters), so both agree.
    def _narrow(self, queryset: QuerySet, **parts) -> QuerySet:
        return queryset.filter(CallFilters(**parts).q(clock.now()))

    @extend_schema_field(_choice_list(ServiceCall.Status.values))
    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        statuses = _comma_list(value, ServiceCall.Status.values, "status")
        return self._narrow(queryset, statuses=tuple(statuses))

    @extend_schema_field(_choice_list(ServiceCall.Priority.values))
    def filter_priority(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        priorities = _comma_list(value, ServiceCall.Priority.values, "priority")
        return self._narrow(queryset, priorities=tuple(priorities))

    @extend_schema_field(_choice_list(ServiceCall.Risk.values))
    def filter_risk(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        risks = _comma_list(value, ServiceCall.Risk.values, "risk")
        return self._narrow(queryset, risks=tuple(risks))

    # Skill codes are reference data, so the schema can only say "codes separated by commas".
    @extend_schema_field(
        {"type": "string", "pattern": r"^[^,]+(,[^,]+)*$", "example": "plumbing,hvac"}
    )
    def filter_skill(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        known = list(Skill.objects.order_by("code").values_list("code", flat=True))
        return self._narrow(queryset, skills=tuple(_comma_list(value, known, "skill")))

    def filter_reschedules_min(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return self._narrow(queryset, reschedules_min=int(value))

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(call_search.call_match_q(value))


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


class AskFilter(django_filters.FilterSet):
    call = IdFilter(field_name="call_id", help_text="Call id.")

    class Meta:
        model = TechAsk
        fields = ["status", "call"]


class TechnicianFilter(django_filters.FilterSet):
    team = IdFilter(field_name="team_id", help_text="Team id.")

    class Meta:
        model = Technician
        fields = ["team", "status"]
