"""A result at a strength under full, rendered once by a worker into the media store.

The worker that deblurs stores the model's full-strength output. A saved strength under
full is a blend of the original and that output (blend). Blending and encoding a 12 MP
photo costs seconds and some 330 MiB, so it is done here, in the `downloads` queue's
worker, when the strength is saved or the job finishes; downloads and links serve the
stored files (gallery.downloads), and wait with a "being prepared" answer meanwhile.

One render runs per photo at a time (a claim on its row): two renders of different
strengths would write the same files in turn. The claimer renders again for as long as
the saved strength moved on while it worked, so the last strength saved is always the one
rendered."""

import logging
from datetime import timedelta

import numpy as np
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image

from .credentials import downloads_of, edit_of, original_of
from .media import read_stored_image
from .names import FORMATS
from .models import Restoration

log = logging.getLogger(__name__)

# Rows blended at a time: float memory stays a few MB whatever the photo's size.
BAND_ROWS = 256
# A claim older than this is a render whose worker died: another may take over.
CLAIM_SECONDS = 120


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


def blended(job: Restoration, strength: float) -> Image.Image:
    """The result at this strength, from the two lossless PNGs, in sRGB (the result's is
    written in the photo's colour space: read_stored_image brings it back)."""
    return blend(read_stored_image(job.photo.original), read_stored_image(job.result), strength)


def is_ready(job: Restoration) -> bool:
    """The stored blends hold the saved strength."""
    return job.blend_strength == job.strength and bool(job.blend_png)


def request(job: Restoration) -> None:
    """Have a worker render the saved strength, once the transaction commits; nothing to do
    at full strength, before there is a result, or when the blends hold it already."""
    if is_full(job.strength) or not job.result or is_ready(job):
        return
    from .tasks import render_blends

    transaction.on_commit(lambda: render_blends.delay(job.pk), robust=True)


def _claim(restoration_id: int) -> bool:
    now = timezone.now()
    free = Q(blend_claimed_at__isnull=True) | Q(blend_claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS))
    return bool(Restoration.objects.filter(free, pk=restoration_id).update(blend_claimed_at=now))


def _to_render(restoration_id: int) -> Restoration | None:
    job = Restoration.objects.select_related("photo").filter(pk=restoration_id).first()
    if job is None or is_full(job.strength) or not job.result or is_ready(job):
        return None
    return job


def _render_saved(job: Restoration) -> None:
    image, names = blended(job, job.strength), job.file_names()
    for fmt, content in downloads_of(job.photo, image, edit_of(job, job.strength), original_of(job.photo)).items():
        field = FORMATS[fmt].blend_field
        getattr(job, field).save(names[field], ContentFile(content), save=False)
    # Recorded only while the strength rendered is still the saved one; otherwise the next
    # round renders again.
    recorded = Restoration.objects.filter(pk=job.pk, strength=job.strength).update(
        blend_strength=job.strength, **{kind.blend_field: names[kind.blend_field] for kind in FORMATS.values()}
    )
    if recorded:
        log.info("rendered photo %s at strength %.2f", job.photo_id, job.strength)


def render(restoration_id: int) -> None:
    """Render the photo's saved strength into the media store and record it. A worker that
    finds the claim taken leaves it to its holder, who looks again after letting go: a
    strength saved meanwhile, whose own render was turned away, is rendered then."""
    while _to_render(restoration_id) is not None and _claim(restoration_id):
        try:
            if (job := _to_render(restoration_id)) is not None:
                _render_saved(job)
        finally:
            Restoration.objects.filter(pk=restoration_id).update(blend_claimed_at=None)
