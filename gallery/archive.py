"""Several photos as one ZIP, built by a worker into the media store (an Archive), so that
a download of any size is a stored file: presigned on S3, and never cut by the web's
timeout as a stream from a web process was.

Each photo's result is <stem>-deblurred.png at its saved strength, once its job succeeded
(the stored blend, or blended here when the photo's own render has not run yet), and its
original as it was uploaded, <stem> with its own suffix (<stem>.png for photos from before
the uploaded file was kept); a try-it photo's blurred copy is <stem>-blurred.png and the sharp
photo its owner sent <stem>.png. PNGs are compressed already, so entries are stored as they are."""

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import PurePath

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from zipstream import ZIP_STORED, ZipStream

from inference.images import FORMAT_FILES

from . import blends, credentials
from .models import Archive, Photo, Restoration
from .names import FORMATS, TRY_IT_SUFFIXES

log = logging.getLogger(__name__)

ORIGINAL_SUFFIX = ".png"
RESULT_SUFFIX = FORMATS["png"].suffix
# Every name an entry of a photo may end in, whichever files the photo has.
SUFFIXES = {
    ORIGINAL_SUFFIX,
    RESULT_SUFFIX,
    *TRY_IT_SUFFIXES.values(),
    *(suffix for _, suffixes in FORMAT_FILES.values() for suffix in suffixes),
}

CHUNK_BYTES = 1024 * 1024
# Progress is written when it has moved on by this much: a few dozen writes a ZIP.
PROGRESS_STEP = 0.02


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
        while {stem + suffix for suffix in SUFFIXES} & taken:
            number += 1
            stem = f"{base}-{number}"
        taken |= {stem + suffix for suffix in SUFFIXES}
        stems.append(stem)
    return stems


def _own_files(photo: Photo) -> list[tuple[FieldFile, str]]:
    """The photo's own files in the archive, with the suffixes of their names."""
    if photo.synthetic_blur:
        return [(photo.original, TRY_IT_SUFFIXES["original"]), (photo.reference, TRY_IT_SUFFIXES["reference"])]
    if photo.given:
        return [(photo.given, PurePath(photo.given_name).suffix)]
    return [(photo.original, ORIGINAL_SUFFIX)]


def _result_of(photo: Photo) -> Restoration | None:
    job = getattr(photo, "restoration", None)
    return job if job is not None and job.status == Restoration.Status.SUCCEEDED and job.result else None


def request(owner, photos: list[Photo]) -> Archive:
    """An archive of these photos, built by a worker once the transaction commits."""
    from .tasks import build_archive

    archive = Archive.objects.create(owner=owner, name=archive_name(len(photos), timezone.localdate()))
    archive.photos.set(photos)
    transaction.on_commit(lambda: build_archive.delay(str(archive.pk)), robust=True)
    return archive


def _chunks(file: FieldFile, counted: Callable[[int], None]) -> Iterator[bytes]:
    # A generator: the file is opened only when the archive reaches it.
    with file.storage.open(file.name, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            counted(len(chunk))
            yield chunk


def _result(job: Restoration, counted: Callable[[int], None]) -> Iterator[bytes]:
    if blends.is_full(job.strength):
        yield from _chunks(job.result, counted)
    elif blends.is_ready(job):
        yield from _chunks(job.blend_png, counted)
    else:
        counted(job.result.size)
        edit, original = credentials.edit_of(job, job.strength), credentials.original_of(job.photo)
        yield credentials.signed(job.photo, blends.blended(job, job.strength), "png", edit, original)


class _Progress:
    """Bytes read of the photos' files against their total, written to the row now and then."""

    def __init__(self, archive: Archive, total: int) -> None:
        self.archive, self.total, self.done, self.written = archive, max(total, 1), 0, 0.0

    def __call__(self, count: int) -> None:
        self.done += count
        progress = min(self.done / self.total, 1.0)
        if progress - self.written >= PROGRESS_STEP:
            self.written = progress
            Archive.objects.filter(pk=self.archive.pk).update(progress=progress)


def _entries(photos: list[Photo], progress: _Progress) -> ZipStream:
    archive = ZipStream(compress_type=ZIP_STORED)
    for photo, stem in zip(photos, entry_stems(photo.original_name for photo in photos)):
        if job := _result_of(photo):
            archive.add(_result(job, progress), stem + RESULT_SUFFIX)
        for file, suffix in _own_files(photo):
            archive.add(_chunks(file, progress), stem + suffix)
    return archive


def _total(photos: list[Photo]) -> int:
    # A result under full strength is about the size of the full-strength one.
    total = 0
    for photo in photos:
        total += sum(file.size for file, _ in _own_files(photo))
        if job := _result_of(photo):
            total += job.result.size
    return total


def build(archive_id: str) -> None:
    """Write the archive's ZIP into the media store and mark it ready, with progress on the
    way; a failure is recorded on the row, in words."""
    # Running too: the message comes again when a worker died building it.
    unfinished = [Archive.Status.QUEUED, Archive.Status.RUNNING]
    claimed = Archive.objects.filter(pk=archive_id, status__in=unfinished).update(status=Archive.Status.RUNNING)
    if not claimed:
        return
    archive = Archive.objects.get(pk=archive_id)
    try:
        photos = list(archive.photos.select_related("restoration").order_by("-created"))
        progress = _Progress(archive, _total(photos))
        # Spooled to local disk, then sent to the store in one upload (S3: multipart).
        with tempfile.TemporaryFile() as spooled:
            for chunk in _entries(photos, progress):
                spooled.write(chunk)
            size = spooled.tell()
            spooled.seek(0)
            default_storage.save(archive.file_name, File(spooled))
    except Exception:
        log.exception("building archive %s failed", archive_id)
        Archive.objects.filter(pk=archive_id).update(
            status=Archive.Status.FAILED, error="The ZIP could not be built. The error was logged; please try again."
        )
        return
    ready = Archive.objects.filter(pk=archive_id).update(
        status=Archive.Status.READY, progress=1.0, file=archive.file_name, size=size, finished_at=timezone.now()
    )
    if not ready:  # deleted meanwhile, with one of its photos: the copy goes too
        default_storage.delete(archive.file_name)
