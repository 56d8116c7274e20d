"""Sign-in lock-outs (django-axes) and what a locked-out sign-in gets: JSON for the API,
the page for the site, and Retry-After for both.

Axes locks an account from one address after a few failures (AXES_LOCKOUT_PARAMETERS).
One failure limit is all it counts against, so the slower limit on an address over any
accounts is added here, counted in axes's own failure log over a sliding window."""

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessFailureLog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from deblursite.client_ip import client_ip
from deblursite.rate_limits import Rate, in_words


def address_lock_seconds(request: HttpRequest) -> int:
    """Seconds until the client's address may sign in again after too many failures
    over any accounts; 0 when it is not locked."""
    rate = Rate.parse(settings.LOGIN_ADDRESS_FAILURE_RATE)
    now = timezone.now()
    window = timedelta(seconds=rate.window)
    newest = list(
        AccessFailureLog.objects.filter(ip_address=client_ip(request), attempt_time__gt=now - window)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)[: rate.limit]
    )
    if len(newest) < rate.limit:
        return 0
    # Unlocked once the limit-th newest failure has left the window.
    return max(1, math.ceil((newest[-1] + window - now).total_seconds()))


class LockoutHandler(AxesDatabaseHandler):
    """Axes's lock-out by account and address, and the client's address on its own
    after LOGIN_ADDRESS_FAILURE_RATE failures."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or address_lock_seconds(request) > 0

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        # Axes flags a failure as locked out by its own count only; the flag is what
        # answers the sign-in with the lock-out (AXES_LOCKOUT_CALLABLE, the API's 429).
        if request is not None and address_lock_seconds(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials


def cool_off_seconds(request: HttpRequest) -> int:
    if address_wait := address_lock_seconds(request):
        return address_wait
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def lockout_message(request: HttpRequest) -> str:
    if address_wait := address_lock_seconds(request):
        return f"Too many failed sign-ins from your address, whatever the account. Try again in {address_wait} seconds."
    return f"Too many failed sign-ins. Try again in {cool_off_seconds(request)} seconds."


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message(request)}, status=429)
    else:
        address_wait = address_lock_seconds(request)
        context = {
            "failure_limit": get_failure_limit(request, credentials),
            "cooloff_timedelta": get_cool_off(request),
            "address_wait": in_words(address_wait) if address_wait else "",
            "address_rate": Rate.parse(settings.LOGIN_ADDRESS_FAILURE_RATE),
        }
        response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(cool_off_seconds(request))
    return response
