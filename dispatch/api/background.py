"""Whether background updates (the ETA recompute) are current: the status endpoint, and the
header every view adds while they are delayed.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common import clock
from dispatch.api.common import ERRORS, STAFF_PERMISSIONS
from dispatch.services.background import NEVER, background_status, heartbeat_delayed_since

DELAYED_HEADER = "X-Background-Delayed-Since"


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
