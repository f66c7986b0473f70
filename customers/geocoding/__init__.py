"""Addresses to coordinates: a Nominatim-compatible service, and the demo city's streets offline.

`geocode(text)` is the one entry point (the booking page's "Find address"). With
`GEOCODER_URL` set it asks that service first (nominatim.py); when the service is not set, does
not answer in `GEOCODER_TIMEOUT_SECONDS`, fails or answers with something that is not a
Nominatim answer, or finds nothing, the offline street list of Chicago answers (offline.py,
streets.py), and `Lookup.notice` says in words why the matches come from there.
"""

from __future__ import annotations

from django.conf import settings

from common.errors import InvalidInput
from customers.geocoding import nominatim, offline
from customers.geocoding.matches import (
    MATCH_LIMIT,
    MAX_ADDRESS_CHARS,
    GeocoderUnavailable,
    Lookup,
    Match,
)

__all__ = ["GeocoderUnavailable", "Lookup", "Match", "address_text", "geocode", "pick_coordinates"]


def address_text(raw: str | None) -> str:
    text = " ".join((raw or "").split())
    if not text:
        raise InvalidInput(
            "Type the address first: house number, direction and street, like “1200 N Halsted St”.",
            "address",
        )
    if len(text) > MAX_ADDRESS_CHARS or "\x00" in text:
        raise InvalidInput(
            f"An address is at most {MAX_ADDRESS_CHARS} characters of plain text.", "address"
        )
    return text


def geocode(raw: str | None, *, limit: int = MATCH_LIMIT) -> Lookup:
    """Matches for an address as typed, best first (an empty tuple when nothing matches)."""
    text = address_text(raw)
    notice = ""
    if settings.GEOCODER_URL:
        try:
            found = nominatim.search(
                text,
                url=settings.GEOCODER_URL,
                user_agent=settings.GEOCODER_USER_AGENT,
                timeout=settings.GEOCODER_TIMEOUT_SECONDS,
                limit=limit,
            )
        except GeocoderUnavailable as exc:
            notice = (
                f"The address service could not be used ({exc.reason}); these matches come "
                "from the offline street list of Chicago."
            )
        else:
            if found:
                return Lookup(text, tuple(found))
    return Lookup(text, tuple(offline.search(text, limit=limit)), notice)


def pick_coordinates(value: str) -> tuple[float, float] | None:
    """A picked match's "lat,lng" back as numbers; None when it is not one."""
    lat_text, _, lng_text = (value or "").partition(",")
    try:
        lat, lng = float(lat_text), float(lng_text)
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng
