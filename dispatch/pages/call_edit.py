"""The call page's Edit and Cancel: plain forms posting to the same services as the API. A
refused one shows the call page again with the reason beside its form and what was typed kept;
a done one goes back to the call page (post/redirect/get)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from common import roles
from common.errors import DispatchError, NotFound
from dispatch import selectors
from dispatch.api.calls import MAX_DURATION_MINUTES
from dispatch.models import ServiceCall
from dispatch.pages.form_errors import first_error
from dispatch.services.calls import call_cancel, call_update

MAX_REASON = 500


class CallEditForm(forms.Form):
    summary = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False,
        max_length=ServiceCall.MAX_DESCRIPTION_CHARS,
        error_messages={"max_length": ServiceCall.DESCRIPTION_TOO_LONG},
    )
    priority = forms.ChoiceField(choices=ServiceCall.Priority.choices)
    duration_minutes = forms.IntegerField(min_value=1, max_value=MAX_DURATION_MINUTES)
    expected_version = forms.IntegerField()


class CallCancelForm(forms.Form):
    reason = forms.CharField(max_length=MAX_REASON)
    expected_version = forms.IntegerField()


def edit_forms(request: HttpRequest, call) -> dict:
    """The two forms' starting values, for the office on an open call (the services decide who
    may; this only leaves out forms nobody on the page could use)."""
    if not roles.is_office(request.user) or not call.is_open:
        return {}
    return {
        "edit_form": {
            "summary": call.summary,
            "description": call.description,
            "priority": call.priority,
            "duration_minutes": call.duration_minutes,
            "priorities": ServiceCall.Priority.choices,
        },
        "cancel_form": {"reason": ""},
    }


@login_required
@require_POST
def call_edit(request: HttpRequest, call_id: int) -> HttpResponse:
    form = CallEditForm(request.POST)
    try:
        call = _call(request, call_id)
        data = _cleaned(form)
        version = data.pop("expected_version")
        call_update(user=request.user, call=call, changes=data, expected_version=version)
    except DispatchError as exc:
        return _refused(request, call_id, exc, "edit_form", request.POST)
    messages.success(request, f"Saved call #{call_id}. ETAs follow the new details.")
    return redirect("pages:call-page", call_id=call_id)


@login_required
@require_POST
def call_cancel_view(request: HttpRequest, call_id: int) -> HttpResponse:
    form = CallCancelForm(request.POST)
    try:
        call = _call(request, call_id)
        data = _cleaned(form)
        call_cancel(
            user=request.user,
            call=call,
            reason=data["reason"],
            expected_version=data["expected_version"],
        )
    except DispatchError as exc:
        return _refused(request, call_id, exc, "cancel_form", request.POST)
    messages.success(request, f"Cancelled call #{call_id}; its queue closed up behind it.")
    return redirect("pages:call-page", call_id=call_id)


def _call(request: HttpRequest, call_id: int):
    try:
        return selectors.call_get_for_user(user=request.user, call_id=call_id)
    except NotFound:
        raise Http404("Call not found") from None


def _cleaned(form: forms.Form) -> dict:
    if form.is_valid():
        return dict(form.cleaned_data)
    raise first_error(form)


def _refused(request: HttpRequest, call_id: int, exc: DispatchError, name: str, post):
    # The page's own context, built in one place (imported here: the call page imports this
    # module for its forms).
    from dispatch.pages.calls import detail_context

    context = detail_context(request, call_id)
    if name not in context:  # the call closed meanwhile: the message is all there is to say
        messages.error(request, exc.message)
        return render(request, "dispatch/call_detail.html", context, status=exc.status_code)
    typed = {key: post.get(key, "") for key in context[name] if key != "priorities"}
    context[name] |= typed | {"error": exc.message, "open": True}
    return render(request, "dispatch/call_detail.html", context, status=exc.status_code)
