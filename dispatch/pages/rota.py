"""The on-call rota (`/rota/`): every team's coming on-call spans, a form to add one, a button
to remove one. Managers only (the door is ``rota_visible_to``). Thin: the rota selector reads,
the rota service writes; a refused form comes back with the reason and what was typed."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from common import clock
from common.errors import DispatchError, InvalidInput, NotAllowed
from dispatch.selectors.rota import rota_get, rota_technicians, rota_visible_to
from dispatch.services.rota import on_call_add, on_call_remove

FIELDS = ("technician", "starts_at", "ends_at", "note")
WHEN_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
LABELS = {"starts_at": "From", "ends_at": "To"}


def _when(raw: str, field: str) -> datetime:
    raw = raw.strip()
    for fmt in WHEN_FORMATS:
        try:
            return timezone.make_aware(datetime.strptime(raw, fmt))
        except ValueError:
            continue
    raise InvalidInput(
        f"“{LABELS[field]}” must be a date and time, like 2026-12-02 17:00.", field=field
    )


def _technician_id(raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        raise InvalidInput("Choose who is on call from the list.", field="technician")
    return int(raw)


def _night(now: datetime) -> dict[str, str]:
    """The form's starting values: tonight, 17:00 to 08:00."""
    today = timezone.localdate(now)
    return {
        "technician": "",
        "starts_at": f"{today:%Y-%m-%d}T17:00",
        "ends_at": f"{today + timedelta(days=1):%Y-%m-%d}T08:00",
        "note": "",
    }


def _page(request, form: dict, errors: dict, status: int = 200) -> HttpResponse:
    now = clock.now()
    context = {
        "rota": rota_get(user=request.user, now=now),
        "technicians": rota_technicians(user=request.user),
        "form": form,
        "errors": errors,
        "now": now,
    }
    return render(request, "desk/rota.html", context, status=status)


def _refused(exc: DispatchError) -> HttpResponse:
    return HttpResponse(exc.message, status=exc.status_code, content_type="text/plain")


@login_required
@require_http_methods(["GET", "POST"])
def rota(request: HttpRequest) -> HttpResponse:
    try:
        rota_visible_to(request.user)
    except NotAllowed as exc:
        return _refused(exc)
    if request.method == "GET":
        return _page(request, _night(clock.now()), {})
    form = {name: request.POST.get(name, "") for name in FIELDS}
    try:
        shift = on_call_add(
            user=request.user,
            technician_id=_technician_id(form["technician"]),
            starts_at=_when(form["starts_at"], "starts_at"),
            ends_at=_when(form["ends_at"], "ends_at"),
            note=form["note"].strip(),
        )
    except DispatchError as exc:
        status = 400 if exc.status_code == 404 else exc.status_code
        return _page(request, form, {exc.field or "form": exc.message}, status=status)
    start, end = timezone.localtime(shift.starts_at), timezone.localtime(shift.ends_at)
    messages.success(
        request, f"{shift.technician.name} is on call {start:%a %d %b %H:%M} to {end:%a %H:%M}."
    )
    return redirect("pages:rota")


@login_required
@require_POST
def rota_remove(request: HttpRequest, shift_id: int) -> HttpResponse:
    try:
        shift = on_call_remove(user=request.user, shift_id=shift_id)
    except NotAllowed as exc:
        return _refused(exc)
    except DispatchError as exc:
        return _page(request, _night(clock.now()), {"form": exc.message}, status=exc.status_code)
    start = timezone.localtime(shift.starts_at)
    messages.success(request, f"Removed {shift.technician.name}'s on call from {start:%a %H:%M}.")
    return redirect("pages:rota")
