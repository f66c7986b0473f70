"""API views: thin. Selectors read, services write, serializers translate."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import CustomerMessage
from customers.selectors import messages_for_user
from dispatch import clock, selectors
from dispatch.api import filters
from dispatch.api.permissions import (
    CanBookCalls,
    HasDispatchRole,
    ManagerWritesOrReadOnly,
    OfficeWritesOrReadOnly,
)
from dispatch.api.serializers import (
    BackgroundStatusSerializer,
    BackgroundTimeField,
    CallCancelInput,
    CallCreateInput,
    CallEventSerializer,
    CallMovedSerializer,
    CallMoveInput,
    CallSerializer,
    CallUpdateInput,
    CandidatesSerializer,
    ConflictSerializer,
    CustomerMessageSerializer,
    CustomerSerializer,
    ErrorSerializer,
    EscalateInput,
    EscalationResolveInput,
    EscalationSerializer,
    MovePreviewSerializer,
    RescueSerializer,
    SiteSerializer,
    SkillSerializer,
    SwapInput,
    SwappedSerializer,
    TechnicianSerializer,
    TechnicianStatusInput,
    call_rows_data,
)
from dispatch.errors import MoveConflict
from dispatch.models import CallEvent, Escalation, ServiceCall
from dispatch.selectors.candidates import call_candidates, call_send_now
from dispatch.selectors.rescue import call_rescue
from dispatch.services.background import background_status, heartbeat_delayed_since
from dispatch.services.calls import call_book, call_cancel, call_update
from dispatch.services.escalations import (
    Concession,
    MoveOrder,
    call_escalate,
    escalation_resolve,
    escalations_visible_to,
)
from dispatch.services.moves import call_move, call_move_preview
from dispatch.services.swaps import calls_swap
from dispatch.services.technicians import technician_status_update
from technicians.models import Skill

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input; `field` names the culprit."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed for your role."),
    404: OpenApiResponse(ErrorSerializer, description="No such call within your reach."),
}
CONFLICT = {
    409: OpenApiResponse(
        ConflictSerializer, description="Stale `expected_version`: the fresh call is included."
    )
}
STAFF_PERMISSIONS = [IsAuthenticated, HasDispatchRole]
DELAYED_HEADER = "X-Background-Delayed-Since"


def validated(
    serializer_class: type[serializers.Serializer], request: Request, *, partial: bool = False
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def conflict_response(request: Request, call_id: int, exc: MoveConflict) -> Response:
    """409 with the call as it is now, so the client can show it and decide again."""
    call = selectors.call_get_for_user(user=request.user, call_id=call_id)
    body = {"detail": exc.message, "call": CallSerializer(call, context={"request": request}).data}
    return Response(body, status=status.HTTP_409_CONFLICT)


class BackgroundDelayHeaderMixin:
    # While background updates are delayed, every response says since when (one query), so a
    # script reading ETAs knows they may be out of date: `X-Background-Delayed-Since: <iso>`.
    # (A comment, not a docstring: the schema would show it as every view's description.)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Only a user authentication already found: `request.user` would authenticate now, and a
        # bad token header on a request refused earlier (e.g. `calls/1.5/`) then raised a 500.
        user = getattr(request, "_user", None)
        if user is not None and user.is_authenticated:
            since = heartbeat_delayed_since(clock.now())
            if since is not None:
                response[DELAYED_HEADER] = BackgroundTimeField().to_representation(since)
        return response


class BackgroundStatusView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        responses={200: BackgroundStatusSerializer, 403: ERRORS[403]},
        summary="Whether background updates (the ETA recompute) are current",
        description="Call responses carry the same `background_delayed_since` in an "
        f"`{DELAYED_HEADER}` header while background updates are delayed.",
    )
    def get(self, request: Request) -> Response:
        state = background_status(clock.now())
        body = {
            "background_delayed_since": state.delayed_since,
            "last_recompute_at": state.last_recompute_at,
        }
        return Response(BackgroundStatusSerializer(body).data)


# --- reference data --------------------------------------------------------------------------


class ReferenceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and update; reference data with history is never deleted here."""

    # One savepoint per write: a unique rule broken in the database (a duplicate skill code, a
    # user already on the roster) becomes a 409 with nothing half-applied, and the connection
    # stays usable inside an outer transaction (fuzzing found the 500 that followed otherwise).
    def perform_create(self, serializer) -> None:
        with transaction.atomic():
            serializer.save()

    def perform_update(self, serializer) -> None:
        with transaction.atomic():
            serializer.save()


