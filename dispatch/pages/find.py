"""The "Find a call" page (`/calls/find/?q=`): the office's search by customer name, phone,
address or call number; thin: the match is `dispatch.selectors.search`, as the API's `?search=`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from common import clock, roles
from dispatch import selectors
from dispatch.selectors.search import FIND_LIMIT, RECENT_DAYS, calls_find, search_text

FORBIDDEN = "Finding calls is for CSRs, dispatchers and managers."


@login_required
@require_GET
def call_find(request: HttpRequest) -> HttpResponse:
    if not roles.is_office(request.user):
        return HttpResponse(FORBIDDEN, status=403, content_type="text/plain; charset=utf-8")
    query = search_text(request.GET.get("q"))
    calls = []
    if query:
        visible = selectors.calls_visible_to(request.user).prefetch_related(None)
        calls = calls_find(visible, query, now=clock.now())
    context = {
        "find_q": query,
        "calls": calls,
        "limit": FIND_LIMIT,
        "recent_days": RECENT_DAYS,
    }
    return render(request, "dispatch/find.html", context)
