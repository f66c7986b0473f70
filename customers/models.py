from __future__ import annotations

from django.db import models
from django.db.models import Q

from common import clock


def lat_lng_checks(prefix: str, lat: str, lng: str) -> list[models.CheckConstraint]:
    """Latitude and longitude ranges, enforced by the database itself."""
    return [
        models.CheckConstraint(
            condition=Q(**{f"{lat}__isnull": True}) | Q(**{f"{lat}__gte": -90, f"{lat}__lte": 90}),
            name=f"{prefix}_{lat}_range",
            violation_error_message="Latitude must be between -90 and 90.",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{lng}__isnull": True})
            | Q(**{f"{lng}__gte": -180, f"{lng}__lte": 180}),
            name=f"{prefix}_{lng}_range",
            violation_error_message="Longitude must be between -180 and 180.",
        ),
    ]


class Customer(models.Model):
    class Contract(models.TextChoices):
        TIME_AND_MATERIALS = "time_and_materials", "Time and materials"
        FULL_SERVICE = "full_service", "Full service"

    name = models.CharField(max_length=200)
    contract = models.CharField(max_length=32, choices=Contract.choices)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contract__in=["time_and_materials", "full_service"]),
                name="customer_contract_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    # PROTECT: a customer with sites (and so with call history) is never deleted by accident.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="sites")
    label = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=300)
    lat = models.FloatField()
    lng = models.FloatField()

    class Meta:
        ordering = ["customer_id", "id"]
        constraints = lat_lng_checks("site", "lat", "lng")

    def __str__(self) -> str:
        return f"{self.customer.name}: {self.address}" if self.customer_id else self.address


class CustomerMessage(models.Model):
    """One message to a customer about a call, on one channel: planned once, sent once.

    `dedupe_key` (call, kind, sequence, channel) is what makes every message idempotent: a sweep
    that finds a message due inserts its row, and a second sweep (or the same one a minute later,
    or two at once) finds the key taken. `sequence` counts the changes of a kind that repeats (a
    second delay notice when the ETA slips again, another "still on it" after another wait).
    """

    class Kind(models.TextChoices):
        BOOKING_CONFIRMATION = "booking_confirmation", "Booking confirmation"
        ON_MY_WAY = "on_my_way", "On my way"
        DELAY = "delay", "Delay notice"
        STILL_ON_IT = "still_on_it", "We are still on it"
        # Words a person wrote (a manager resolving an escalation), delivered like the rest.
        UPDATE = "update", "Update from the office"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    # A string reference: dispatch's models import this module.
    call = models.ForeignKey(
        "dispatch.ServiceCall", on_delete=models.PROTECT, related_name="customer_messages"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    sequence = models.PositiveIntegerField(default=1)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    dedupe_key = models.CharField(max_length=80, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # Empty when the customer has no address for this channel (then skipped, and `detail` says so).
    recipient = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # The ETA the message announced (delay, on my way): the next delay notice compares with it.
    eta = models.DateTimeField(null=True, blank=True)
    # Why it was skipped, or the last delivery error.
    detail = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["call", "kind", "sequence"], name="custmsg_call_kind"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="custmsg_pending",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["booking_confirmation", "on_my_way", "delay", "still_on_it", "update"]
                ),
                name="custmsg_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms"]), name="custmsg_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sent", "skipped", "failed"]),
                name="custmsg_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.sequence} ({self.channel}), call {self.call_id}"
