"""Learned durations: one log-normal ratio per category, per technician in a category, and one
for the drives (issue 18). Rewritten nightly by ``learn_durations``; never edited by hand."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from common import clock


class DurationModel(models.Model):
    """real = planned x ratio, log(ratio) ~ Normal(mu, sigma), fitted from ``calls`` calls.

    A job row has a category (and a technician when it is that technician's own spread, shrunk
    toward the category's); the travel row has neither."""

    class Kind(models.TextChoices):
        JOB = "job", "Job"
        TRAVEL = "travel", "Travel"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    category = models.ForeignKey(
        "dispatch.CallCategory",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="durations",
    )
    technician = models.ForeignKey(
        "technicians.Technician", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    mu = models.FloatField()
    sigma = models.FloatField()
    calls = models.IntegerField()
    fitted_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["kind", "category_id", "technician_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "category", "technician"],
                nulls_distinct=False,
                name="duration_model_one_per_key",
            ),
            models.CheckConstraint(
                condition=Q(kind="travel", category__isnull=True) | Q(kind="job"),
                name="duration_model_travel_has_no_category",
            ),
            models.CheckConstraint(condition=Q(sigma__gte=0), name="duration_model_sigma"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.category_id}/{self.technician_id}: mu {self.mu:.2f}"
