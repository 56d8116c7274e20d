"""Sample photos that anyone may look at without an account: sharp photos shipped in the
repository (gallery/sample_photos, with their licences), blurred once by the site as "Try
it" blurs, then deblurred once by the site's own models through the ordinary job queue. They
are photos of a user of their own (SAMPLES_USERNAME), who cannot sign in."""

from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from PIL import Image

from inference.models import Choice

from .cleanup import delete_photos
from .models import Photo, Restoration
from .try_it import blurred
from .uploads import keep_photo

FOLDER = Path(__file__).resolve().parent / "sample_photos"
SAMPLES_USERNAME = "deblur-samples"


@dataclass(frozen=True)
class Sample:
    slug: str
    title: str
    kind: str  # a try_it.KINDS key
    strength: float
    credit: str  # whose photo, and its licence

    @property
    def file_name(self) -> str:
        return f"{self.slug}.jpg"


SAMPLES = [
    Sample("rocket", "A moving camera", "motion", 0.6, "SpaceX, released into the public domain"),
    Sample("chelsea", "Camera shake", "shake", 0.5, "Stefan van der Walt, CC0"),
    Sample("coffee", "Out of focus", "defocus", 0.7, "Rachel Michetti, CC0"),
]
BY_SLUG = {sample.slug: sample for sample in SAMPLES}


def owner() -> AbstractBaseUser:
    user, made = get_user_model().objects.get_or_create(username=SAMPLES_USERNAME, defaults={"is_active": False})
    if made:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def photos() -> dict[str, Photo]:
    """The samples that have a photo, by slug."""
    found = Photo.objects.filter(owner__username=SAMPLES_USERNAME, original_name__in=[s.file_name for s in SAMPLES])
    by_name = {photo.original_name: photo for photo in found.select_related("restoration")}
    return {sample.slug: by_name[sample.file_name] for sample in SAMPLES if sample.file_name in by_name}


def ensure() -> list[Photo]:
    """Make the photo of every sample that has none, or whose job failed or was cancelled;
    the workers deblur them. The photos made."""
    made, user, existing = [], owner(), photos()
    for sample in SAMPLES:
        photo = existing.get(sample.slug)
        if photo is not None and photo.restoration.status not in (Restoration.Status.FAILED, Restoration.Status.CANCELLED):
            continue
        if photo is not None:
            delete_photos([photo])
        with transaction.atomic():
            made.append(_make(user, sample))
    return made


def _make(user: AbstractBaseUser, sample: Sample) -> Photo:
    with Image.open(FOLDER / sample.file_name) as opened:
        sharp = opened.convert("RGB")
    return keep_photo(
        user,
        blurred(sharp, sample.kind, sample.strength),
        original_name=sample.file_name,
        reference=sharp,
        notes=[],
        choice=Choice.AUTO,
        synthetic_blur={"kind": sample.kind, "strength": sample.strength},
    )
