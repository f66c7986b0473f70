"""What happened to a call: its audit log, and the messages its customer was sent."""

from __future__ import annotations

from rest_framework import generics, serializers

from customers.models import CustomerMessage
from customers.selectors import messages_for_user
from dispatch import selectors
from dispatch.api.background import BackgroundDelayHeaderMixin
from dispatch.api.common import STAFF_PERMISSIONS
from dispatch.models import CallEvent


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
