"""The ingestion pipeline: extract -> check -> transform -> load.

Each step is a plain function. A source yields Candidates (raw bytes plus where
they came from and under which licence); `ingest` runs one through the steps and
always leaves exactly one manifest row for it, kept or rejected with the reason.
Running it again for the same source item does nothing."""

import hashlib
import io
from dataclasses import dataclass, field

import imagehash
from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image

from inference.images import ImageRejected, decode_image_bounded, encode_png, make_thumbnail

from training.models import Dataset, DatasetImage

Reason = DatasetImage.Reason
# decode_image's codes -> the manifest's reasons
_DECODE_REASONS = {
    "empty": Reason.CORRUPT,
    "corrupt": Reason.CORRUPT,
    "unsupported_type": Reason.UNSUPPORTED,
    "too_large": Reason.TOO_LARGE,
    "too_many_pixels": Reason.TOO_LARGE,
}
THUMBNAIL_SIZE = 320


@dataclass
class Candidate:
    """One item a source found: a photo, or for paired sets a sharp photo and its blurred partner."""

    source: str
    source_id: str
    raw: bytes | None
    licence: str = ""
    trainable: bool = False
    attribution: dict = field(default_factory=dict)
    raw_blur: bytes | None = None
    # Set by a source that could not get the bytes: the item is recorded as rejected.
    failure: tuple[str, str] | None = None


class Rejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass
class Checked:
    image: Image.Image
    checksum: str
    blur: Image.Image | None = None


