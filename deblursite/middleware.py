from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat

from .api_errors import RequestTooLarge


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def request_limit(request: HttpRequest) -> int:
    """The most a request's body may hold: the web's upload form takes many photos at once,
    an API upload one photo and its reference."""
    if _is_api(request):
        return min(settings.API_REQUEST_MAX_BYTES, settings.REQUEST_MAX_BYTES)
    return settings.REQUEST_MAX_BYTES


def too_large_message(limit: int) -> str:
    return f"Request too large: at most {filesizeformat(limit).replace(chr(0xA0), ' ')} per request."


class BodyLimitUploadHandler(FileUploadHandler):
    """Counts the bytes of the files a multipart body brings and stops at the limit: the
    check of Content-Length trusts the header, and a server that does not cut the stream
    at it (or a body without one) is caught here, before more is spooled."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit, self.received = limit, 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise RequestTooLarge(too_large_message(self.limit))
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is larger than the most an upload can
    need, before Django spools it to disk. The proxy in front should cap it too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = request_limit(request)
        if length > limit:
            message = too_large_message(limit)
            if _is_api(request):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain")
        if _is_api(request):
            request.upload_handlers.insert(0, BodyLimitUploadHandler(request, limit))
        return self.get_response(request)
