"""Service calls: the call as clients read it (also straight from rows, for the list), booking
and editing a call, cancelling it, and the 409 every stale write answers with.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common import clock, roles
from common.errors import MoveConflict
from customers.models import Customer, Site
from dispatch import selectors
from dispatch.api import filters
from dispatch.api.background import BackgroundDelayHeaderMixin
from dispatch.api.common import ERRORS, StrictInputSerializer, validated
from dispatch.api.fields import (
    ExistingPkField,
    SkillCodesField,
    WorkingDayField,
    ZonedDateTimeField,
    description_field,
)
from dispatch.api.permissions import CanBookCalls
from dispatch.models import ServiceCall
from dispatch.selectors.queue_fields import (
    unassigned_fields,
)
from dispatch.services.calls import call_book, call_cancel, call_update
from dispatch.services.etas import ETA_FIELDS
from dispatch.services.moves import call_move
from technicians.models import Technician

MAX_DURATION_MINUTES = 24 * 60


# --- output -------------------------------------------------------------------------------------


class CallSerializer(serializers.ModelSerializer):
    """A service call as clients read it."""

    serializer_field_mapping = serializers.ModelSerializer.serializer_field_mapping | {
        models.DateTimeField: ZonedDateTimeField
    }

    skills = SkillCodesField(many=True, read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    site_address = serializers.CharField(source="site.address", read_only=True)
    technician_name = serializers.CharField(
        source="technician.name", read_only=True, allow_null=True, default=None
    )
    risk = serializers.SerializerMethodField()
    slack_minutes = serializers.SerializerMethodField()
    tracking_url = serializers.SerializerMethodField(
        help_text="The customer's tracking page; present for office staff only."
    )

    class Meta:
        model = ServiceCall
        fields = [
            "id",
            "customer",
            "customer_name",
            "site",
            "site_address",
            "summary",
            "description",
            "priority",
            "skills",
            "duration_minutes",
            "window_start",
            "deadline",
            "scheduled_day",
            "status",
            "technician",
            "technician_name",
            "position",
            *ETA_FIELDS,  # the planned fields, as the recompute stores them
            "eta_computed_at",
            "promised_eta",
            "reschedule_count",
            "version",
            "tracking_url",
            "actual_minutes",
        ]
        read_only_fields = fields

    def _waiting(self, call: ServiceCall):
        # A waiting call's slack shrinks with the clock, so it is computed as it is read.
        if call.status != ServiceCall.Status.NEW:
            return None
        if "now" not in self.context:
            self.context["now"] = clock.now()
        return unassigned_fields(call.deadline, self.context["now"])

    @extend_schema_field(serializers.ChoiceField(choices=ServiceCall.Risk.choices))
    def get_risk(self, call: ServiceCall) -> str:
        waiting = self._waiting(call)
        return waiting.risk if waiting else (call.risk or ServiceCall.Risk.OK)

    # Null while a call has no deadline (found by fuzzing: the schema said it was always a number).
    @extend_schema_field({"type": "number", "format": "double", "nullable": True})
    def get_slack_minutes(self, call: ServiceCall) -> float | None:
        waiting = self._waiting(call)
        return waiting.slack_minutes if waiting else call.slack_minutes

    @extend_schema_field(OpenApiTypes.URI)
    def get_tracking_url(self, call: ServiceCall) -> str:
        return selectors.tracking_url(call.tracking_token)

    def to_representation(self, instance: ServiceCall) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        # The tracking link opens the customer's page without a login: office staff only.
        if request is None or not roles.is_office(request.user):
            data.pop("tracking_url", None)
        return data


def call_rows_data(rows, *, request) -> list[dict[str, Any]]:
    """What CallSerializer(many=True) gives for these calls, from selectors.call_rows: a page of
    200 calls spent five sixths of its time building models and walking DRF fields. The same keys
    in the same order and the same values (tests/dispatch/test_api_rows.py compares them)."""
    context: dict[str, Any] = {"request": request}
    office = request is not None and roles.is_office(request.user)
    zone = timezone.get_current_timezone()
    link = selectors.tracking_url_maker() if office else None
    return [_call_row_data(row, context, zone, link) for row in rows]


def _iso(value, zone) -> str | None:
    # DRF's DateTimeField: in the current time zone, ISO 8601, UTC written as "Z".
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _call_row_data(row: dict, context: dict, zone, link) -> dict[str, Any]:
    waiting = None
    if row["status"] == ServiceCall.Status.NEW:
        # As CallSerializer._waiting: one "now" per page, slack counted down as it is read.
        now = context.setdefault("now", clock.now())
        waiting = unassigned_fields(row["deadline"], now)
    data = {
        "id": row["id"],
        "customer": row["customer_id"],
        "customer_name": row["customer_name"],
        "site": row["site_id"],
        "site_address": row["site_address"],
        "summary": row["summary"],
        "description": row["description"],
        "priority": row["priority"],
        "skills": row["skill_codes"],
        "duration_minutes": row["duration_minutes"],
        "window_start": _iso(row["window_start"], zone),
        "deadline": _iso(row["deadline"], zone),
        "scheduled_day": row["scheduled_day"].isoformat(),
        "status": row["status"],
        "technician": row["technician_id"],
        "technician_name": row["technician_name"],
        "position": row["position"],
        "eta": _iso(row["eta"], zone),
        "planned_start": _iso(row["planned_start"], zone),
        "planned_finish": _iso(row["planned_finish"], zone),
        "slack_minutes": waiting.slack_minutes if waiting else row["slack_minutes"],
        "risk": waiting.risk if waiting else (row["risk"] or ServiceCall.Risk.OK),
        "overtime": row["overtime"],
        "p_late": None if waiting else row["p_late"],
        "eta_p10": None if waiting else _iso(row["eta_p10"], zone),
        "eta_p80": None if waiting else _iso(row["eta_p80"], zone),
        "eta_p90": None if waiting else _iso(row["eta_p90"], zone),
        "eta_computed_at": _iso(row["eta_computed_at"], zone),
        "promised_eta": _iso(row["promised_eta"], zone),
        "reschedule_count": row["reschedule_count"],
        "version": row["version"],
        "tracking_url": link(row["tracking_token"]) if link else None,
        "actual_minutes": row["actual_minutes"],
    }
    if link is None:
        del data["tracking_url"]  # the link opens the customer's page: office staff only
    return data


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    call = CallSerializer()


CONFLICT = {
    409: OpenApiResponse(
        ConflictSerializer, description="Stale `expected_version`: the fresh call is included."
    )
}


def conflict_response(request: Request, call_id: int, exc: MoveConflict) -> Response:
    """409 with the call as it is now, so the client can show it and decide again."""
    call = selectors.call_get_for_user(user=request.user, call_id=call_id)
    body = {"detail": exc.message, "call": CallSerializer(call, context={"request": request}).data}
    return Response(body, status=status.HTTP_409_CONFLICT)


# --- input --------------------------------------------------------------------------------------


class CallFieldsInput(StrictInputSerializer):
    site = ExistingPkField("Site", queryset=Site.objects.all())
    summary = serializers.CharField(max_length=200)
    description = description_field(required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=ServiceCall.Priority.choices, required=False)
    skills = SkillCodesField(many=True, required=False)
    # Both bounds here, so the schema states them (the lower one was only in the service).
    duration_minutes = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DURATION_MINUTES,
        error_messages={
            "min_value": "Duration must be more than zero minutes.",
            "max_value": "A call cannot take more than a day (1440 minutes).",
        },
    )
    window_start = serializers.DateTimeField(required=False, allow_null=True)
    deadline = serializers.DateTimeField(required=False, allow_null=True)
    scheduled_day = WorkingDayField()
    promised_eta = serializers.DateTimeField(required=False, allow_null=True)

    hints = {
        "technician": "Use calls/{id}/move/ to assign or move a call.",
        "position": "Use calls/{id}/move/ to reorder a queue.",
        "status": "Use calls/{id}/cancel/ to cancel a call.",
        "customer": "A booked call's customer cannot change; cancel and book again.",
    }


class CallCreateInput(CallFieldsInput):
    customer = ExistingPkField("Customer", queryset=Customer.objects.all())
    technician = ExistingPkField(
        "Technician",
        queryset=Technician.objects.all(),
        required=False,
        allow_null=True,
        help_text="Optional: place the new call in this technician's queue at once (a move).",
    )
    position = serializers.IntegerField(
        required=False, allow_null=True, help_text="Queue position (0 is first) with technician."
    )


class CallUpdateInput(CallFieldsInput):
    expected_version = serializers.IntegerField(
        required=False, help_text="The version you edited; a stale one is refused with 409."
    )


class CallCancelInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500)
    expected_version = serializers.IntegerField(required=False)


# --- views --------------------------------------------------------------------------------------


class _CountedRows:
    """The page's rows, counted on the calls alone: the names the rows join in (customer, site,
    technician) cannot change how many there are, and PostgreSQL would join them to count."""

    def __init__(self, rows, calls) -> None:
        self.rows, self.calls = rows, calls
        self.ordered = rows.ordered

    def count(self) -> int:
        return self.calls.select_related(None).prefetch_related(None).count()

    def __getitem__(self, index):
        return self.rows[index]

    def __len__(self) -> int:
        return self.count()


@extend_schema_view(
    create=extend_schema(
        request=CallCreateInput,
        responses={201: CallSerializer, **ERRORS},
        summary="Book a call (unassigned, unless a technician and position are given)",
    ),
    partial_update=extend_schema(
        request=CallUpdateInput,
        responses={200: CallSerializer, **ERRORS, **CONFLICT},
        summary="Edit a call's booking details",
    ),
)
class CallViewSet(
    BackgroundDelayHeaderMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Service calls. Calls are cancelled (`cancel/`), never deleted."""

    serializer_class = CallSerializer
    permission_classes = [IsAuthenticated, CanBookCalls]
    filterset_class = filters.CallFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = ServiceCall.objects.none()  # for the schema; get_queryset is the real door

    def get_queryset(self):
        return selectors.calls_visible_to(self.request.user)

    def list(self, request: Request, *args, **kwargs) -> Response:
        # Rows straight to JSON: CallSerializer's output without its models and field walk.
        calls = self.filter_queryset(self.get_queryset())
        rows = selectors.call_rows(calls)
        page = self.paginate_queryset(_CountedRows(rows, calls))
        if page is None:
            return Response(call_rows_data(rows, request=request))
        return self.get_paginated_response(call_rows_data(page, request=request))

    def get_object(self) -> ServiceCall:
        call = selectors.call_get_for_user(user=self.request.user, call_id=self.kwargs["pk"])
        self.check_object_permissions(self.request, call)
        return call

    def create(self, request: Request) -> Response:
        data = validated(CallCreateInput, request)
        technician, position = data.pop("technician", None), data.pop("position", None)
        with transaction.atomic():
            call = call_book(user=request.user, **data)
            if technician is not None:
                # Placing a call is always a move, so every move rule applies here too.
                call_move(
                    user=request.user,
                    call_id=call.pk,
                    technician_id=technician.pk,
                    position=position,
                    expected_version=call.version,
                )
        call = selectors.call_get_for_user(user=request.user, call_id=call.pk)
        return Response(self.get_serializer(call).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        call = self.get_object()
        data = validated(CallUpdateInput, request, partial=True)
        expected_version = data.pop("expected_version", None)
        skills = data.pop("skills", None)
        try:
            call_update(
                user=request.user,
                call=call,
                changes=data,
                skills=skills,
                expected_version=expected_version,
            )
        except MoveConflict as exc:
            return conflict_response(request, call.pk, exc)
        call = selectors.call_get_for_user(user=request.user, call_id=call.pk)
        return Response(self.get_serializer(call).data)


class CallCancelView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = [IsAuthenticated, CanBookCalls]

    @extend_schema(
        request=CallCancelInput,
        responses={200: CallSerializer, **ERRORS, **CONFLICT},
        summary="Cancel a call (calls are never deleted)",
    )
    def post(self, request: Request, pk: int) -> Response:
        call = selectors.call_get_for_user(user=request.user, call_id=pk)
        self.check_object_permissions(request, call)
        data = validated(CallCancelInput, request)
        try:
            call_cancel(user=request.user, call=call, **data)
        except MoveConflict as exc:
            return conflict_response(request, call.pk, exc)
        call = selectors.call_get_for_user(user=request.user, call_id=call.pk)
        return Response(CallSerializer(call, context={"request": request}).data)
