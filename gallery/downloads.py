"""A result as its owner downloads it: at the strength they saved.

The worker always stores the model's full-strength output. A download at a lower
strength blends the original and that output here, in the web process, with the
per-pixel linear blend the engine used to do (and the photo page does live in the
browser, as the output laid over the original at that opacity); at full strength the
stored file is served as it is, on S3 by a redirect to a presigned URL."""

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np
from django.conf import settings
from django.core import signing
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from PIL import Image

from inference.images import encode_jpeg, encode_png, encode_webp

from .media import LinkExpired, file_response, read_stored, short_lived_url
from .models import Photo, Restoration

SIGNED_BLEND_SALT = "gallery.signed-blend"
# Rows blended at a time: float memory stays a few MB whatever the photo's size.
BAND_ROWS = 256


@dataclass(frozen=True)
class Format:
    field: str  # the Restoration field holding the full-strength file
    suffix: str  # of the download name
    media_type: str
    encode: Callable[[Image.Image], bytes]


FORMATS = {
    "png": Format("result", "-deblurred.png", "image/png", encode_png),
    "jpeg": Format("result_jpeg", "-deblurred.jpg", "image/jpeg", encode_jpeg),
    "webp": Format("result_webp", "-deblurred.webp", "image/webp", encode_webp),
}


def download_name(photo: Photo, fmt: str) -> str:
    return PurePath(photo.original_name).stem + FORMATS[fmt].suffix


def is_full(strength: float) -> bool:
    return strength >= 1.0


def blend(original: Image.Image, output: Image.Image, strength: float) -> Image.Image:
    """original + strength × (output − original), rounded, on every band of the two
    images (of the same size and mode: the worker stores the output in the original's).
    The alpha band, the same in both, stays as it is."""
    if original.size != output.size or original.mode != output.mode:
        raise ValueError(f"Cannot blend {original.mode} {original.size} with {output.mode} {output.size}.")
    before, after = np.asarray(original), np.asarray(output)
    blended = np.empty_like(before)
    for top in range(0, before.shape[0], BAND_ROWS):
        rows = slice(top, top + BAND_ROWS)
        source = before[rows].astype(np.float32)
        blended[rows] = np.clip(np.rint(source + strength * (after[rows] - source)), 0, 255)
    return Image.fromarray(blended, original.mode)


def save_strength(job: Restoration, strength: float) -> None:
    job.strength = strength
    Restoration.objects.filter(pk=job.pk).update(strength=strength)


def _stored_image(file: FieldFile) -> Image.Image:
    # Read, then decoded: a store that fails is told from a file that does not decode.
    image = Image.open(io.BytesIO(read_stored(file)))
    image.load()
    return image


def blended_bytes(job: Restoration, fmt: str, strength: float) -> bytes:
    """The result in this format at this strength, encoded as the worker encodes it."""
    # Both from lossless PNGs: a JPEG or WebP is encoded once, from the exact blend.
    image = blend(_stored_image(job.photo.original), _stored_image(job.result), strength)
    return FORMATS[fmt].encode(image)


def _blend_response(job: Restoration, fmt: str, strength: float, name: str | None) -> HttpResponse:
    response = HttpResponse(blended_bytes(job, fmt, strength), content_type=FORMATS[fmt].media_type)
    if name:
        response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, no-cache"
    return response


def result_response(photo: Photo, fmt: str, *, as_download: bool) -> HttpResponse:
    """The result file in this format at the saved strength."""
    job = photo.restoration
    if not job.result:
        raise Http404("No such file.")
    name = download_name(photo, fmt) if as_download else None
    if is_full(job.strength):
        return file_response(getattr(job, FORMATS[fmt].field), download_name=name)
    return _blend_response(job, fmt, job.strength, name)


def short_lived_result_url(request: HttpRequest, photo: Photo, fmt: str = "png") -> str | None:
    """A link to the result at the saved strength that works for PRESIGNED_URL_SECONDS
    without credentials: the stored file's own link at full strength, otherwise a link
    signed with the site's key to the blend at the strength saved now."""
    job = photo.restoration
    if not job.result:
        return None
    if is_full(job.strength):
        return short_lived_url(request, getattr(job, FORMATS[fmt].field))
    token = signing.dumps([str(photo.pk), fmt, job.strength], salt=SIGNED_BLEND_SALT, compress=True)
    return request.build_absolute_uri(reverse("gallery:signed-blend", args=[token]))


def signed_blend_response(token: str) -> HttpResponse:
    try:
        photo_id, fmt, strength = signing.loads(token, salt=SIGNED_BLEND_SALT, max_age=settings.PRESIGNED_URL_SECONDS)
    except signing.SignatureExpired as exc:
        raise LinkExpired("This link has expired. Ask the API for a fresh one.") from exc
    except signing.BadSignature as exc:
        raise Http404("No such file.") from exc
    job = Restoration.objects.select_related("photo").filter(photo_id=photo_id).first()
    if job is None or not job.result:
        raise Http404("No such file.")
    return _blend_response(job, fmt, strength, None)