def checksum(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def decode(raw: bytes) -> Image.Image:
    """Fully decoded, upright, sRGB, 8-bit RGB; or Rejected with the decoder's reason."""
    try:
        decoded = decode_image_bounded(
            raw,
            cpu_seconds=settings.DECODE_CPU_SECONDS,
            max_bytes=settings.DATASET_MAX_BYTES,
            max_pixels=settings.DATASET_MAX_PIXELS,
        )
    except ImageRejected as exc:
        raise Rejected(_DECODE_REASONS.get(exc.code, Reason.CORRUPT), exc.message) from exc
    return decoded.image.convert("RGB")


def check(dataset: Dataset, candidate: Candidate) -> Checked:
    """Decode fully, check the size, the pairing and for an exact duplicate."""
    if candidate.failure:
        raise Rejected(*candidate.failure)
    image = decode(candidate.raw)
    minimum = settings.DATASET_MIN_SIDE
    if min(image.size) < minimum:
        raise Rejected(Reason.TOO_SMALL, f"{image.width}×{image.height} is under the {minimum} px minimum side.")
    blur = None
    if candidate.raw_blur is not None:
        blur = decode(candidate.raw_blur)
        if blur.size != image.size:
            raise Rejected(
                Reason.SIZE_MISMATCH, f"Blurred {blur.width}×{blur.height} but sharp {image.width}×{image.height}."
            )
    digest = checksum(candidate.raw + (candidate.raw_blur or b""))
    twin = dataset.images.filter(status=DatasetImage.Status.KEPT, checksum=digest).first()
    if twin is not None:
        raise Rejected(Reason.DUPLICATE, f"Same file as {twin.source_id}.")
    return Checked(image=image, checksum=digest, blur=blur)


def transform(image: Image.Image) -> Image.Image:
    """Cap the long side (photos are resampled smaller, never larger)."""
    cap = settings.DATASET_MAX_SIDE
    scale = cap / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def perceptual_hash(image: Image.Image) -> imagehash.ImageHash:
    return imagehash.phash(image)


def near_duplicate_of(dataset: Dataset, phash: imagehash.ImageHash) -> DatasetImage | None:
    """A kept photo that looks the same (resized, re-encoded, lightly edited)."""
    limit = settings.DATASET_NEAR_DUPLICATE_DISTANCE
    for row in dataset.images.filter(status=DatasetImage.Status.KEPT).exclude(phash="").only("phash", "source_id"):
        if phash - imagehash.hex_to_hash(row.phash) <= limit:
            return row
    return None


def _extension(raw: bytes) -> str:
    with Image.open(io.BytesIO(raw)) as image:
        return {"JPEG": "jpg", "MPO": "jpg", "TIFF": "tif", "HEIF": "heic"}.get(image.format, image.format.lower())


def benchmark_match(
    dataset: Dataset, candidate: Candidate, phash: imagehash.ImageHash, blur_phash: imagehash.ImageHash | None
) -> str:
    """The benchmark image that the candidate's image, or its blurred partner, is or looks
    like; "" if none. A benchmark's own images are not matched against each other: the frames
    of one video look alike."""
    # Imported here: benchmark_guard hashes benchmark files with this module's helpers.
    from training.ingestion import benchmark_guard

    benchmarks = benchmark_guard.fingerprints(excluding=dataset)
    images = [(candidate.raw, phash)] + ([(candidate.raw_blur, blur_phash)] if blur_phash is not None else [])
    for raw, image_hash in images:
        label = benchmark_guard.match(benchmarks, checksum(raw), image_hash)
        if label is not None:
            return label
    return ""


def load(
    dataset: Dataset, candidate: Candidate, checked: Checked, phash: str, blur_phash: str, benchmark_match: str
) -> DatasetImage:
    """Store the raw and processed copies and write the kept manifest row. A benchmark image
    is kept, to be seen, but never trainable."""
    stem = f"{dataset.name}/{checked.checksum}"
    processed = transform(checked.image)
    row = DatasetImage(
        dataset=dataset,
        source=candidate.source,
        source_id=candidate.source_id,
        status=DatasetImage.Status.KEPT,
        checksum=checked.checksum,
        phash=phash,
        blur_phash=blur_phash,
        width=processed.width,
        height=processed.height,
        bytes=len(candidate.raw) + len(candidate.raw_blur or b""),
        licence=candidate.licence,
        trainable=candidate.trainable and not benchmark_match,
        benchmark_match=benchmark_match,
        attribution=candidate.attribution,
    )
    row.raw.save(f"raw/{stem}.{_extension(candidate.raw)}", ContentFile(candidate.raw), save=False)
    row.processed.save(f"processed/{stem}.png", ContentFile(encode_png(processed)), save=False)
    row.thumbnail.save(f"thumbnails/{stem}.jpg", ContentFile(make_thumbnail(processed, THUMBNAIL_SIZE)), save=False)
    if checked.blur is not None:
        row.raw_blur.save(f"raw/{stem}-blur.{_extension(candidate.raw_blur)}", ContentFile(candidate.raw_blur), save=False)
        blur = transform(checked.blur)
        row.processed_blur.save(f"processed/{stem}-blur.png", ContentFile(encode_png(blur)), save=False)
    row.save()
    return row


def _reject(dataset: Dataset, candidate: Candidate, reason: str, detail: str) -> DatasetImage:
    return DatasetImage.objects.create(
        dataset=dataset,
        source=candidate.source,
        source_id=candidate.source_id,
        status=DatasetImage.Status.REJECTED,
        rejection_reason=reason,
        rejection_detail=detail,
        bytes=len(candidate.raw or b""),
        licence=candidate.licence,
        attribution=candidate.attribution,
    )


def already_seen(dataset: Dataset, source: str, source_id: str) -> DatasetImage | None:
    return DatasetImage.objects.filter(dataset=dataset, source=source, source_id=source_id).first()


def ingest(dataset: Dataset, candidate: Candidate) -> tuple[DatasetImage, bool]:
    """Run one candidate through the pipeline. Returns its manifest row and whether
    this call made it (False: it was done before)."""
    done = already_seen(dataset, candidate.source, candidate.source_id)
    if done is not None:
        return done, False
    try:
        checked = check(dataset, candidate)
        phash = perceptual_hash(checked.image)
        blur_phash = perceptual_hash(checked.blur) if checked.blur is not None else None
        # Video frames of a paired set look alike by nature; only photo sets drop near duplicates.
        if dataset.kind == Dataset.Kind.PHOTOS:
            twin = near_duplicate_of(dataset, phash)
            if twin is not None:
                raise Rejected(Reason.NEAR_DUPLICATE, f"Looks the same as {twin.source_id}.")
    except Rejected as exc:
        return _reject(dataset, candidate, exc.reason, exc.detail), True
    match = benchmark_match(dataset, candidate, phash, blur_phash)
    blur_hex = "" if blur_phash is None else str(blur_phash)
    return load(dataset, candidate, checked, str(phash), blur_hex, match), True
