"""Escalations: raising one on a call, the managers' queue, and resolving one."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch.api.background import BackgroundDelayHeaderMixin
from dispatch.api.common import (
    ERRORS,
    STAFF_PERMISSIONS,
    ErrorSerializer,
    StrictInputSerializer,
    validated,
)
from dispatch.api.parsers import BoundedJSONParser
from dispatch.models import Escalation
from dispatch.selectors.escalations import escalations_visible_to
from dispatch.services.escalations import (
    Concession,
    MoveOrder,
    call_escalate,
    escalation_resolve,
)


class EscalateInput(StrictInputSerializer):
    reason = serializers.ChoiceField(choices=Escalation.Reason.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class EscalationSerializer(serializers.ModelSerializer):
    raised_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    resolved_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    call_summary = serializers.CharField(source="call.summary", read_only=True)
    customer_name = serializers.CharField(source="call.customer.name", read_only=True)
    # Blank until a manager decides (the schema's enum said it could never be "").
    strategy = serializers.ChoiceField(
        choices=Escalation.Strategy.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Escalation
        fields = [
            "id",
            "call",
            "call_summary",
            "customer_name",
            "reason",
            "note",
            "status",
            "strategy",
            "resolution",
            "concession_labor_hours",
            "concession_discount_percent",
            "raised_by",
            "resolved_by",
            "created_at",
            "resolved_at",
        ]
        read_only_fields = fields


class ResolveMoveInput(serializers.Serializer):
    technician = serializers.IntegerField(allow_null=True)
    position = serializers.IntegerField(required=False, allow_null=True)
    expected_version = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


# drf-spectacular's decimal pattern made every digit optional, so "-" or "." passed as a number.
@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^[0-9]{1,3}(\.[0-9]{1,2})?$"}
)
class ConcessionAmountField(serializers.DecimalField):
    pass


class EscalationResolveInput(StrictInputSerializer):
    strategy = serializers.ChoiceField(choices=Escalation.Strategy.choices)
    resolution = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    customer_message = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    move = ResolveMoveInput(required=False)
    concession_labor_hours = ConcessionAmountField(
        max_digits=5, decimal_places=2, required=False, allow_null=True
    )
    concession_discount_percent = ConcessionAmountField(
        max_digits=5, decimal_places=2, required=False, allow_null=True
    )


class CallEscalateView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        request=EscalateInput,
        responses={
            201: EscalationSerializer,
            **ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="An escalation is already open."),
        },
        summary="Escalate a call: raises its priority and puts a manager in charge",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(EscalateInput, request)
        escalation = call_escalate(user=request.user, call_id=pk, **data)
        return Response(EscalationSerializer(escalation).data, status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(summary="The escalation queue: open first, safety first"))
class EscalationListView(BackgroundDelayHeaderMixin, generics.ListAPIView):
    permission_classes = STAFF_PERMISSIONS
    serializer_class = EscalationSerializer
    filterset_fields = ["status", "reason"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Escalation.objects.none()
        return escalations_visible_to(self.request.user)


class EscalationResolveView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS
    # JSON only: the body nests a `move` object, which a form cannot carry (the schema offered
    # form encodings that could only ever be refused).
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        request=EscalationResolveInput,
        responses={
            200: EscalationSerializer,
            **ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="Already resolved, or stale move."),
        },
        summary="Resolve an escalation: rescue, triage or accept (managers)",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(EscalationResolveInput, request)
        move = data.get("move")
        escalation = escalation_resolve(
            user=request.user,
            escalation_id=pk,
            strategy=data["strategy"],
            resolution=data.get("resolution", ""),
            customer_message=data.get("customer_message", ""),
            move=None
            if move is None
            else MoveOrder(
                technician_id=move["technician"],
                position=move.get("position"),
                expected_version=move["expected_version"],
                reason=move.get("reason", ""),
            ),
            concession=Concession(
                labor_hours=data.get("concession_labor_hours"),
                discount_percent=data.get("concession_discount_percent"),
            ),
        )
        return Response(EscalationSerializer(escalation).data)
