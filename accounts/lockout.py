"""What a locked-out sign-in gets (django-axes): JSON for the API, the page for the
site, and Retry-After for both."""

from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def cool_off_seconds(request: HttpRequest) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def lockout_message(request: HttpRequest) -> str:
    return f"Too many failed sign-ins. Try again in {cool_off_seconds(request)} seconds."


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message(request)}, status=429)
    else:
        context = {"failure_limit": get_failure_limit(request, credentials), "cooloff_timedelta": get_cool_off(request)}
        response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(cool_off_seconds(request))
    return response
