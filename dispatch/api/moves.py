"""Moving a call (assign, move, reorder, unassign) and previewing the ripple a move would cause."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import MoveConflict
from dispatch import selectors
from dispatch.api.background import BackgroundDelayHeaderMixin
from dispatch.api.calls import CONFLICT, CallSerializer, conflict_response
from dispatch.api.common import ERRORS, STAFF_PERMISSIONS, StrictInputSerializer, validated
from dispatch.models import ServiceCall
from dispatch.services.moves import call_move, call_move_preview


class CallMoveInput(StrictInputSerializer):
    technician = serializers.IntegerField(
        allow_null=True, help_text="Target technician id, or null to unassign."
    )
    position = serializers.IntegerField(
        required=False, allow_null=True, help_text="0-based place in the target queue."
    )
    expected_version = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class RippleEntrySerializer(serializers.Serializer):
    call_id = serializers.IntegerField()
    summary = serializers.CharField()
    technician_id = serializers.IntegerField(allow_null=True)
    eta_before = serializers.DateTimeField(allow_null=True)
    eta_after = serializers.DateTimeField(allow_null=True)
    risk_before = serializers.CharField()
    risk_after = serializers.CharField()
    shift_minutes = serializers.FloatField(allow_null=True)
    promise_broken = serializers.BooleanField()
    moved = serializers.BooleanField()


class CallMovedSerializer(CallSerializer):
    """The moved call, plus every call whose ETA or risk the move changed."""

    ripple = serializers.SerializerMethodField()

    class Meta(CallSerializer.Meta):
        fields = [*CallSerializer.Meta.fields, "ripple"]
        read_only_fields = fields

    @extend_schema_field(RippleEntrySerializer(many=True))
    def get_ripple(self, call: ServiceCall) -> list[dict[str, Any]]:
        return RippleEntrySerializer(self.context.get("ripple", []), many=True).data


class MovePreviewSerializer(serializers.Serializer):
    ripple = RippleEntrySerializer(many=True)
    needs_confirmation = serializers.BooleanField()
    takes_from_working_tech = serializers.BooleanField()
    warnings = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why the target technician may not take the call (missing skill, hours); "
        "a dispatcher may go ahead after confirming, anyone else is refused.",
    )
    shifted_calls = serializers.IntegerField(
        help_text="Other calls whose ETA moves later by more than RIPPLE_SHIFT_MINUTES."
    )
    max_shift_minutes = serializers.FloatField(
        help_text="The most any other call's ETA moves later (0 when none does)."
    )
    ripple_words = serializers.CharField(help_text='e.g. "3 customers later by up to 93 min"')


def _move_args(request: Request, pk: int) -> dict[str, Any]:
    try:
        data = validated(CallMoveInput, request)
    except ValidationError:
        # A call out of reach is "not found" whatever the body says; the service checks the
        # same door on the way in, so only a refused body pays for this read.
        selectors.call_get_for_user(user=request.user, call_id=pk, related=False)
        raise
    return {
        "user": request.user,
        "call_id": pk,
        "technician_id": data["technician"],
        "position": data.get("position"),
        "expected_version": data["expected_version"],
        "reason": data["reason"],
    }


class CallMoveView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        request=CallMoveInput,
        responses={200: CallMovedSerializer, **ERRORS, **CONFLICT},
        summary="Assign, move, reorder or unassign a call",
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            result = call_move(**_move_args(request, pk), require_confirmation=False)
        except MoveConflict as exc:
            return conflict_response(request, pk, exc)
        context = {"request": request, "ripple": result.plan.ripple_for(request.user)}
        return Response(CallMovedSerializer(result.call, context=context).data)


class CallMovePreviewView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        request=CallMoveInput,
        responses={200: MovePreviewSerializer, **ERRORS, **CONFLICT},
        summary="The ripple a move would cause; writes nothing",
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            plan = call_move_preview(**_move_args(request, pk))
        except MoveConflict as exc:
            return conflict_response(request, pk, exc)
        body = {
            "ripple": plan.ripple_for(request.user),
            "needs_confirmation": plan.needs_confirmation,
            "takes_from_working_tech": plan.takes_from_working_tech,
            "warnings": plan.warnings,
            "shifted_calls": plan.summary.shifted_calls,
            "max_shift_minutes": plan.summary.max_shift_minutes,
            "ripple_words": plan.summary.words(),
        }
        return Response(MovePreviewSerializer(body).data)
