"""What every API module shares: the error shape, strict inputs, the staff gate, validation.

Views are thin: selectors read, services write, serializers translate. Output serializers
describe what clients read; input serializers check types. Domain rules (a site belongs to its
customer, a deadline follows the window, who may do what) live in the services; input
serializers only turn JSON into typed values, plus the range checks the database would otherwise
reject with an error nobody can read.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request

from dispatch.api.permissions import HasDispatchRole


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    field = serializers.CharField(required=False)


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


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input; `field` names the culprit."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed for your role."),
    404: OpenApiResponse(ErrorSerializer, description="No such call within your reach."),
}
STAFF_PERMISSIONS = [IsAuthenticated, HasDispatchRole]


def validated(
    serializer_class: type[serializers.Serializer], request: Request, *, partial: bool = False
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
