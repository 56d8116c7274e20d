"""The API's error answers, and their OpenAPI descriptions, in one place.

Bodies follow DRF: `{"detail": "..."}`, or field errors `{"field": ["..."]}`."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException

from .unavailable import RETRY_AFTER_SECONDS


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class Unprocessable(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed as it is."
    default_code = "unprocessable"


class Unavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is unavailable right now. Please try again."
    default_code = "unavailable"
    wait = RETRY_AFTER_SECONDS  # DRF's exception handler sends it as Retry-After


class _WithRetryAfter(APIException):
    """An answer with its own sentence and Retry-After: DRF's exception handler sends
    `wait` as Retry-After (its Throttled would append a sentence of its own)."""

    def __init__(self, detail: str, wait: int) -> None:
        super().__init__(detail)
        self.wait = wait


class Preparing(_WithRetryAfter):
    """Not a failure: what was asked for is being made. Ask again after Retry-After."""

    status_code = status.HTTP_202_ACCEPTED
    default_code = "preparing"


class TooManyRequests(_WithRetryAfter):
    """A limit's own sentence, with Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "throttled"


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request too large."
    default_code = "request_too_large"


class FieldRejected(APIException):
    """A field's value refused with a status other than 400 (413, 415), still in
    the shape of a validation error."""

    def __init__(self, field: str, message: str, status_code: int, code: str) -> None:
        super().__init__({field: [message]}, code)
        self.status_code = status_code


_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
# Field errors, or a detail where the whole request was refused (a malformed body, one too large).
_FIELDS = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


# The header of a 429 and a 503, for the `parameters` of an operation that can answer them.
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before trying again.",
)


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for the given error statuses."""
    described = {
        400: OpenApiResponse(_FIELDS, "Validation failed: messages per field."),
        401: OpenApiResponse(_DETAIL, "No valid credentials: sign in and send `Authorization: Token <token>`."),
        403: OpenApiResponse(_DETAIL, "Not allowed."),
        404: OpenApiResponse(_DETAIL, "No such object, or it belongs to someone else."),
        409: OpenApiResponse(_DETAIL, "Not possible in the object's current state."),
        413: OpenApiResponse(_FIELDS, "A file or the request is too large."),
        415: OpenApiResponse(_FIELDS, "A file is not an image type the site accepts."),
        422: OpenApiResponse(_DETAIL, "An Idempotency-Key sent again with a different request."),
        429: OpenApiResponse(_DETAIL, "Too many requests: wait for the seconds in the Retry-After header."),
        503: OpenApiResponse(_DETAIL, "The file store is unavailable: the photo was not saved; try again."),
    }
    return {code: described[code] for code in codes}
