"""API shapes. Output serializers describe what clients read; input serializers check types.

Domain rules (a site belongs to its customer, a deadline follows the window, who may do what)
live in the services; input serializers only turn JSON into typed values, plus the range checks
the database would otherwise reject with an error nobody can read.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import Customer, CustomerMessage, Site
from dispatch import clock, roles
from dispatch.models import CallEvent, Escalation, ServiceCall
from dispatch.selectors.planning import unassigned_fields
from dispatch.services.background import NEVER
from technicians.models import Skill, Team, Technician

MAX_DURATION_MINUTES = 24 * 60


def _check_latitude(value: float | None) -> float | None:
    if value is not None and not -90 <= value <= 90:
        raise serializers.ValidationError("Latitude must be between -90 and 90.")
    return value


def _check_longitude(value: float | None) -> float | None:
    if value is not None and not -180 <= value <= 180:
        raise serializers.ValidationError("Longitude must be between -180 and 180.")
    return value


class ZonedDateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, looking the current time zone up once per field instead of once per
    value: a page of 200 calls has 1,600 date-times, and the lookup was a fifth of its cost."""

    def default_timezone(self):
        if not hasattr(self, "_zone"):
            self._zone = super().default_timezone()
        return self._zone


# The schema states the ranges the validators enforce (found by fuzzing: it said "any number").
@extend_schema_field({"type": "number", "format": "double", "minimum": -90, "maximum": 90})
class LatitudeField(serializers.FloatField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validators=[_check_latitude], **kwargs)


@extend_schema_field({"type": "number", "format": "double", "minimum": -180, "maximum": 180})
class LongitudeField(serializers.FloatField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validators=[_check_longitude], **kwargs)


# A wall-clock time without a zone ("08:00:00"), as shifts are. OpenAPI's `format: time` means
# RFC 3339 with an offset, which the API neither sends nor needs.
@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
        "example": "08:00:00",
    }
)
class ClockTimeField(serializers.TimeField):
    pass


@extend_schema_field(
    {"type": "string", "format": "date", "pattern": r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"}
)
class WorkingDayField(serializers.DateField):
    """A day to work on, 2000-2100. Fuzzing booked a call for 1303, whose times then came back
    with a local-mean-time offset ("-05:50:36") that is not a valid RFC 3339 time."""

    def to_internal_value(self, value: Any) -> Any:
        day = super().to_internal_value(value)
        if not 2000 <= day.year <= 2100:
            raise serializers.ValidationError("Give a day between 2000-01-01 and 2100-12-31.")
        return day


class SkillCodesField(serializers.SlugRelatedField):
    """Skills as their codes, with an error that names the unknown code."""

    default_error_messages = {
        "does_not_exist": "Unknown skill code {value!r}.",
        "invalid": "A skill code is a string.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("slug_field", "code")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Skill.objects.all())
        super().__init__(**kwargs)


class ExistingPkField(serializers.PrimaryKeyRelatedField):
    """A foreign key by id, with an error that says which kind of thing is missing."""

    def __init__(self, noun: str, **kwargs: Any) -> None:
        self.noun = noun
        super().__init__(**kwargs)
        self.error_messages["does_not_exist"] = f"{noun} {{pk_value}} does not exist."
        self.error_messages["incorrect_type"] = f"Give the {noun.lower()} as a numeric id."


# --- reference data ------------------------------------------------------------------------


class SkillSerializer(serializers.ModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "code", "name"]


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "contract", "phone", "email", "created_at"]
        read_only_fields = ["created_at"]


class SiteSerializer(serializers.ModelSerializer):
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


class TechnicianSerializer(serializers.ModelSerializer):
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


# --- calls: output -------------------------------------------------------------------------


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
            "eta",
            "planned_start",
            "planned_finish",
            "slack_minutes",
            "risk",
            "overtime",
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
    def get_tracking_url(self, call: ServiceCall) -> str | None:
        request = self.context.get("request")
        path = f"/track/{call.tracking_token}/"
        if request is None:
            return path
        # The same scheme and host for every call of a page: built once.
        if "site_root" not in self.context:
            self.context["site_root"] = request.build_absolute_uri("/").removesuffix("/")
        return self.context["site_root"] + path

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
    site_root = request.build_absolute_uri("/").removesuffix("/") if request else ""
    zone = timezone.get_current_timezone()
    return [_call_row_data(row, context, zone, site_root if office else None) for row in rows]


def _iso(value, zone) -> str | None:
    # DRF's DateTimeField: in the current time zone, ISO 8601, UTC written as "Z".
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _call_row_data(row: dict, context: dict, zone, site_root: str | None) -> dict[str, Any]:
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
        "eta_computed_at": _iso(row["eta_computed_at"], zone),
        "promised_eta": _iso(row["promised_eta"], zone),
        "reschedule_count": row["reschedule_count"],
        "version": row["version"],
        "tracking_url": f"{site_root}/track/{row['tracking_token']}/",
        "actual_minutes": row["actual_minutes"],
    }
    if site_root is None:
        del data["tracking_url"]  # the link opens the customer's page: office staff only
    return data


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


class CallEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    payload = serializers.JSONField(read_only=True)

    class Meta:
        model = CallEvent
        fields = ["id", "kind", "actor", "payload", "created_at"]
        read_only_fields = fields


class CustomerMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerMessage
        fields = [
            "id",
            "kind",
            "sequence",
            "channel",
            "status",
            "recipient",
            "subject",
            "body",
            "eta",
            "detail",
            "attempts",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    field = serializers.CharField(required=False)


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    call = CallSerializer()


class BackgroundTimeField(serializers.DateTimeField):
    """A time as the rest of the API writes it; "no recompute yet" as the Unix epoch in UTC."""

    def to_representation(self, value):
        if value == NEVER:
            return "1970-01-01T00:00:00Z"
        return super().to_representation(value)


class BackgroundStatusSerializer(serializers.Serializer):
    background_delayed_since = BackgroundTimeField(
        allow_null=True,
        help_text="The last successful recompute, while it is older than "
        "BACKGROUND_DELAY_MINUTES (ETAs may be out of date); 1970-01-01T00:00:00Z when none has "
        "run yet; null while background updates are current.",
    )
    last_recompute_at = BackgroundTimeField(
        allow_null=True, help_text="The last successful recompute of today's queues, if any."
    )


# --- calls: input --------------------------------------------------------------------------


class StrictInputSerializer(serializers.Serializer):
    """Refuses keys it does not know, so a misspelt or read-only field is not silently dropped."""

    hints: dict[str, str] = {}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                hint = " ".join(self.hints[k] for k in unknown if k in self.hints)
                raise serializers.ValidationError(
                    f"Unknown or read-only fields: {', '.join(unknown)}. {hint}".strip()
                )
        return attrs


class CallFieldsInput(StrictInputSerializer):
    site = ExistingPkField("Site", queryset=Site.objects.all())
    summary = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
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


class CallMoveInput(StrictInputSerializer):
    technician = serializers.IntegerField(
        allow_null=True, help_text="Target technician id, or null to unassign."
    )
    position = serializers.IntegerField(
        required=False, allow_null=True, help_text="0-based place in the target queue."
    )
    expected_version = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class CallCancelInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500)
    expected_version = serializers.IntegerField(required=False)


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
