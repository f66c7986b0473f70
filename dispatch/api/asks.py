"""API for asking the technician first: the dispatcher's question about a call under way, the
technician's one-tap answer, and the lists both read. The asks service decides who may do what."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import MoveConflict
from dispatch import selectors
from dispatch.api.background import BackgroundDelayHeaderMixin
from dispatch.api.calls import CONFLICT, conflict_response
from dispatch.api.common import ERRORS, STAFF_PERMISSIONS, StrictInputSerializer, validated
from dispatch.api.filters import AskFilter
from dispatch.selectors.asks import asks_visible_to
from dispatch.services.ask_events import MAX_NOTE
from dispatch.services.asks import tech_ask, tech_ask_answer
from technicians.models import TechAsk

ASK_CONFLICT = {
    409: OpenApiResponse(description="Already answered, or the call changed since it was asked.")
}


class AskInput(StrictInputSerializer):
    expected_version = serializers.IntegerField()
    technician = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Who the dispatcher means to give the call to (omit or null: unassigned).",
    )
    position = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=10_000,
        help_text="The place in that technician's queue, 0 first (default: the front, after "
        "any work under way).",
    )


class AskAnswerInput(StrictInputSerializer):
    answer = serializers.ChoiceField(
        choices=["yes", "no", "hand_over"],
        help_text="About the call they are on: yes (I'll make it) or hand_over. About their "
        "next call: yes (go ahead) or no (keep my order).",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=MAX_NOTE)


class TechAskSerializer(serializers.ModelSerializer):
    technician_name = serializers.CharField(source="technician.name", read_only=True)
    to_technician_name = serializers.CharField(
        source="to_technician.name", read_only=True, default=None
    )
    answer_words = serializers.CharField(read_only=True)

    class Meta:
        model = TechAsk
        fields = [
            "id",
            "call",
            "technician",
            "technician_name",
            "to_technician",
            "to_technician_name",
            "question",
            "about",
            "position",
            "call_version",
            "status",
            "answer_words",
            "answer_note",
            "created_at",
            "answer_by",
            "answered_at",
        ]
        read_only_fields = fields


class CallAskListView(BackgroundDelayHeaderMixin, generics.ListCreateAPIView):
    """The asks about one call, newest first; POST asks the technician working it."""

    permission_classes = STAFF_PERMISSIONS
    serializer_class = TechAskSerializer
    queryset = TechAsk.objects.none()  # for the schema; get_queryset is the real door

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TechAsk.objects.none()
        call = selectors.call_get_for_user(
            user=self.request.user, call_id=self.kwargs["pk"], related=False
        )
        return asks_visible_to(self.request.user).filter(call=call).order_by("-created_at", "-id")

    @extend_schema(
        request=AskInput,
        responses={201: TechAskSerializer, **ERRORS, **CONFLICT},
        summary="Ask the technician under way before a move changes their day",
        description="Dispatchers and managers. Names the move (technician, position) as the "
        "move endpoint would; the technician it touches is asked: about the call they are on "
        "(taking it) or about their next call. They answer on their phone (or with "
        "asks/{id}/answer/); while the answer is not yet due (TECH_ASK_MINUTES) the move is "
        "refused; once they agree it needs no reason.",
    )
    def post(self, request: Request, pk: int) -> Response:
        selectors.call_get_for_user(user=request.user, call_id=pk, related=False)
        data = validated(AskInput, request)
        try:
            ask = tech_ask(
                user=request.user,
                call_id=pk,
                expected_version=data["expected_version"],
                to_technician_id=data["technician"],
                position=data["position"],
            )
        except MoveConflict as exc:
            return conflict_response(request, pk, exc)
        return Response(TechAskSerializer(ask).data, status=status.HTTP_201_CREATED)


class AskListView(BackgroundDelayHeaderMixin, generics.ListAPIView):
    """Asks, newest first; `?status=open` for those awaiting an answer. A technician sees the
    asks put to them; office staff see all."""

    permission_classes = STAFF_PERMISSIONS
    serializer_class = TechAskSerializer
    queryset = TechAsk.objects.none()
    filterset_class = AskFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TechAsk.objects.none()
        return asks_visible_to(self.request.user).order_by("-created_at", "-id")


class AskAnswerView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        request=AskAnswerInput,
        responses={200: TechAskSerializer, **ERRORS, **ASK_CONFLICT},
        summary="Answer an ask put to me: yes, I'll make it, or hand it over",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(AskAnswerInput, request)
        ask = tech_ask_answer(user=request.user, ask_id=pk, **data)
        return Response(TechAskSerializer(ask).data)
