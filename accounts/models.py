"""Failed sign-ins and the lockouts they caused, in the database so every web process shares
them (nothing in process memory)."""

from __future__ import annotations

from django.db import models


class LoginFailure(models.Model):
    """One failed sign-in (HTML, admin or API token). Kept for the throttling window only."""

    username = models.CharField(max_length=150, db_index=True)  # as typed, lower-cased
    address = models.GenericIPAddressField(null=True, db_index=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["username", "at"]), models.Index(fields=["address", "at"])]

    def __str__(self) -> str:
        return f"{self.username or '?'} from {self.address} at {self.at:%Y-%m-%d %H:%M:%S}"


class LockoutRecord(models.Model):
    """The durable record of a lockout: what was locked, after how many failures, until when."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", "account"
        ADDRESS = "address", "address"

    scope = models.CharField(max_length=10, choices=Scope.choices)
    key = models.CharField(max_length=150)  # the username or the address
    failures = models.PositiveIntegerField()
    address = models.GenericIPAddressField(null=True)  # where the failure that locked came from
    locked_at = models.DateTimeField()
    until = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "until"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} locked until {self.until:%Y-%m-%d %H:%M}"
