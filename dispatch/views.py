"""HTML views: thin; they ask selectors and services and pick a template."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dispatch import roles
from dispatch.selectors import calls_visible_to


@login_required
def home(request: HttpRequest) -> HttpResponse:
    calls = calls_visible_to(request.user).filter(status__in=("new", "assigned", "en_route", "on_site"))
    return render(request, "dispatch/home.html", {
        "calls": calls.order_by("scheduled_day", "technician__name", "position")[:300],
        "roles": sorted(roles.roles_of(request.user)),
    })
