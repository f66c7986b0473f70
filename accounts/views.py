"""The sign-in page and the API token endpoint, both behind the lockout gate."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.forms import ThrottledAuthenticationForm
from accounts.tokens import token_issue
from common import clock
from dispatch.api.common import ErrorSerializer
from dispatch.api.parsers import BoundedJSONParser


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        lock = getattr(self.request, "login_lock", None)
        if lock is not None:
            response.status_code = 429
            response["Retry-After"] = str(lock.retry_after(clock.now()))
        return response


class SignInLocked(exceptions.Throttled):
    default_detail = "Too many failed sign-ins."


class TokenView(ObtainAuthToken):
    # Credentials come in the body. Session authentication stays so a signed-in browser's post
    # is still CSRF-checked; token authentication goes, so a stray Authorization header cannot
    # turn a sign-in into a 403 (found by fuzzing).
    authentication_classes = [SessionAuthentication]
    # DRF's view names its own parsers; the API's JSON parser bounds nesting (issue 19).
    parser_classes = (FormParser, MultiPartParser, BoundedJSONParser)

    @extend_schema(
        request=ObtainAuthToken.serializer_class,
        auth=[],  # the credentials are in the body; no session or token is needed
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            400: OpenApiResponse(ErrorSerializer, description="Wrong username or password."),
            429: OpenApiResponse(
                ErrorSerializer, description="Sign-in locked after too many failures."
            ),
        },
        summary="Exchange a username and password for an API token",
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except exceptions.ValidationError:
            lock = getattr(request, "login_lock", None)
            if lock is None:
                raise
            raise SignInLocked(wait=lock.retry_after(clock.now()), detail=lock.message) from None
        # Not DRF's get_or_create: an expired token is replaced, never handed back.
        token = token_issue(user=serializer.validated_data["user"], now=clock.now())
        return Response({"token": token.key})
