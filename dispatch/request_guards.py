"""Refuse a NUL character in a request's address or form data with a 400 the person can act on.

Issue 19: a NUL (\\x00) in any HTML form field (an escalation note, a move reason, a hand-off
note, a customer message ...), in a query string (`/book/?q=%00`) or in a path
(`/track/abc%00/`, no sign-in needed) reached PostgreSQL, which cannot store or compare text
holding one: a 500. Nobody types a NUL on purpose (it comes with text pasted from another
program, or from a probe), so one middleware refuses it before any view, for every page and
the API: HTML for pages, the API's JSON error shape under /api/. API bodies are checked by their
serializers (DRF's text fields refuse NUL, as the schema says), so the middleware reads form
bodies only for pages.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.html import format_html

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(query) -> str | None:
    """The first name in a QueryDict whose name or any value holds a NUL, else None."""
    for name, values in query.lists():
        if NUL in name or any(NUL in value for value in values):
            return name.replace(NUL, "")
    return None


def nul_problem(request: HttpRequest) -> str | None:
    """What in the request holds a NUL, in words for the person; None if nothing does."""
    if NUL in request.path:
        return (
            "The address you opened contains a NUL character (%00), so it cannot be a page of "
            "ours. Check the link (copy it again from the message or the page) and try again."
        )
    name = _has_nul(request.GET)
    if name is not None:
        return (
            f"The search or filter “{name}” in the address contains a NUL character (%00), "
            "which cannot be used. Remove it and try again."
        )
    if request.path.startswith("/api/") or request.method != "POST":
        return None
    if request.content_type not in FORM_TYPES:
        return None
    try:
        name = _has_nul(request.POST)
    except MultiPartParserError:
        return None  # a broken form body is the view's (Django's) 400 to give, as before
    if name is not None:
        return (
            f"The field “{name}” contains a NUL character (an invisible control character, "
            "often pasted from another program), which cannot be saved. Retype or re-paste "
            "the text without it and send the form again."
        )
    return None


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    paragraph = format_html('<p class="notice error" role="alert">{}</p>', message)
    if request.headers.get("HX-Request"):
        return HttpResponse(paragraph, status=400)  # swapped into the page that sent it
    page = format_html(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bad request</title>'
        "</head><body><h1>That request could not be used</h1>{}"
        "<p>Go back, correct it and try again.</p></body></html>",
        paragraph,
    )
    return HttpResponse(page, status=400)


class RefuseNulMiddleware:
    """Early in MIDDLEWARE: before sessions and views touch the database with the NUL."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        message = nul_problem(request)
        if message is not None:
            return bad_request(request, message)
        return self.get_response(request)
