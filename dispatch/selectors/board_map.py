"""The board's map: where the day's calls are, where each technician last was, and each
technician's route in queue order. Read through the board's doors: calls as the board sees
them, a technician's whereabouts only for those allowed to see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from dispatch.models import ServiceCall
from dispatch.selectors import (
    calls_visible_to,
    technician_fields_hidden_from,
    technicians_visible_to,
)
from technicians.models import Team, Technician


@dataclass(frozen=True, slots=True)
class MapCall:
    id: int
    summary: str
    customer_name: str
    lat: float
    lng: float
    risk: str
    technician_id: int | None
    position: int | None
    status: str
    # With risk and technician_id, what the list beside the map says (the `standing` filter:
    # "Unassigned" or "No deadline" where "On time" would not be true, as on the board).
    deadline: datetime | None


@dataclass
class MapTechnician:
    id: int
    name: str
    status: str
    # Last known position (home base when none was reported); None when hidden from the user.
    lat: float | None
    lng: float | None
    reported: bool  # the position is a reported one, not home base
    calls: list[MapCall] = field(default_factory=list)

    @property
    def status_words(self) -> str:
        """ "en route", not "en_route": the model's own label, in the sentence's case."""
        return Technician.Status(self.status).label.lower() if self.status else ""


@dataclass
class DayMap:
    day: date
    team: Team | None
    technicians: list[MapTechnician]
    unassigned: list[MapCall]

    @property
    def call_count(self) -> int:
        return len(self.unassigned) + sum(len(t.calls) for t in self.technicians)


def map_get(*, user, day: date, team: Team | None) -> DayMap:
    """The day's open calls and the team's technicians in three queries."""
    techs = technicians_visible_to(user).select_related(None).prefetch_related(None)
    if team is not None:
        techs = techs.filter(team=team)
    shown: dict[int, MapTechnician] = {}
    for tech in techs.order_by("name", "pk"):
        hidden = technician_fields_hidden_from(user=user, technician=tech)
        reported = tech.last_lat is not None and "last_lat" not in hidden
        lat = tech.last_lat if reported else (None if "home_lat" in hidden else tech.home_lat)
        lng = tech.last_lng if reported else (None if "home_lng" in hidden else tech.home_lng)
        shown[tech.pk] = MapTechnician(tech.pk, tech.name, tech.status, lat, lng, reported)
    rows = (
        calls_visible_to(user)
        .select_related(None)
        .prefetch_related(None)
        .filter(scheduled_day=day, status__in=ServiceCall.OPEN_STATUSES)
        .filter(site__lat__isnull=False)
        .order_by("technician_id", "position", "id")
        .values_list(
            "id",
            "summary",
            "customer__name",
            "site__lat",
            "site__lng",
            "risk",
            "technician_id",
            "position",
            "status",
            "deadline",
        )  # fmt: skip
    )
    unassigned = []
    for row in rows:
        call = MapCall(*row)
        if call.technician_id is None:
            unassigned.append(call)
        elif call.technician_id in shown:
            shown[call.technician_id].calls.append(call)
    return DayMap(day, team, list(shown.values()), unassigned)
