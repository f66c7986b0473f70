"""Day plans: ask the solver for a team's day, read the proposal, apply it (or some of it).

A contract: outside scripts rely on these paths and names (``id``, ``status``, ``routes``,
``unplanned``, ``before``/``after`` figures, ``changes``); extend, never rename.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch.api.common import (
    ERRORS,
    STAFF_PERMISSIONS,
    ErrorSerializer,
    StrictInputSerializer,
    validated,
)
from dispatch.models import DayPlan
from dispatch.selectors.day_plans import day_plan_get_for_user, require_can_plan
from dispatch.services.day_plans import MAX_SECONDS, MIN_SECONDS, plan_apply, plan_request


class PlanInput(StrictInputSerializer):
    day = serializers.DateField()
    team = serializers.IntegerField(allow_null=True, required=False, min_value=1)
    seconds = serializers.IntegerField(required=False, min_value=MIN_SECONDS, max_value=MAX_SECONDS)


class FiguresSerializer(serializers.Serializer):
    late = serializers.IntegerField()
    at_risk = serializers.IntegerField()
    travel_minutes = serializers.FloatField()
    overtime_minutes = serializers.FloatField()
    calls_moved = serializers.IntegerField()
    promises_broken = serializers.IntegerField()
    waiting = serializers.IntegerField(required=False, help_text="Calls nobody has.")


class RouteSerializer(serializers.Serializer):
    technician = serializers.IntegerField()
    calls = serializers.ListField(child=serializers.IntegerField())


class ChangeSerializer(serializers.Serializer):
    call = serializers.IntegerField()
    from_technician = serializers.IntegerField(allow_null=True)
    to_technician = serializers.IntegerField(allow_null=True)
    eta_before = serializers.DateTimeField(allow_null=True)
    eta_after = serializers.DateTimeField(allow_null=True)
    position_before = serializers.IntegerField(allow_null=True)
    position_after = serializers.IntegerField(allow_null=True)
    promise_broken = serializers.BooleanField()
    risk_before = serializers.CharField(allow_blank=True)
    risk_after = serializers.CharField(allow_blank=True)


class PlanCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=DayPlan.Status.choices)


class PlanSerializer(serializers.ModelSerializer):
    # Null until the plan is computed (or when it failed), not an empty object.
    before = serializers.SerializerMethodField()
    after = serializers.SerializerMethodField()
    routes = RouteSerializer(many=True)
    unplanned = serializers.ListField(child=serializers.IntegerField())
    changes = ChangeSerializer(many=True)

    class Meta:
        model = DayPlan
        fields = [
            "id", "status", "day", "team", "seconds", "trigger", "routes", "unplanned", "before",
            "after", "changes", "error", "created_at", "started_at", "finished_at", "planned_at",
            "solver_seconds", "applied_at", "discarded_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(FiguresSerializer(allow_null=True))
    def get_before(self, plan: DayPlan) -> dict | None:
        return plan.before or None

    @extend_schema_field(FiguresSerializer(allow_null=True))
    def get_after(self, plan: DayPlan) -> dict | None:
        return plan.after or None


class ApplyInput(StrictInputSerializer):
    calls = serializers.ListField(child=serializers.IntegerField(), required=False, min_length=1)


class MovedSerializer(serializers.Serializer):
    call = serializers.IntegerField()
    from_technician = serializers.IntegerField(allow_null=True)
    to_technician = serializers.IntegerField()
    eta_before = serializers.DateTimeField(allow_null=True)
    eta_after = serializers.DateTimeField(allow_null=True)


class AppliedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    moved = MovedSerializer(many=True)
    ripple = serializers.CharField()


class PlanCreateView(APIView):
    permission_classes = STAFF_PERMISSIONS
    parser_classes = [JSONParser]

    @extend_schema(
        request=PlanInput,
        responses={201: PlanCreatedSerializer, **ERRORS},
        summary="Plan a team's day (or every team's) with the solver; dispatchers and managers",
    )
    def post(self, request: Request) -> Response:
        require_can_plan(request.user)
        data = validated(PlanInput, request)
        plan = plan_request(
            user=request.user, day=data["day"], team_id=data.get("team"),
            seconds=data.get("seconds"),
        )  # fmt: skip
        return Response({"id": plan.pk, "status": plan.status}, status=status.HTTP_201_CREATED)


class PlanDetailView(APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(responses={200: PlanSerializer, **ERRORS}, summary="A day plan and its figures")
    def get(self, request: Request, pk: int) -> Response:
        plan = day_plan_get_for_user(user=request.user, plan_id=pk)
        return Response(PlanSerializer(plan).data)


class PlanApplyView(APIView):
    permission_classes = STAFF_PERMISSIONS
    parser_classes = [JSONParser]

    @extend_schema(
        request=ApplyInput,
        responses={
            200: AppliedSerializer,
            **ERRORS,
            409: OpenApiResponse(
                ErrorSerializer, description="Calls changed since the plan; nothing applied."
            ),
        },
        summary="Apply a plan (or the changes of some calls) through the move service",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(ApplyInput, request)
        return Response(plan_apply(user=request.user, plan_id=pk, calls=data.get("calls")))
