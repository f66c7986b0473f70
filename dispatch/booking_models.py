"""Callers we could not book (kept apart from models.py, which is long enough)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from common import clock
from customers.models import Customer

# Imported at the bottom of dispatch.models, after these are defined.
from dispatch.models import CallCategory, ServiceCall


class TurnedAwayCall(models.Model):
    """A caller we could not book: "we had no room" becomes a number. Never edited."""

    class Reason(models.TextChoices):
        NO_CAPACITY = "no_capacity", "No capacity on the days asked for"
        NO_WINDOW_SUITED = "no_window_suited", "None of the offered windows suited the customer"
        NO_SKILL = "no_skill", "Nobody with the skills needed"
        OUT_OF_AREA = "out_of_area", "Outside our area"
        OTHER = "other", "Other"

    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.TextField(blank=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="turned_away"
    )
    # A caller who is not (yet) a customer is still counted, by name.
    caller_name = models.CharField(max_length=200, blank=True)
    summary = models.CharField(max_length=200, blank=True)
    category = models.ForeignKey(
        CallCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    priority = models.CharField(
        max_length=16, choices=ServiceCall.Priority.choices, default=ServiceCall.Priority.NORMAL
    )
    team = models.ForeignKey(
        "technicians.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # How many windows were on offer when the caller was turned away (0: none at all).
    windows_offered = models.IntegerField(default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Set by the service from its clock (tests replace the clock), hence not auto_now_add.
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    reason__in=[
                        "no_capacity",
                        "no_window_suited",
                        "no_skill",
                        "out_of_area",
                        "other",
                    ]
                ),
                name="turned_away_reason_valid",
            )
        ]

    def __str__(self) -> str:
        return f"Turned away ({self.reason}) {self.created_at:%Y-%m-%d %H:%M}"
