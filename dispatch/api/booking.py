"""Booking API: offered windows with capacity, booking through them, turned-away callers.

Its own module (serializers and views together, as the booking page has pages/booking.py) so
the call API's files stay about calls. The services decide; these translate.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common import clock, roles
from common.errors import InvalidInput, NotAllowed
from customers.models import Customer, Site
from dispatch import selectors
from dispatch.api.background import BackgroundDelayHeaderMixin
from dispatch.api.calls import CallSerializer
from dispatch.api.common import ERRORS, ErrorSerializer, StrictInputSerializer, validated
from dispatch.api.fields import ExistingPkField, SkillCodesField, description_field
from dispatch.api.filters import MAX_ID
from dispatch.api.permissions import HasDispatchRole
from dispatch.models import CallCategory, ServiceCall, TurnedAwayCall
from dispatch.selectors.capacity import capacity_get
from dispatch.services.booking import (
    HAZARDS,
    CallDetails,
    WindowChoice,
    booking_book,
    booking_need_for,
    booking_offers,
    turned_away_record,
)
from technicians.models import Team

CONFLICT = {
    409: OpenApiResponse(
        ErrorSerializer, description="The window was taken meanwhile: ask for offers again."
    )
}

# --- input --------------------------------------------------------------------------------------


class BookingNeedInput(StrictInputSerializer):
    site = ExistingPkField("Site", queryset=Site.objects.all())
    team = ExistingPkField(
        "Team",
        queryset=Team.objects.all(),
        required=False,
        help_text="Whose board; default: your own team.",
    )
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=CallCategory.objects.filter(active=True),
        required=False,
        allow_null=True,
        help_text="Gives the usual duration and skills when those are left out.",
    )
    duration_minutes = serializers.IntegerField(required=False, min_value=1, max_value=1440)
    skills = SkillCodesField(many=True, required=False)
    priority = serializers.ChoiceField(
        choices=["normal", "high", "low"], required=False, default="normal"
    )
    hazards = serializers.ListField(
        child=serializers.ChoiceField(choices=list(HAZARDS)),
        required=False,
        default=list,
        help_text="Safety checklist; any hazard makes the call an emergency.",
    )


class BookingInput(BookingNeedInput):
    customer = ExistingPkField("Customer", queryset=Customer.objects.all())
    summary = serializers.CharField(max_length=200)
    description = description_field(required=False, allow_blank=True, default="")
    offer_key = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="An offer's `offer_key`."
    )
    technician = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The technician the offer named; a different one now is a 409.",
    )
    assign = serializers.BooleanField(
        required=False, default=True, help_text="Assign to the offer's technician now."
    )
    window_start = serializers.DateTimeField(required=False, allow_null=True)
    window_end = serializers.DateTimeField(required=False, allow_null=True)
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="Required for a window of your own (no `offer_key`); the call is left "
        "unassigned.",
    )


class TurnedAwayInput(StrictInputSerializer):
    reason = serializers.ChoiceField(choices=TurnedAwayCall.Reason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    customer = ExistingPkField(
        "Customer", queryset=Customer.objects.all(), required=False, allow_null=True
    )
    caller_name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=CallCategory.objects.all(), required=False, allow_null=True
    )
    priority = serializers.ChoiceField(
        choices=ServiceCall.Priority.choices, required=False, default="normal"
    )
    team = ExistingPkField("Team", queryset=Team.objects.all(), required=False, allow_null=True)
    windows_offered = serializers.IntegerField(required=False, min_value=0, default=0)


# --- output -------------------------------------------------------------------------------------


class TechnicianRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()


class OfferSerializer(serializers.Serializer):
    offer_key = serializers.CharField(source="key")
    day = serializers.DateField()
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    technician = TechnicianRefSerializer()
    position = serializers.IntegerField()
    arrival = serializers.DateTimeField(
        help_text="The planned arrival at the door (a technician early for the window waits "
        "for it); promised to the customer on booking."
    )
    travel_added_minutes = serializers.FloatField()


class CapacityRowSerializer(serializers.Serializer):
    skill = serializers.CharField(help_text="A skill code; empty for all work.")
    label = serializers.CharField()
    available_minutes = serializers.IntegerField()
    booked_minutes = serializers.IntegerField()
    reserve_minutes = serializers.IntegerField()
    normal_free_minutes = serializers.IntegerField()
    emergency_free_minutes = serializers.IntegerField()


class CapacityDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    rows = CapacityRowSerializer(many=True)


class RefusalSerializer(serializers.Serializer):
    day = serializers.DateField()
    reason = serializers.CharField()


class OffersSerializer(serializers.Serializer):
    offers = OfferSerializer(many=True)
    capacity = CapacityDaySerializer(many=True)
    refusals = RefusalSerializer(many=True)


class TurnedAwaySerializer(serializers.ModelSerializer):
    class Meta:
        model = TurnedAwayCall
        fields = [
            "id",
            "reason",
            "note",
            "customer",
            "caller_name",
            "summary",
            "category",
            "priority",
            "team",
            "windows_offered",
            "created_at",
        ]


# --- views --------------------------------------------------------------------------------------

STAFF = [IsAuthenticated, HasDispatchRole]


def _require_booker(user) -> None:
    # Before the body is read: a technician is refused as such, whatever they sent (the body's
    # checks would otherwise answer first, and say which site and customer ids exist).
    if not roles.can_book(user):
        raise NotAllowed("Only CSRs, dispatchers and managers can book calls.")


def _team(user, data: dict[str, Any]) -> Team | None:
    return data.get("team") or selectors.board_team_default(user)


def _details(data: dict[str, Any]) -> CallDetails:
    skills = data.get("skills")
    return CallDetails(
        summary=data.get("summary", ""),
        description=data.get("description", ""),
        priority=data.get("priority") or "normal",
        hazards=tuple(data.get("hazards") or ()),
        category=data.get("category"),
        duration_minutes=data.get("duration_minutes"),
        skills=tuple(skills) if skills is not None else None,
    )


class BookingOffersView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF

    @extend_schema(
        request=BookingNeedInput,
        responses={200: OffersSerializer, **ERRORS},
        summary="Arrival windows that fit today's and tomorrow's board, earliest first, with "
        "each day's capacity (and why a day has none)",
    )
    def post(self, request: Request) -> Response:
        _require_booker(request.user)
        data = validated(BookingNeedInput, request)
        site: Site = data["site"]
        details = _details(data)
        need, _ = booking_need_for(site, details)
        offers = booking_offers(user=request.user, team=_team(request.user, data), need=need)
        body = {
            "offers": offers.offers,
            "capacity": offers.capacity,
            "refusals": [{"day": d, "reason": r} for d, r in offers.refusals.items()],
        }
        return Response(OffersSerializer(body).data)


class BookingCreateView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF

    @extend_schema(
        request=BookingInput,
        responses={201: CallSerializer, **ERRORS, **CONFLICT},
        summary="Book a call through an offered window (assigned or left for the dispatcher), "
        "or through a window of your own with an override reason",
    )
    def post(self, request: Request) -> Response:
        _require_booker(request.user)
        data = validated(BookingInput, request)
        call = booking_book(
            user=request.user,
            team=_team(request.user, data),
            customer=data["customer"],
            site=data["site"],
            details=_details(data),
            choice=WindowChoice(
                offer_key=data["offer_key"],
                technician_id=data.get("technician"),
                window_start=data.get("window_start"),
                window_end=data.get("window_end"),
                override_reason=data["override_reason"],
                assign=data["assign"] and bool(data["offer_key"]),
            ),
        )
        call = selectors.call_get_for_user(user=request.user, call_id=call.pk)
        body = CallSerializer(call, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class TurnedAwayCreateView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF

    @extend_schema(
        request=TurnedAwayInput,
        responses={201: TurnedAwaySerializer, 400: ERRORS[400], 403: ERRORS[403]},
        summary="Record a caller we could not book, with the reason",
    )
    def post(self, request: Request) -> Response:
        _require_booker(request.user)
        data = validated(TurnedAwayInput, request)
        row = turned_away_record(user=request.user, **data)
        return Response(TurnedAwaySerializer(row).data, status=status.HTTP_201_CREATED)


class CapacityView(BackgroundDelayHeaderMixin, APIView):
    permission_classes = STAFF

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "team",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description="Team id; default: your own.",
            )
        ],
        responses={200: CapacityDaySerializer(many=True), **ERRORS},
        summary="The capacity meter: today's and tomorrow's minutes per skill, with the "
        "emergency reserve",
    )
    def get(self, request: Request) -> Response:
        if not roles.can_book(request.user):
            raise NotAllowed("Capacity is for CSRs, dispatchers and managers.")
        raw = request.query_params.get("team", "")
        team = _team(request.user, {})
        if raw:
            if not (raw.isascii() and raw.isdigit()):
                raise InvalidInput("`team` must be a team id.", field="team")
            team = Team.objects.filter(pk=raw).first()
            if team is None:
                raise InvalidInput(f"Team {raw} does not exist.", field="team")
        if team is None:
            return Response([])
        days = capacity_get(team=team, now=clock.now())
        return Response(CapacityDaySerializer(days, many=True).data)
