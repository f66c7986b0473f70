"""Serializer fields the API shares: checked coordinates, clock times, working days, skills by
code, foreign keys by id, date-times in the current zone. Those with a range state it in the schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dispatch.models import ServiceCall
from technicians.models import Skill


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


class NumberField(serializers.FloatField):
    """DRF's FloatField, refusing booleans: Python counts True as 1, so `"lng": false` was
    stored as 0.0 (issue 19). JSON's true/false are not numbers."""

    default_error_messages = {"boolean": "Give a number, not true or false."}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("boolean")
        return super().to_internal_value(data)


def description_field(**kwargs: Any) -> serializers.CharField:
    """A call's free-text description, bounded (ServiceCall.MAX_DESCRIPTION_CHARS)."""
    return serializers.CharField(
        max_length=ServiceCall.MAX_DESCRIPTION_CHARS,
        error_messages={"max_length": ServiceCall.DESCRIPTION_TOO_LONG},
        **kwargs,
    )


# The schema states the ranges the validators enforce (found by fuzzing: it said "any number").
@extend_schema_field({"type": "number", "format": "double", "minimum": -90, "maximum": 90})
class LatitudeField(NumberField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validators=[_check_latitude], **kwargs)


@extend_schema_field({"type": "number", "format": "double", "minimum": -180, "maximum": 180})
class LongitudeField(NumberField):
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


class TextField(serializers.CharField):
    """Text given as text: DRF's CharField stored `"name": -277` as "-277" (found by fuzzing
    as a manager). A form body is all text, so this only refuses JSON numbers and booleans."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextModelSerializer(serializers.ModelSerializer):
    """A model serializer whose text columns take text only (TextField)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        **{
            model_field: TextField
            for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
            if field is serializers.CharField
        },
    }
