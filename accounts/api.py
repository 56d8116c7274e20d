"""Account endpoints of the API: register, per-device tokens, the signed-in user."""

import logging
from uuid import UUID

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from deblursite.api_errors import RETRY_AFTER, errors

from .deletion import charge_confirmation, delete_account
from .lockout import cool_off_seconds, lockout_message
from .models import DeviceToken
from .serializers import (
    DeleteAccountSerializer,
    DeviceSerializer,
    IssuedTokenSerializer,
    MeSerializer,
    RegisterSerializer,
    SignInSerializer,
    UserSerializer,
)
from .tokens import TooManyDevices, devices_of, issue_token, revoke_token
from .usage import usage_of

log = logging.getLogger(__name__)


class AuthRateThrottle(AnonRateThrottle):
    """Sign-in and sign-up attempts, counted per client IP whoever is signed in."""

    scope = "auth"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request: Request, view: APIView) -> bool:
        """As the site's other limits (deblursite.rate_limits): a cache out of reach lets the
        request through, logged, rather than answering 500. Password guesses stay limited by
        the lock-out, which counts in the database."""
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache backend's own error type (redis, files) varies
            log.exception("the API's sign-in rate limit is unavailable; letting the request through")
            return True


class RegisterView(generics.CreateAPIView):
    """Create an account. The site's password rules apply."""

    serializer_class = RegisterSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [AuthRateThrottle]

    # The answer is the new user (RegisterSerializer.to_representation), not the form.
    @extend_schema(responses={201: UserSerializer, **errors(400, 429)}, parameters=[RETRY_AFTER])
    def post(self, request: Request) -> Response:
        return super().post(request)


class TokenView(APIView):
    """Sign in a device (POST) or sign out the device making the request (DELETE)."""

    def initialize_request(self, request, *args, **kwargs) -> Request:
        drf_request = super().initialize_request(request, *args, **kwargs)
        # Signing in needs no credentials but the password: a stale token or a
        # session cookie the client also sends must not get in the way.
        if request.method == "POST":
            drf_request.authenticators = ()
        return drf_request

    def get_permissions(self) -> list:
        return [permissions.AllowAny()] if self.request.method == "POST" else [permissions.IsAuthenticated()]

    def get_throttles(self) -> list:
        return [AuthRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        summary="Sign in a device",
        description="A new token for this device. Wrong credentials are 400; repeated failures lock the "
        "account from the client's address for a while (429 with Retry-After).",
        request=SignInSerializer,
        responses={201: IssuedTokenSerializer, **errors(400, 403, 429)},
        parameters=[RETRY_AFTER],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        sign_in = SignInSerializer(data=request.data)
        sign_in.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(
            django_request, username=sign_in.validated_data["username"], password=sign_in.validated_data["password"]
        )
        if getattr(django_request, "axes_locked_out", False):
            raise Throttled(wait=cool_off_seconds(django_request), detail=lockout_message(django_request))
        if user is None:
            raise serializers.ValidationError({"non_field_errors": ["Unable to sign in with these credentials."]})
        try:
            device, token = issue_token(user, sign_in.validated_data["device_name"])
        except TooManyDevices as exc:
            raise PermissionDenied(str(exc)) from exc
        request.auth = device
        issued = IssuedTokenSerializer(
            {"token": token, "expiry": device.expiry, "device": device, "user": user}, context={"request": request}
        )
        return Response(issued.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Sign out this device",
        description="Revokes the token the request is made with.",
        request=None,
        responses={204: OpenApiResponse(description="Signed out."), **errors(401, 403)},
    )
    def delete(self, request: Request) -> Response:
        if not revoke_token(request.user, getattr(request.auth, "public_id", None)):
            raise PermissionDenied("This request was not made with an API token; there is no token to revoke.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceListView(generics.ListAPIView):
    """The devices signed in to this account, newest first."""

    serializer_class = DeviceSerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is made without a user
            return DeviceToken.objects.none()
        return devices_of(self.request.user)

    @extend_schema(responses={200: DeviceSerializer(many=True), **errors(401)})
    def get(self, request: Request) -> Response:
        return super().get(request)


class DeviceView(APIView):
    """Sign out one device."""

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Revoked."), **errors(401, 404)})
    def delete(self, request: Request, pk: UUID) -> Response:
        if not revoke_token(request.user, pk):
            return Response({"detail": "No such device."}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in user, their storage use and quota; and deleting the account."""

    @extend_schema(responses={200: MeSerializer, **errors(401)})
    def get(self, request: Request) -> Response:
        usage = usage_of(request.user)
        me = {**vars(usage), "user": request.user, "percent_used": usage.percent_used}
        return Response(MeSerializer(me).data)

    @extend_schema(
        summary="Delete this account",
        description=(
            "Deletes the account with every photo, result and ZIP, their files in storage, and every "
            "device's token, at once. The password confirms it. 202 when the file store failed part-way: "
            "the account is gone, and its remaining files are removed shortly."
        ),
        request=DeleteAccountSerializer,
        responses={204: OpenApiResponse(description="Deleted."), 202: OpenApiResponse(description="Deleted; files still being removed."), **errors(400, 401, 429)},
    )
    def delete(self, request: Request) -> Response:
        if refused := charge_confirmation(request.user):
            raise Throttled(wait=refused.wait, detail="Too many tries at deleting this account.")
        DeleteAccountSerializer(data=request.data, context={"request": request}).is_valid(raise_exception=True)
        if delete_account(request.user):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response({"detail": "The account was deleted. The file store failed part-way; its remaining files will be removed shortly."}, status=status.HTTP_202_ACCEPTED)
