"""A result as its owner downloads it: at the strength they saved.

The worker always stores the model's full-strength output, served as it is at full
strength (on S3 by a redirect to a presigned URL). At a strength under full, a worker
renders the blend once into the store (gallery.blends) and downloads serve that file the
same way; until it is there, they answer that it is being prepared (BlendPending). No
download blends or encodes in the web process."""


from django.conf import settings
from django.core import signing
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header

from . import blends
from . import credentials as content_credentials
from .media import LinkExpired, file_response, read_stored, short_lived_url
from .models import Photo, Restoration
from .names import FORMATS, download_name

SIGNED_BLEND_SALT = "gallery.signed-blend"
# How soon a client asks again for a download being prepared: a 12 MP render takes ~5 s.
PREPARING_RETRY_SECONDS = 2


class BlendPending(Exception):
    """The result at the saved strength is being rendered: ask again in a moment."""

    def __init__(self, strength: float) -> None:
        super().__init__(
            f"The download at {strength * 100:.0f} % is being prepared; a large photo takes a few seconds."
        )
        self.retry_after = PREPARING_RETRY_SECONDS


def save_strength(job: Restoration, strength: float) -> None:
    """Save the strength downloads apply, and have its files rendered."""
    job.strength = strength
    Restoration.objects.filter(pk=job.pk).update(strength=strength)
    blends.request(job)


def stored_result(job: Restoration, fmt: str) -> FieldFile | None:
    """The stored file of the result at the saved strength; None while a worker renders it."""
    if blends.is_full(job.strength):
        return getattr(job, FORMATS[fmt].field)
    if blends.is_ready(job):
        return getattr(job, FORMATS[fmt].blend_field)
    return None


def _pending(job: Restoration) -> BlendPending:
    # Asked for again by whoever wants the file now, in case the render's worker died.
    blends.request(job)
    return BlendPending(job.strength)


def result_response(photo: Photo, fmt: str, *, as_download: bool, credentials: bool = True) -> HttpResponse:
    """The result file in this format at the saved strength, with its Content Credentials or
    without; BlendPending while it is rendered."""
    job = photo.restoration
    if not job.result:
        raise Http404("No such file.")
    if (file := stored_result(job, fmt)) is None:
        raise _pending(job)
    name = download_name(photo, fmt) if as_download else None
    return file_response(file, download_name=name) if credentials else _without_credentials(file, fmt, name)


def _without_credentials(file: FieldFile, fmt: str, name: str | None) -> HttpResponse:
    """The stored file less its C2PA manifest. Only the signed file is stored, so this one is
    read and copied by the web process: bytes, no decoding, at most a download's size in
    memory (the ZIP-sized downloads are all stored files)."""
    media_type = FORMATS[fmt].media_type
    response = HttpResponse(content_credentials.strip(read_stored(file), media_type), content_type=media_type)
    if name:
        response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, max-age=300"
    return response


def short_lived_result_url(request: HttpRequest, photo: Photo, fmt: str = "png") -> str | None:
    """A link to the result at the saved strength that works for PRESIGNED_URL_SECONDS
    without credentials: the stored file's own link, or while the strength's file is being
    rendered, a link signed with the site's key that serves it once it is there."""
    job = photo.restoration
    if not job.result:
        return None
    if (file := stored_result(job, fmt)) is not None:
        return short_lived_url(request, file)
    token = signing.dumps([str(photo.pk), fmt, job.strength], salt=SIGNED_BLEND_SALT, compress=True)
    return request.build_absolute_uri(reverse("gallery:signed-blend", args=[token]))


def signed_blend_response(token: str) -> HttpResponse:
    """The result at the strength the link was made for, while it is the saved one."""
    try:
        photo_id, fmt, strength = signing.loads(token, salt=SIGNED_BLEND_SALT, max_age=settings.PRESIGNED_URL_SECONDS)
    except signing.SignatureExpired as exc:
        raise LinkExpired("This link has expired. Ask the API for a fresh one.") from exc
    except signing.BadSignature as exc:
        raise Http404("No such file.") from exc
    job = Restoration.objects.select_related("photo").filter(photo_id=photo_id).first()
    if job is None or not job.result:
        raise Http404("No such file.")
    if job.strength != strength:
        raise LinkExpired("The photo's strength has changed since this link was made. Ask the API for a fresh one.")
    if (file := stored_result(job, fmt)) is None:
        raise _pending(job)
    return file_response(file)
