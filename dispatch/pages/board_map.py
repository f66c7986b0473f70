"""The board's map (/board/map/): the day's calls coloured by risk, technicians at their last
known position, each technician's route in queue order. Leaflet is vendored; the tile URL is a
setting (MAP_TILE_URL, empty: no tiles, markers and routes on a plain background)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from common import roles
from config.csp import HEADER, STRICT_POLICY
from dispatch.pages.board import _board_state, _day, _team, poll_response
from dispatch.selectors.board_map import map_get


def tile_origin() -> str | None:
    """Where map tiles come from (scheme and host), None without tiles."""
    parts = urlsplit(settings.MAP_TILE_URL.replace("{s}", "a"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    # "{s}" subdomains (a, b, c) are one origin each; the policy names the host pattern.
    host = urlsplit(settings.MAP_TILE_URL).netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def map_policy() -> str:
    """The strict policy, with the tile server as the one extra image source."""
    origin = tile_origin()
    if origin is None:
        return STRICT_POLICY
    return STRICT_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")


@login_required
@require_GET
def board_map(request: HttpRequest) -> HttpResponse:
    if not roles.is_office(request.user):
        return HttpResponse("The map is for office staff.", status=403)
    day, team = _day(request), _team(request)
    day_map = map_get(user=request.user, day=day, team=team)
    context = {
        "map": day_map,
        # The board's own fingerprint: the map polls the board's poll with it (map.js).
        "version": _board_state(day, team)["version"],
        "tile_url": settings.MAP_TILE_URL if tile_origin() else "",
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        "roles": sorted(roles.roles_of(request.user)),
    }
    response = render(request, "dispatch/board_map.html", context)
    response[HEADER] = map_policy()
    return response


def map_poll(request: HttpRequest) -> HttpResponse:
    """The map's live poll, `/board/columns/?view=map&day=&team=`: the boards' poll (the same
    fingerprint, a 304 while nothing changed), answering with the map's lists, from which
    map.js draws the markers and routes again."""
    if not roles.is_office(request.user):
        return HttpResponse("The map is for office staff.", status=403)

    def lists(day, team, state) -> HttpResponse:
        day_map = map_get(user=request.user, day=day, team=team)
        return render(request, "dispatch/partials/_map_lists.html", {"map": day_map})

    return poll_response(request, lists)
