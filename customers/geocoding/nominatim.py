"""A Nominatim-compatible search service: `GET {GEOCODER_URL}/search?q=...&format=jsonv2`.

Nominatim answers a JSON list of places, each with `lat` and `lon` as strings and a
`display_name`. Anything else (a timeout, an HTTP error, HTML from a proxy, a list of
something else) is `GeocoderUnavailable` with the reason, and the caller falls back offline.
"""

from __future__ import annotations

import json
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from customers.geocoding.matches import MAX_ADDRESS_CHARS, GeocoderUnavailable, Match

MAX_ANSWER_BYTES = 1_000_000


def search_url(base: str, text: str, limit: int) -> str:
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GeocoderUnavailable("GEOCODER_URL is not an http:// or https:// address")
    path = parts.path.rstrip("/")
    if not path.endswith("/search"):
        path += "/search"
    query = urlencode({"q": text, "format": "jsonv2", "limit": limit, "addressdetails": 0})
    return f"{parts.scheme}://{parts.netloc}{path}?{query}"


def _fetch(url: str, *, user_agent: str, timeout: float) -> bytes:
    request = Request(  # noqa: S310 - search_url allows http and https only
        url, headers={"User-Agent": user_agent, "Accept": "application/json"}
    )
    try:
        # Bandit's B310 (and ruff's S310) warn that urlopen also opens file:// and ftp://. Here
        # the URL is GEOCODER_URL from settings, search_url refuses any scheme but http and
        # https, and the typed address is only a query value: hence the annotations below.
        with urlopen(request, timeout=timeout) as answer:  # noqa: S310  # nosec B310
            return answer.read(MAX_ANSWER_BYTES + 1)
    except HTTPError as exc:
        raise GeocoderUnavailable(f"it answered HTTP {exc.code}") from None
    except TimeoutError:
        raise GeocoderUnavailable(f"no answer within {timeout:g} s") from None
    except URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise GeocoderUnavailable(f"no answer within {timeout:g} s") from None
        raise GeocoderUnavailable(f"it could not be reached: {exc.reason}") from None
    except (HTTPException, OSError) as exc:
        raise GeocoderUnavailable(f"the connection failed: {exc.__class__.__name__}") from None


def _place(item) -> Match | None:
    if not isinstance(item, dict):
        return None
    try:
        lat, lng = float(item["lat"]), float(item["lon"])
    except (KeyError, TypeError, ValueError):
        return None
    label = item.get("display_name")
    if not isinstance(label, str) or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return Match(
        label=" ".join(label.split())[:MAX_ADDRESS_CHARS], lat=lat, lng=lng, source="service"
    )


def parse(body: bytes) -> list[Match]:
    if len(body) > MAX_ANSWER_BYTES:
        raise GeocoderUnavailable("its answer was too large")
    try:
        places = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise GeocoderUnavailable("its answer was not JSON") from None
    if not isinstance(places, list):
        raise GeocoderUnavailable("its answer was not a list of places")
    matches = [_place(item) for item in places]
    if any(m is None for m in matches):
        raise GeocoderUnavailable("its answer held places without coordinates")
    return matches


def search(text: str, *, url: str, user_agent: str, timeout: float, limit: int) -> list[Match]:
    body = _fetch(search_url(url, text, limit), user_agent=user_agent, timeout=timeout)
    return parse(body)[:limit]
