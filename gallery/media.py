"""Serving stored files to their owner. Nothing in the stores is public: the
filesystem is streamed by an owner-checked view, S3 objects through a
short-lived presigned URL that the same view redirects to.

API clients get short-lived links instead, which work without credentials (an
image view in an app): S3 presigned URLs, or on the filesystem a link signed
with the site's key that expires as fast."""

import hashlib
import io
import logging

from django.conf import settings
from django.core import signing
from django.core.cache import caches
from django.core.files.storage import Storage, default_storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from PIL import Image

from deblursite.storage import is_s3
from inference.images import to_srgb
from deblursite.unavailable import StoreUnavailable

log = logging.getLogger(__name__)

SIGNED_LINK_SALT = "gallery.signed-file"


def _presigned_url(storage: Storage, name: str, download_name: str | None, expire: int | None = None) -> str:
    # S3 answers with this header as it is given: built like Django's own (RFC 6266, with an
    # RFC 5987 filename* for names beyond ASCII), quotes and semicolons of a name stay in it.
    disposition = content_disposition_header(True, download_name) if download_name else None
    parameters = {"ResponseContentDisposition": disposition} if disposition else None
    return storage.url(name, parameters=parameters, expire=expire)


def _reused_presigned_url(storage: Storage, name: str, download_name: str | None) -> str:
    """A presigned URL of the object that stays valid at least PRESIGNED_URL_SECONDS: one made
    in the last tenth of that time and signed for that much longer. Signing takes boto3 about
    170 µs, most of a page of the API's list (20 photos, 100 links or more); and a client that
    polls gets the same URLs, which its HTTP cache can keep. The key is the store, the object
    (whose name holds its photo's id) and the download name: a link is handed out only for a
    file that the photo's own row names, to its owner."""
    reuse = settings.PRESIGNED_URL_SECONDS // 10
    link = (storage.endpoint_url, storage.bucket_name, name, download_name)
    key = "link:" + hashlib.sha256(repr(link).encode()).hexdigest()
    url = caches["local"].get(key)
    if url is None:
        url = _presigned_url(storage, name, download_name, expire=settings.PRESIGNED_URL_SECONDS + reuse)
        if reuse:
            caches["local"].set(key, url, reuse)
    return url


def _serve(storage: Storage, name: str, download_name: str | None) -> HttpResponse:
    if is_s3(storage):
        response = HttpResponseRedirect(_presigned_url(storage, name, download_name))
    else:
        try:
            handle = storage.open(name, "rb")
        except FileNotFoundError as exc:
            raise Http404("No such file.") from exc
        except OSError as exc:  # the file is there, or may be, but the disk or mount failed
            raise StoreUnavailable(f"Could not open {name}.") from exc
        response = FileResponse(handle, as_attachment=bool(download_name), filename=download_name or "")
    response["Cache-Control"] = "private, max-age=300"
    return response


def file_response(file: FieldFile, *, download_name: str | None = None) -> HttpResponse:
    if not file:
        raise Http404("No such file.")
    return _serve(file.storage, file.name, download_name)


def read_stored(file: FieldFile) -> bytes:
    """The file's bytes. A missing file raises FileNotFoundError, a filesystem store that
    fails to read it StoreUnavailable (S3's failures are botocore's own exceptions)."""
    try:
        with file.open("rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StoreUnavailable(f"Could not read {file.name}.") from exc


def read_stored_image(file: FieldFile) -> Image.Image:
    """A stored image of the site's own making (an original, a result), decoded, in sRGB: a
    result is written in its photo's colour space. Read, then decoded: a store that fails is
    told from a file that does not decode."""
    image = Image.open(io.BytesIO(read_stored(file)))
    image.load()
    return to_srgb(image)


def short_lived_url(request: HttpRequest, file: FieldFile, *, download_name: str | None = None) -> str | None:
    """A link to the file that works for PRESIGNED_URL_SECONDS without credentials (on S3, up
    to a tenth longer: _reused_presigned_url)."""
    if not file:
        return None
    if is_s3(file.storage):
        return _reused_presigned_url(file.storage, file.name, download_name)
    token = signing.dumps([file.name, download_name], salt=SIGNED_LINK_SALT, compress=True)
    return request.build_absolute_uri(reverse("gallery:signed-file", args=[token]))


class LinkExpired(Exception):
    pass


def signed_file_response(token: str) -> HttpResponse:
    """Serve the file a signed link names; a link is only ever made for a file of
    the default storage, by short_lived_url."""
    try:
        name, download_name = signing.loads(token, salt=SIGNED_LINK_SALT, max_age=settings.PRESIGNED_URL_SECONDS)
    except signing.SignatureExpired as exc:
        raise LinkExpired("This link has expired. Ask the API for a fresh one.") from exc
    except signing.BadSignature as exc:
        raise Http404("No such file.") from exc
    return _serve(default_storage, name, download_name)