class CustomerViewSet(ReferenceViewSet):
    serializer_class = CustomerSerializer
    permission_classes = [IsAuthenticated, OfficeWritesOrReadOnly]

    def get_queryset(self):
        return selectors.customers_visible_to(self.request.user)


class SiteViewSet(ReferenceViewSet):
    serializer_class = SiteSerializer
    permission_classes = [IsAuthenticated, OfficeWritesOrReadOnly]
    filterset_class = filters.SiteFilter

    def get_queryset(self):
        return selectors.sites_visible_to(self.request.user)


class SkillViewSet(ReferenceViewSet):
    serializer_class = SkillSerializer
    permission_classes = [IsAuthenticated, ManagerWritesOrReadOnly]
    queryset = Skill.objects.all()


class TechnicianViewSet(ReferenceViewSet):
    """The roster. Status and location have their own endpoint (`status/`)."""

    serializer_class = TechnicianSerializer
    permission_classes = [IsAuthenticated, ManagerWritesOrReadOnly]
    filterset_class = filters.TechnicianFilter

    def get_queryset(self):
        return selectors.technicians_visible_to(self.request.user)


class TechnicianStatusView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        request=TechnicianStatusInput,
        responses={200: TechnicianSerializer, **ERRORS},
        summary="Set a technician's status and/or location; re-plans today's queue",
    )
    def post(self, request: Request, pk: int) -> Response:
        tech = selectors.technician_get_for_user(user=request.user, technician_id=pk)
        data = validated(TechnicianStatusInput, request)
        tech = technician_status_update(user=request.user, technician=tech, **data)
        tech = selectors.technician_get_for_user(user=request.user, technician_id=tech.pk)
        return Response(TechnicianSerializer(tech, context={"request": request}).data)


# --- calls -----------------------------------------------------------------------------------


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
        rows = selectors.call_rows(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(rows)
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


def _move_args(request: Request, pk: int) -> dict[str, Any]:
    data = validated(CallMoveInput, request)
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
        selectors.call_get_for_user(user=request.user, call_id=pk, related=False)
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
        selectors.call_get_for_user(user=request.user, call_id=pk, related=False)
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


class CallEventListView(BackgroundDelayHeaderMixin, generics.ListAPIView):
    """A call's audit log, oldest first."""

    serializer_class = CallEventSerializer
    permission_classes = STAFF_PERMISSIONS
    queryset = CallEvent.objects.none()  # for the schema; get_queryset is the real door
    filter_backends: list = []

    def get_queryset(self):
        return selectors.call_events_for_user(user=self.request.user, call_id=self.kwargs["pk"])


class CallCustomerMessageListView(BackgroundDelayHeaderMixin, generics.ListAPIView):
    """What the customer was sent about a call, oldest first: each message on each channel, with
    its status (pending, sent, skipped, failed) and why. Office staff only."""

    serializer_class = CustomerMessageSerializer
    permission_classes = STAFF_PERMISSIONS
    queryset = CustomerMessage.objects.none()  # for the schema; get_queryset is the real door
    filter_backends: list = []

    def get_queryset(self):
        return messages_for_user(user=self.request.user, call_id=self.kwargs["pk"])


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
    parser_classes = [JSONParser]

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
