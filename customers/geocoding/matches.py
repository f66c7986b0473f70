"""What a geocoder answers (`Match`) and how it fails (`GeocoderUnavailable`), apart from
`geocode` so the service client and the offline list can use them without an import cycle."""

from __future__ import annotations

from dataclasses import dataclass

# As the Site.address column: a longer text is not an address.
MAX_ADDRESS_CHARS = 300
MATCH_LIMIT = 5


@dataclass(frozen=True)
class Match:
    label: str
    lat: float
    lng: float
    source: str  # "service" (the geocoding service) | "offline" (the street list)

    @property
    def pick(self) -> str:
        """The radio button's value: what the booking form reads back."""
        return f"{self.lat:.6f},{self.lng:.6f}"


@dataclass(frozen=True)
class Lookup:
    text: str
    matches: tuple[Match, ...]
    notice: str = ""  # why the matches come from the offline list, when the service failed


class GeocoderUnavailable(Exception):
    """The service could not be used; `reason` says why, in words for the CSR."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
