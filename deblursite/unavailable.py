"""Requests that fail because the database or the file store is out of reach, answered 503
with a sentence and Retry-After: JSON for the API (DRF's shape) and the upload page's script,
the site's page otherwise. Any other exception stays a server error (500)."""

import logging
from collections.abc import Callable

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as StoreConnectionError
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

log = logging.getLogger(__name__)

DATABASE_DOWN = "The database is unavailable right now. Please try again in a minute."
STORE_DOWN = "The file store is unavailable right now. Please try again in a minute."
# About what a restarted database or store takes to answer again.
RETRY_AFTER_SECONDS = 30


class StoreUnavailable(RuntimeError):
    """The filesystem store failed to read a file (an I/O error, a lost mount). A missing
    file is FileNotFoundError instead; S3's failures are botocore's own exceptions."""


def reason(exception: BaseException) -> str | None:
    """The sentence for an exception that means a service is down, or None for any other."""
    # What a lost or refused connection raises (Django's wrappers of the driver's errors).
    if isinstance(exception, (OperationalError, InterfaceError)):
        return DATABASE_DOWN
    # S3 not answering, or answering that it failed; a 4xx is the site's own mistake.
    if isinstance(exception, (StoreUnavailable, StoreConnectionError, HTTPClientError)):
        return STORE_DOWN
    if isinstance(exception, ClientError) and exception.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
        return STORE_DOWN
    return None


def unavailable(request: HttpRequest, said: str) -> HttpResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": said}, status=503, headers=headers)
    if "application/json" in request.headers.get("Accept", ""):
        # The upload page's script shows `error` on the photo's card.
        return JsonResponse({"field": None, "error": said}, status=503, headers=headers)
    # Rendered without the request: no context processors, so no user or session to look up.
    return HttpResponse(loader.render_to_string("503.html", {"reason": said}), status=503, headers=headers)


class UnavailableMiddleware:
    """Answers 503 for an exception of a view (API views' included: DRF re-raises what it
    does not handle) that means the database or the file store is down."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        said = reason(exception)
        if said is None:
            return None
        # Handled, so Django logs only the status: the cause is for the operators.
        log.error("%s %s: %s", request.method, request.path, said, exc_info=exception)
        return unavailable(request, said)
