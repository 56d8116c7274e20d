"""Several photos as one ZIP archive, streamed: files are read from the store one chunk at
a time while the archive is sent, so it is never held whole in memory (a result at a
saved strength under full is blended one photo at a time)."""

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import PurePath

from django.db.models.fields.files import FieldFile
from zipstream import ZIP_STORED, ZipStream

from . import downloads
from .models import Photo, Restoration

CHUNK_BYTES = 256 * 1024


def archive_name(count: int, day: date) -> str:
    return f"deblur-{day.isoformat()}-{count}-photo{'s' if count != 1 else ''}.zip"


def _stem(original_name: str) -> str:
    # Any folder part of the uploaded name (browsers send none; other clients might) is dropped.
    return PurePath(original_name.replace("\\", "/")).stem.strip() or "photo"


def entry_stems(original_names: Iterable[str]) -> list[str]:
    """A stem per photo such that no two entries of the archive share a name: the second
    "street.jpg" becomes street-2.png and street-2-deblurred.png."""
    taken: set[str] = set()
    stems = []
    for name in original_names:
        base = stem = _stem(name)
        number = 1
        while {f"{stem}.png", f"{stem}-deblurred.png"} & taken:
            number += 1
            stem = f"{base}-{number}"
        taken |= {f"{stem}.png", f"{stem}-deblurred.png"}
        stems.append(stem)
    return stems


def _chunks(file: FieldFile) -> Iterator[bytes]:
    # A generator: the file is opened only when the archive reaches it.
    with file.storage.open(file.name, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def _result_chunks(job: Restoration) -> Iterator[bytes]:
    if downloads.is_full(job.strength):
        yield from _chunks(job.result)
    else:
        yield downloads.blended_bytes(job, "png", job.strength)


def stream(photos: list[Photo]) -> ZipStream:
    """Each photo's result as <stem>-deblurred.png at its saved strength, once its job
    succeeded, and its original as <stem>.png. PNGs are compressed already, so entries are
    stored as they are."""
    archive = ZipStream(compress_type=ZIP_STORED)
    for photo, stem in zip(photos, entry_stems(photo.original_name for photo in photos)):
        job = photo.restoration
        if job.status == Restoration.Status.SUCCEEDED and job.result:
            archive.add(_result_chunks(job), f"{stem}-deblurred.png")
        archive.add(_chunks(photo.original), f"{stem}.png")
    return archive
