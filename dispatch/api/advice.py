"""Advice for placing a call: ranked candidates, send-now for an emergency, rescue for a call
at risk, and the swap a rescue may suggest.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import MoveConflict
from dispatch import selectors
from dispatch.api.background import BackgroundDelayHeaderMixin
from dispatch.api.calls import CONFLICT, CallSerializer, conflict_response
from dispatch.api.common import ERRORS, STAFF_PERMISSIONS, StrictInputSerializer, validated
from dispatch.selectors.candidates import call_candidates, call_send_now
from dispatch.selectors.rescue import call_rescue
from dispatch.services.swaps import calls_swap


class CandidateSerializer(serializers.Serializer):
    technician = serializers.IntegerField(source="technician.pk")
    overtime = serializers.BooleanField(
        help_text="The place runs into overtime: a cost shown (only an emergency is offered it)."
    )
    technician_name = serializers.CharField(source="technician.name")
    position = serializers.IntegerField()
    arrival = serializers.DateTimeField()
    slack_minutes = serializers.FloatField(allow_null=True)
    travel_added_minutes = serializers.FloatField()
    added_lateness_minutes = serializers.FloatField()
    turned_worse = serializers.ListField(child=serializers.IntegerField())
    promises_broken = serializers.IntegerField()
    shifted_calls = serializers.IntegerField(
        help_text="Other calls whose ETA moves later by more than RIPPLE_SHIFT_MINUTES; the same "
        "number move/preview reports for this technician and position."
    )
    max_shift_minutes = serializers.FloatField()
    ripple_words = serializers.CharField()
    other_team = serializers.BooleanField(help_text="The technician is on another team.")
    call_out = serializers.CharField(
        help_text='An on-call technician sent outside their shift, the cost in words ("call-out: '
        'on call 17:00-08:00, overtime"); empty otherwise.'
    )


class ExcludedSerializer(serializers.Serializer):
    technician = serializers.IntegerField(source="technician.pk")
    technician_name = serializers.CharField(source="technician.name")
    reason = serializers.CharField()


class CandidatesSerializer(serializers.Serializer):
    candidates = CandidateSerializer(many=True)
    excluded = ExcludedSerializer(many=True)


class RescueMoveSerializer(serializers.Serializer):
    """One move of a rescue, ready for `calls/{call}/move/` (a swap has two, applied in order)."""

    call = serializers.IntegerField(source="call_id")
    technician = serializers.IntegerField(source="technician_id")
    position = serializers.IntegerField()
    expected_version = serializers.IntegerField()


class RescueOptionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["earlier", "reassign", "swap"])
    description = serializers.CharField()
    technician = serializers.IntegerField(source="technician.pk")
    technician_name = serializers.CharField(source="technician.name")
    moves = RescueMoveSerializer(many=True)
    swap_with = serializers.IntegerField(allow_null=True)
    arrival = serializers.DateTimeField()
    slack_minutes = serializers.FloatField(allow_null=True)
    risk = serializers.CharField()
    on_time = serializers.BooleanField()
    added_lateness_minutes = serializers.FloatField()
    turned_worse = serializers.ListField(child=serializers.IntegerField())
    promises_broken = serializers.IntegerField()
    shifted_calls = serializers.IntegerField(
        help_text="Other calls whose ETA moves later by more than RIPPLE_SHIFT_MINUTES; the same "
        "number move/preview reports for this technician and position."
    )
    max_shift_minutes = serializers.FloatField()
    ripple_words = serializers.CharField()
    other_team = serializers.BooleanField(help_text="The technician is on another team.")


class RescueSerializer(serializers.Serializer):
    call = serializers.IntegerField(source="call.pk")
    risk = serializers.CharField()
    needed = serializers.BooleanField()
    clean = serializers.BooleanField(
        help_text="True when the best option saves the call without hurting any other call."
    )
    verdict = serializers.CharField()
    options = RescueOptionSerializer(many=True)
    excluded = ExcludedSerializer(many=True)


class SwapInput(StrictInputSerializer):
    other = serializers.IntegerField(help_text="The call to trade places with.")
    expected_version = serializers.IntegerField()
    other_expected_version = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class SwappedSerializer(serializers.Serializer):
    call = CallSerializer()
    other = CallSerializer()


class CallCandidatesView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        responses={200: CandidatesSerializer, **ERRORS},
        summary="Technicians ranked for this call (on time, least ripple, least travel), "
        "and those excluded with reasons",
    )
    def get(self, request: Request, pk: int) -> Response:
        candidates, excluded = call_candidates(user=request.user, call_id=pk)
        body = {"candidates": candidates, "excluded": excluded}
        return Response(CandidatesSerializer(body).data)


class CallRescueView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        responses={200: RescueSerializer, **ERRORS},
        summary="Rescue for a call at risk or late: the smallest change that brings it back on "
        "time (earlier in its queue, another technician, or a swap), each with its ripple",
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(RescueSerializer(call_rescue(user=request.user, call_id=pk)).data)


class CallSendNowView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        responses={200: CandidatesSerializer, **ERRORS},
        summary="Emergency: every able technician with the call right after their current job, "
        "soonest arrival first, with the ripple",
    )
    def get(self, request: Request, pk: int) -> Response:
        options, excluded = call_send_now(user=request.user, call_id=pk)
        return Response(CandidatesSerializer({"candidates": options, "excluded": excluded}).data)


class CallSwapView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        request=SwapInput,
        responses={200: SwappedSerializer, **ERRORS, **CONFLICT},
        summary="Two waiting calls of two technicians trade places (two moves, one transaction)",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(SwapInput, request)
        try:
            calls_swap(
                user=request.user,
                call_id=pk,
                other_id=data["other"],
                expected_version=data["expected_version"],
                other_expected_version=data["other_expected_version"],
                reason=data.get("reason", ""),
            )
        except MoveConflict as exc:
            return conflict_response(request, pk, exc)
        calls = {
            "call": selectors.call_get_for_user(user=request.user, call_id=pk),
            "other": selectors.call_get_for_user(user=request.user, call_id=data["other"]),
        }
        return Response(SwappedSerializer(calls, context={"request": request}).data)
