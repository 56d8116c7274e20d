"""Serving stored files to their owner. Nothing in the stores is public: the
filesystem is streamed by an owner-checked view, S3 objects through a
short-lived presigned URL that the same view redirects to."""

import logging

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect

from deblursite.storage import is_s3

log = logging.getLogger(__name__)


def file_response(file: FieldFile, *, download_name: str | None = None) -> HttpResponse:
    if not file:
        raise Http404("No such file.")
    storage = file.storage
    if is_s3(storage):
        parameters = {"ResponseContentDisposition": f'attachment; filename="{download_name}"'} if download_name else None
        response = HttpResponseRedirect(storage.url(file.name, parameters=parameters))
    else:
        try:
            handle = storage.open(file.name, "rb")
        except FileNotFoundError as exc:
            raise Http404("No such file.") from exc
        response = FileResponse(handle, as_attachment=bool(download_name), filename=download_name or "")
    response["Cache-Control"] = "private, max-age=300"
    return response
