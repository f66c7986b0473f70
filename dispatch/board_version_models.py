"""What a polling board compares: one counter per team and day, bumped by PostgreSQL triggers
(migration 0012) in the same transaction as every change the board shows."""

from __future__ import annotations

from django.db import models


class BoardVersion(models.Model):
    """Bumped by triggers on calls (moves, status, recompute writes, bookings), escalations
    and technicians; never written by the application, so no writer can forget it. A team's
    row on ROSTER_DAY counts changes to its technicians, which show on all of its boards."""

    ROSTER_DAY = "0001-01-01"

    team = models.ForeignKey("technicians.Team", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "day"], name="board_version_team_day")
        ]

    def __str__(self) -> str:
        return f"board {self.team_id} {self.day}: {self.version}"
