"""The technician's own day (`/me/`), made for a phone: plain forms, one service per action.

Every post goes through the same services as the board and the API. A refused action re-renders
the page with the reason and the right status (400/403/404/409); a done one redirects back
(post/redirect/get), so a phone's back button never re-sends it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from common import clock
from common.errors import DispatchError, InvalidInput
from dispatch.selectors import call_get_for_user
from dispatch.services.asks import tech_ask_answer
from dispatch.services.call_status import call_status_update
from dispatch.services.claims import call_claim
from dispatch.services.handoffs import (
    handoff_accept,
    handoff_decline,
    handoff_offer,
    handoff_options,
    handoff_withdraw,
)
from dispatch.services.moves import call_move
from dispatch.services.technicians import technician_status_update
from technicians.selectors import my_day_get, my_day_version, technician_for_me

DONE_MESSAGES = {
    "en_route": "On your way to call #{id}. ETAs updated.",
    "on_site": "Arrived at call #{id}.",
    "completed": "Call #{id} done.",
    "cant_complete": "Call #{id} went back to the dispatcher.",
}


def _int(raw: str | None):
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        return raw  # the service refuses it in words


def _float(raw: str | None, name: str) -> float | None:
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, like 41.88.", field=name.lower()) from None


def _page(request: HttpRequest, *, error: DispatchError | None = None, **extra) -> HttpResponse:
    now = clock.now()
    try:
        day = my_day_get(user=request.user, day=timezone.localdate(now), now=now)
    except DispatchError as exc:
        return render(request, "technicians/not_technician.html", {"error": exc}, status=403)
    version = my_day_version(technician=day.technician, day=day.day)
    context = {
        "me": day,
        "now": now,
        "version": version,
        "error": error.message if error else None,
        **extra,
    }
    status = error.status_code if error else 200
    return render(request, "technicians/me.html", context, status=status)


def _refused(request: HttpRequest, exc: DispatchError) -> HttpResponse:
    return _page(request, error=exc)


def _back(anchor: str) -> HttpResponse:
    """Back to `/me/` at the place the technician acted (a fragment), not at the top of the day."""
    return redirect(f"{reverse('tech:me')}#{anchor}")


def _call_anchor(call_id: int) -> str:
    return f"me-call-{call_id}"


@login_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_GET
def me_version(request: HttpRequest) -> HttpResponse:
    """What an open `/me/` polls: 304 while nothing it shows changed, else the new version."""
    try:
        tech = technician_for_me(user=request.user)
    except DispatchError as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    version = my_day_version(technician=tech, day=timezone.localdate(clock.now()))
    etag = f'"{version}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(version, content_type="text/plain")
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


@login_required
@require_POST
def me_call_status(request: HttpRequest, call_id: int) -> HttpResponse:
    post = request.POST
    status = post.get("status", "")
    try:
        call_status_update(
            user=request.user,
            call_id=call_id,
            status=status,
            expected_version=_int(post.get("expected_version")),
            actual_minutes=_int(post.get("actual_minutes")),
            reason=post.get("reason", "")[:500],
            lat=_float(post.get("lat"), "Latitude"),
            lng=_float(post.get("lng"), "Longitude"),
        )
    except DispatchError as exc:
        return _refused(request, exc)
    messages.success(request, DONE_MESSAGES.get(status, "Updated.").format(id=call_id))
    # On my way and arrived keep the call first; done and given back leave the next one there.
    return _back("me-next")


@login_required
@require_POST
def me_location(request: HttpRequest) -> HttpResponse:
    try:
        tech = technician_for_me(user=request.user)
        lat = _float(request.POST.get("lat"), "Latitude")
        lng = _float(request.POST.get("lng"), "Longitude")
        if lat is None or lng is None:
            raise InvalidInput("Give both latitude and longitude.", field="lat")
        technician_status_update(user=request.user, technician=tech, lat=lat, lng=lng)
    except DispatchError as exc:
        return _refused(request, exc)
    messages.success(request, "Location updated; ETAs follow.")
    return _back("where-title")


@login_required
@require_POST
def me_call_move(request: HttpRequest, call_id: int) -> HttpResponse:
    """Up, down or a given place in my own queue, through the move service; a move that hurts a
    promise or a deadline is shown first and needs a second, confirming post."""
    post = request.POST
    try:
        tech = technician_for_me(user=request.user)
        call = call_get_for_user(user=request.user, call_id=call_id)
        position = _target_position(call, post)
        args = {
            "user": request.user,
            "call_id": call_id,
            "technician_id": tech.pk,
            "position": position,
            "expected_version": _int(post.get("expected_version")),
        }
        result = call_move(require_confirmation=post.get("confirm") != "1", **args)
    except DispatchError as exc:
        return _refused(request, exc)
    if not result.applied:
        ripple = result.plan.ripple_for(request.user)
        return _page(request, confirm={"call": result.call, "ripple": ripple, "move": args})
    messages.success(request, f"Call #{call_id} is now number {result.call.position + 1}.")
    return _back(_call_anchor(call_id))


def _target_position(call, post) -> int | None:
    if post.get("position") not in (None, ""):
        return _int(post["position"])
    if call.position is None:
        raise InvalidInput(f"Call #{call.pk} is not in your queue.")
    step = {"up": -1, "down": 1}.get(post.get("direction", ""))
    if step is None:
        raise InvalidInput("Say which way to move the call: up or down.", field="direction")
    return max(0, call.position + step)


@login_required
@require_GET
def me_handoff(request: HttpRequest, call_id: int) -> HttpResponse:
    """Teammates who could take this call, with the ETA and ripple each would see."""
    try:
        call = call_get_for_user(user=request.user, call_id=call_id)
        candidates, excluded = handoff_options(user=request.user, call_id=call_id)
    except DispatchError as exc:
        return _refused(request, exc)
    context = {"call": call, "candidates": candidates, "excluded": excluded}
    return render(request, "technicians/handoff.html", context)


@login_required
@require_POST
def me_handoff_offer(request: HttpRequest, call_id: int) -> HttpResponse:
    post = request.POST
    try:
        offer = handoff_offer(
            user=request.user,
            call_id=call_id,
            to_technician_id=_int(post.get("technician")),
            expected_version=_int(post.get("expected_version")),
            note=post.get("note", "")[:500],
        )
    except DispatchError as exc:
        return _refused(request, exc)
    until = timezone.localtime(offer.expires_at).strftime("%H:%M")
    messages.success(request, f"Offered call #{call_id} to {offer.to_technician} until {until}.")
    return _back(_call_anchor(call_id))


def _answer(request: HttpRequest, action, done: str, **kwargs) -> HttpResponse:
    try:
        offer = action(user=request.user, **kwargs)
    except DispatchError as exc:
        return _refused(request, exc)
    messages.success(request, done.format(call=offer.call_id))
    # An accepted call is in my queue now; a declined or withdrawn one leaves me at my next call.
    return _back(_call_anchor(offer.call_id) if offer.status == "accepted" else "me-next")


@login_required
@require_POST
def me_offer_accept(request: HttpRequest, offer_id: int) -> HttpResponse:
    return _answer(request, handoff_accept, "Call #{call} is yours now.", offer_id=offer_id)


@login_required
@require_POST
def me_offer_decline(request: HttpRequest, offer_id: int) -> HttpResponse:
    note = request.POST.get("note", "")[:500]
    return _answer(request, handoff_decline, "Declined call #{call}.", offer_id=offer_id, note=note)


@login_required
@require_POST
def me_offer_withdraw(request: HttpRequest, offer_id: int) -> HttpResponse:
    done = "Withdrew your offer of call #{call}."
    return _answer(request, handoff_withdraw, done, offer_id=offer_id)


@login_required
@require_POST
def me_ask_answer(request: HttpRequest, ask_id: int) -> HttpResponse:
    """One tap answers the dispatcher's question; their board shows it at once."""
    try:
        ask = tech_ask_answer(
            user=request.user,
            ask_id=ask_id,
            answer=request.POST.get("answer", ""),
            note=request.POST.get("note", "")[:500],
        )
    except DispatchError as exc:
        return _refused(request, exc)
    messages.success(request, f"Told the dispatcher: “{ask.answer_words}” (call #{ask.call_id}).")
    return _back("me-next")


@login_required
@require_POST
def me_call_claim(request: HttpRequest, call_id: int) -> HttpResponse:
    try:
        result = call_claim(
            user=request.user,
            call_id=call_id,
            expected_version=_int(request.POST.get("expected_version")),
        )
    except DispatchError as exc:
        return _refused(request, exc)
    messages.success(
        request, f"Call #{call_id} is yours, number {result.call.position + 1} in your queue."
    )
    return _back(_call_anchor(call_id))
