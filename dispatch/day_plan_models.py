"""A day plan as data: what the solver proposed for a team's (or every team's) day, with the
figures before and after, the routes, every call that changes, and what was known when it was
made (the queues and versions), so applying it can tell whether the board has moved on since."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from common import clock


class DayPlan(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        PERSON = "person", "Asked for"
        LATE = "late", "A call turned late"
        EMERGENCY = "emergency", "An emergency arrived"

    team = models.ForeignKey(
        "technicians.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )  # null: every team
    day = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # null: prepared by the re-plan rule
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.PERSON)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    seconds = models.PositiveSmallIntegerField()  # the solver's time limit
    created_at = models.DateTimeField(default=clock.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    planned_at = models.DateTimeField(null=True, blank=True)  # "now" the plan was made for
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    routes = models.JSONField(default=list, blank=True)  # [{"technician", "calls"}]
    unplanned = models.JSONField(default=list, blank=True)
    changes = models.JSONField(default=list, blank=True)
    # What the plan was made from: {"queues": {tech: [[call, version], ...]}, "waiting": [...]}.
    snapshot = models.JSONField(default=dict, blank=True)
    # Why each unplanned call is, how many technicians could take calls, whether the solver's
    # order beat the least change, and (once applied) which calls were.
    notes = models.JSONField(default=dict, blank=True)
    solver_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    discarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["day", "team", "created_at"], name="dayplan_day_team")]

    def __str__(self) -> str:
        return f"Plan #{self.pk} for {self.day} ({self.status})"

    @property
    def partly_applied(self) -> bool:
        applied = self.notes.get("applied_calls")
        return bool(self.applied_at) and applied is not None and len(applied) < len(self.changes)

    @property
    def open(self) -> bool:
        """Ready and neither applied nor discarded: a proposal waiting for a person."""
        return self.status == self.Status.READY and not self.applied_at and not self.discarded_at
