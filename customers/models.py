from __future__ import annotations

from django.db import models
from django.db.models import Q


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
    created_at = models.DateTimeField(auto_now_add=True)

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
