"""API for the technician's own day: call status reports, claims and hand-off offers.

Thin like the rest of the API: the same services as `/me/` decide who may do what.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import MoveConflict
from dispatch import selectors
from dispatch.api.background import BackgroundDelayHeaderMixin
from dispatch.api.calls import CONFLICT, CallSerializer, conflict_response
from dispatch.api.common import ERRORS, STAFF_PERMISSIONS, StrictInputSerializer, validated
from dispatch.api.filters import HandoffFilter
from dispatch.selectors.handoffs import handoffs_visible_to
from dispatch.services.call_status import ACTIONS, MAX_ACTUAL_MINUTES, call_status_update
from dispatch.services.claims import call_claim
from dispatch.services.handoffs import (
    handoff_accept,
    handoff_decline,
    handoff_offer,
    handoff_withdraw,
)
from technicians.models import HandoffOffer

OFFER_CONFLICT = {
    409: OpenApiResponse(
        description="The offer is no longer open, has expired, or the call changed since."
    )
}


class CallStatusInput(StrictInputSerializer):
    status = serializers.ChoiceField(
        choices=ACTIONS,
        help_text="en_route (on my way), on_site (arrived), completed (done), "
        "cant_complete (gives the call back to the unassigned list; needs a reason).",
    )
    expected_version = serializers.IntegerField()
    actual_minutes = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ACTUAL_MINUTES,
        help_text="With completed: the real time on the job; default: since arrival.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, min_value=-180, max_value=180)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if ("lat" in attrs) != ("lng" in attrs):
            raise serializers.ValidationError("Give both lat and lng, or neither.")
        return attrs


class VersionInput(StrictInputSerializer):
    expected_version = serializers.IntegerField()


class HandoffOfferInput(StrictInputSerializer):
    technician = serializers.IntegerField(help_text="The teammate's technician id.")
    expected_version = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class HandoffAnswerInput(StrictInputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class HandoffOfferSerializer(serializers.ModelSerializer):
    from_technician_name = serializers.CharField(source="from_technician.name", read_only=True)
    to_technician_name = serializers.CharField(source="to_technician.name", read_only=True)

    class Meta:
        model = HandoffOffer
        fields = [
            "id",
            "call",
            "from_technician",
            "from_technician_name",
            "to_technician",
            "to_technician_name",
            "status",
            "note",
            "response_note",
            "call_version",
            "created_at",
            "expires_at",
            "responded_at",
        ]
        read_only_fields = fields


class CallStatusView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        request=CallStatusInput,
        responses={200: CallSerializer, **ERRORS, **CONFLICT},
        summary="Report progress on a call: on my way, arrived, done, can't complete",
        description="The technician on the call (or a dispatcher or manager). Re-plans the "
        "technician's queue; the technician's status and location follow.",
    )
    def post(self, request: Request, pk: int) -> Response:
        selectors.call_get_for_user(user=request.user, call_id=pk)
        data = validated(CallStatusInput, request)
        try:
            call_status_update(user=request.user, call_id=pk, **data)
        except MoveConflict as exc:
            return conflict_response(request, pk, exc)
        call = selectors.call_get_for_user(user=request.user, call_id=pk)
        return Response(CallSerializer(call, context={"request": request}).data)


class CallClaimView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        request=VersionInput,
        responses={200: CallSerializer, **ERRORS, **CONFLICT},
        summary="Claim an unassigned call into my own queue (technicians)",
        description="Refused (403, with the reason) without the call's skills or when it would "
        "make any of my own calls late.",
    )
    def post(self, request: Request, pk: int) -> Response:
        selectors.call_get_for_user(user=request.user, call_id=pk)
        data = validated(VersionInput, request)
        try:
            result = call_claim(user=request.user, call_id=pk, **data)
        except MoveConflict as exc:
            return conflict_response(request, pk, exc)
        call = selectors.call_get_for_user(user=request.user, call_id=result.call.pk)
        return Response(CallSerializer(call, context={"request": request}).data)


class CallHandoffView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        request=HandoffOfferInput,
        responses={201: HandoffOfferSerializer, **ERRORS, **CONFLICT},
        summary="Offer my call to a teammate (see calls/{id}/candidates/ for who could take it)",
    )
    def post(self, request: Request, pk: int) -> Response:
        selectors.call_get_for_user(user=request.user, call_id=pk)
        data = validated(HandoffOfferInput, request)
        try:
            offer = handoff_offer(
                user=request.user,
                call_id=pk,
                to_technician_id=data["technician"],
                expected_version=data["expected_version"],
                note=data["note"],
            )
        except MoveConflict as exc:
            return conflict_response(request, pk, exc)
        return Response(HandoffOfferSerializer(offer).data, status=status.HTTP_201_CREATED)


class HandoffListView(BackgroundDelayHeaderMixin, generics.ListAPIView):
    """Hand-off offers, newest first; `?status=open` for the ones awaiting an answer."""

    permission_classes = STAFF_PERMISSIONS
    serializer_class = HandoffOfferSerializer
    queryset = HandoffOffer.objects.none()  # for the schema; get_queryset is the real door
    filterset_class = HandoffFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return HandoffOffer.objects.none()
        return handoffs_visible_to(self.request.user).order_by("-created_at", "-id")


class _HandoffAnswerView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS
    answer = staticmethod(handoff_accept)

    def post(self, request: Request, pk: int) -> Response:
        data = validated(HandoffAnswerInput, request)
        kwargs = {"note": data["note"]} if self.answer is handoff_decline else {}
        offer = self.answer(user=request.user, offer_id=pk, **kwargs)
        return Response(HandoffOfferSerializer(offer).data)


def _answer_schema(summary: str):
    return extend_schema(
        request=HandoffAnswerInput,
        responses={200: HandoffOfferSerializer, **ERRORS, **OFFER_CONFLICT},
        summary=summary,
    )


class HandoffAcceptView(_HandoffAnswerView):
    answer = staticmethod(handoff_accept)

    @_answer_schema("Accept an offer made to me: the call moves into my queue")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class HandoffDeclineView(_HandoffAnswerView):
    answer = staticmethod(handoff_decline)

    @_answer_schema("Decline an offer made to me; the call stays with the offerer")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class HandoffWithdrawView(_HandoffAnswerView):
    answer = staticmethod(handoff_withdraw)

    @_answer_schema("Withdraw my own open offer")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)
