"""Reference data: customers, sites, skills and the technician roster, plus a technician's
status and location report.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer, Site
from dispatch import selectors
from dispatch.api import filters
from dispatch.api.background import BackgroundDelayHeaderMixin
from dispatch.api.common import ERRORS, STAFF_PERMISSIONS, StrictInputSerializer, validated
from dispatch.api.fields import (
    ClockTimeField,
    ExistingPkField,
    LatitudeField,
    LongitudeField,
    SkillCodesField,
    TextModelSerializer,
)
from dispatch.api.permissions import ManagerWritesOrReadOnly, OfficeWritesOrReadOnly
from dispatch.services.technicians import technician_status_update
from technicians.models import Skill, Team, Technician

# --- serializers --------------------------------------------------------------------------------


class SkillSerializer(TextModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "code", "name"]


class CustomerSerializer(TextModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "contract", "phone", "email", "created_at"]
        read_only_fields = ["created_at"]


class SiteSerializer(TextModelSerializer):
    customer = ExistingPkField("Customer", queryset=Customer.objects.all())
    lat = LatitudeField()
    lng = LongitudeField()

    class Meta:
        model = Site
        fields = ["id", "customer", "label", "address", "lat", "lng"]

    def validate_customer(self, customer: Customer) -> Customer:
        # Calls name both a customer and a site; moving a site would split that history.
        if self.instance is not None and customer.pk != self.instance.customer_id:
            raise serializers.ValidationError("A site cannot move to another customer.")
        return customer


class TechnicianSerializer(TextModelSerializer):
    user = ExistingPkField("User", queryset=get_user_model().objects.all())
    team = ExistingPkField("Team", queryset=Team.objects.all())
    team_name = serializers.CharField(source="team.name", read_only=True)
    skills = SkillCodesField(many=True, required=False)
    home_lat = LatitudeField()
    home_lng = LongitudeField()
    last_lat = LatitudeField(required=False, allow_null=True)
    last_lng = LongitudeField(required=False, allow_null=True)
    shift_start = ClockTimeField()
    shift_end = ClockTimeField()

    class Meta:
        model = Technician
        fields = [
            "id",
            "user",
            "name",
            "team",
            "team_name",
            "skills",
            "status",
            "home_lat",
            "home_lng",
            "last_lat",
            "last_lng",
            "last_seen_at",
            "shift_start",
            "shift_end",
        ]
        read_only_fields = ["last_seen_at"]

    def to_representation(self, instance: Technician) -> dict[str, Any]:
        data = super().to_representation(instance)
        # No request (no reader known): hidden, the safe answer.
        user = getattr(self.context.get("request"), "user", None) or AnonymousUser()
        # Null, not absent: every reader gets the same shape; the schema says why it may be null.
        for name in selectors.technician_fields_hidden_from(user=user, technician=instance):
            data[name] = None
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        def value(name: str) -> Any:
            return attrs.get(name, getattr(self.instance, name, None))

        start, end = value("shift_start"), value("shift_end")
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"shift_end": ["A shift must end after it starts."]})
        if (value("last_lat") is None) != (value("last_lng") is None):
            raise serializers.ValidationError(
                {"last_lat": ["Give both last latitude and longitude, or neither."]}
            )
        return attrs


class TechnicianStatusInput(StrictInputSerializer):
    status = serializers.ChoiceField(choices=Technician.Status.choices, required=False)
    lat = LatitudeField(required=False)
    lng = LongitudeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if ("lat" in attrs) != ("lng" in attrs):
            raise serializers.ValidationError("Give both lat and lng, or neither.")
        if not attrs:
            raise serializers.ValidationError("Give a status, a location (lat, lng), or both.")
        return attrs


# --- views --------------------------------------------------------------------------------------


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
