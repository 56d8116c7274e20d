"""The names and media types of the files people download."""

from dataclasses import dataclass
from pathlib import PurePath

from django.db.models.fields.files import FieldFile

from .models import Photo


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
