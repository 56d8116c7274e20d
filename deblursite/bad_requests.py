"""Requests Django refuses before a view sees them (too many files or fields, a form too
large, a part whose headers are too long: a file name of some thousand characters), answered
with the reason: JSON for the API and the upload page's script, the site's page otherwise."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template import loader
from django.template.defaultfilters import filesizeformat
from rest_framework import parsers
from rest_framework.exceptions import ParseError

FILE_NAME_TOO_LONG = "That file name is too long. Rename the file to something shorter and upload it again."


def reason(exception: Exception | None) -> str:
    if isinstance(exception, TooManyFilesSent):
        return (
            f"At most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files in one upload: "
            f"{settings.UPLOAD_MAX_FILES} photos, each with its sharp reference."
        )
    if isinstance(exception, TooManyFieldsSent):
        return "The form has too many fields."
    if isinstance(exception, RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE).replace("\xa0", " ")
        return f"The request is too large: at most {limit} besides its files."
    # Django caps the headers of each part of a form at 1 KiB; the file name is the only
    # part of them a person chooses.
    if isinstance(exception, MultiPartParserError) and "header size" in str(exception):
        return FILE_NAME_TOO_LONG
    return (
        "The server could not read that request: it was malformed, too large, "
        "or sent to an address this site does not answer to."
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400."""
    said = reason(exception)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": said}, status=400)
    if "application/json" in request.headers.get("Accept", ""):
        # The upload page's script: its answer names the file a refusal is about.
        return JsonResponse({"field": "image" if said == FILE_NAME_TOO_LONG else None, "error": said}, status=400)
    # Rendered without the request, as Django renders it: a bad Host must not reach the page.
    return HttpResponseBadRequest(loader.render_to_string("400.html", {"reason": said}))


class MultiPartParser(parsers.MultiPartParser):
    """DRF's, with the reason of a refused body in words rather than Django's message."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as exc:
            if isinstance(exc.__context__, MultiPartParserError):
                raise ParseError(reason(exc.__context__)) from exc.__context__
            raise
