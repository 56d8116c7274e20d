"""A result as its owner downloads it: at the strength they saved.

The worker always stores the model's full-strength output, served as it is at full
strength (on S3 by a redirect to a presigned URL). At a strength under full, a worker
renders the blend once into the store (gallery.blends) and downloads serve that file the
same way; until it is there, they answer that it is being prepared (BlendPending). No
download blends or encodes in the web process."""

from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core import signing
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from . import blends
from .media import LinkExpired, file_response, short_lived_url
from .models import Photo, Restoration

SIGNED_BLEND_SALT = "gallery.signed-blend"
# How soon a client asks again for a download being prepared: a 12 MP render takes ~5 s.
PREPARING_RETRY_SECONDS = 2


@dataclass(frozen=True)
class Format:
    field: str  # the Restoration field holding the full-strength file
    blend_field: str  # the one holding the file at the saved strength, under full
    suffix: str  # of the download name
    media_type: str


FORMATS = {
    "png": Format("result", "blend_png", "-deblurred.png", "image/png"),
    "jpeg": Format("result_jpeg", "blend_jpeg", "-deblurred.jpg", "image/jpeg"),
    "webp": Format("result_webp", "blend_webp", "-deblurred.webp", "image/webp"),
}


# A try-it photo's original is the blurred copy the site made, and its reference the sharp
# photo the person sent: their download names say which is which.
TRY_IT_SUFFIXES = {"original": "-blurred.png", "reference": ".png"}


def download_name(photo: Photo, fmt: str) -> str:
    return PurePath(photo.original_name).stem + FORMATS[fmt].suffix


def original_download(photo: Photo) -> tuple[FieldFile, str]:
    """The original as its owner downloads it: the file they uploaded, byte for byte, under
    its own name; for a try-it photo, the blurred copy the site made; for photos from before
    the uploaded file was kept, the normalised PNG."""
    if photo.given:
        return photo.given, photo.given_name
    return photo.original, PurePath(photo.original_name).stem + (TRY_IT_SUFFIXES["original"] if photo.synthetic_blur else ".png")


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


def result_response(photo: Photo, fmt: str, *, as_download: bool) -> HttpResponse:
    """The result file in this format at the saved strength; BlendPending while it is rendered."""
    job = photo.restoration
    if not job.result:
        raise Http404("No such file.")
    if (file := stored_result(job, fmt)) is None:
        raise _pending(job)
    return file_response(file, download_name=download_name(photo, fmt) if as_download else None)


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
