"""Deleting a photo's files, and the storage sweep that finishes what a failing store left.

A photo's files are named from its id, and its results' from its id and theirs
(models.photo_file_names, result_file_names), so they are found without the rows having
recorded them. Two things can be left behind when the store dies part-way: files of an
upload or a job that no row names, and a delete that removed some files only. The sweep
(beat, every few minutes, or `manage.py sweep_storage`) finishes the deletes of photos marked
as being deleted, and removes files of the photo folders whose photo or result has no row (a
deleted result's files, where the store failed), once they are older than a grace period: an
upload in flight writes its files before its row exists."""

import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from . import jobs
from .models import (
    ARCHIVE_FOLDER, PHOTO_FOLDERS, RESULT_SUFFIXES, Archive, Photo, Restoration, photo_file_names, result_file_names,
)  # fmt: skip

log = logging.getLogger(__name__)

# Photo ids looked up in the database at a time.
LOOKUP_BATCH = 1000


def drop_archives(archives) -> None:
    """Delete these ZIPs, file first: a row is left only where its file could not go."""
    for archive in list(archives):
        default_storage.delete(archive.file_name)
        archive.delete()


def mark_deleting(photo: Photo) -> None:
    """Gone for its owner from now on, whatever becomes of its files; its job stops at its
    next tile and keeps nothing."""
    photo.deleting_since = timezone.now()
    Photo.all_objects.filter(pk=photo.pk).update(deleting_since=photo.deleting_since)
    unfinished = [Restoration.Status.QUEUED, Restoration.Status.RUNNING]
    for job in Restoration.objects.filter(photo_id=photo.pk, status__in=unfinished):
        jobs.cancel(job)


def _names(photo: Photo) -> list[str]:
    # Those of a result from when a photo kept one only too; and the names its rows recorded,
    # in case a file was stored under another name once. Its results come from the prefetch
    # of finish_deletes where there is one.
    made = [*photo_file_names(photo.pk).values(), *result_file_names(photo.pk, None).values()]
    results = [name for result in photo.results.all() for name in result.every_file_name()]
    recorded = [file.name for file in photo.stored_files()]
    return list(dict.fromkeys([*made, *results, *recorded]))


def finish_delete(photo: Photo) -> bool:
    """Delete every file the photo can own (missing ones are fine), then its rows. False,
    with the rows kept, when the store failed."""
    try:
        # A ZIP holding the photo holds a copy of it.
        drop_archives(photo.archives.all())
        for name in _names(photo):
            default_storage.delete(name)
    except Exception:
        log.exception("deleting the files of photo %s failed; the storage sweep will finish it", photo.pk)
        return False
    photo.delete()
    return True


def delete_photos(photos) -> bool:
    """Delete these photos as delete_photo does, all gone for their owner before the first
    file goes. False when the store failed part-way: the rest stay marked for the sweep."""
    photos = list(photos)
    for photo in photos:
        mark_deleting(photo)
    # The first failure means the store is down: trying the others would only wait on it.
    return all(finish_delete(photo) for photo in photos)


def finish_deletes() -> int:
    """Finish the deletes the store failed; how many were finished. Stops at the first
    failure: the store is still down, and the next sweep tries again."""
    finished = 0
    for photo in Photo.all_objects.filter(deleting_since__isnull=False).prefetch_related("results"):
        if not finish_delete(photo):
            break
        finished += 1
    return finished


# A result's file: results/<photo id>[-<result id>]<suffix>; without a result id, from when a
# photo kept one result only.
RESULT_NAME = re.compile(
    r"[0-9a-f-]{36}(?:-(?P<result>\d+))?(?:%s)" % "|".join(map(re.escape, RESULT_SUFFIXES.values()))
)


def _owner(folder: str, name: str) -> tuple[uuid.UUID, int | None] | None:
    """The photo (or ZIP) a file of a photo folder (or of the ZIPs') belongs to, and for a
    result's file the result; None for a name no such file has."""
    try:
        owner_id = uuid.UUID(name[:36])
    except ValueError:
        return None
    if folder == ARCHIVE_FOLDER:
        return (owner_id, None) if name == f"{owner_id}.zip" else None
    if f"{folder}/{name}" in photo_file_names(owner_id).values():
        return owner_id, None
    found = RESULT_NAME.fullmatch(name) if folder == "results" else None
    if found is None:
        return None
    return owner_id, None if found["result"] is None else int(found["result"])


def _photo_files() -> dict[str, tuple[uuid.UUID, int | None]]:
    owners = {}
    for folder in (*PHOTO_FOLDERS, ARCHIVE_FOLDER):
        try:
            _, names = default_storage.listdir(folder)
        except FileNotFoundError:  # an empty folder on the filesystem
            continue
        for name in names:
            if (owner := _owner(folder, name)) is not None:
                owners[f"{folder}/{name}"] = owner
    return owners


def _existing(owners: set[tuple[uuid.UUID, int | None]]) -> set[tuple[uuid.UUID, int | None]]:
    """Those of these owners whose rows exist: a photo's or ZIP's, and a result's with its photo's."""
    keys, existing = list(owners), set()
    for start in range(0, len(keys), LOOKUP_BATCH):
        batch = keys[start : start + LOOKUP_BATCH]
        ids = {owner_id for owner_id, _ in batch}
        found = set(Photo.all_objects.filter(pk__in=ids).values_list("pk", flat=True))
        found |= set(Archive.objects.filter(pk__in=ids).values_list("pk", flat=True))
        results = {result_id for _, result_id in batch if result_id is not None}
        kept = set(Restoration.objects.filter(pk__in=results).values_list("photo_id", "pk"))
        existing |= {
            (owner_id, result_id)
            for owner_id, result_id in batch
            if owner_id in found and (result_id is None or (owner_id, result_id) in kept)
        }
    return existing


def remove_unreferenced(grace: timedelta) -> list[str]:
    """Delete the files of the photo folders whose photo or result has no row and that are
    older than `grace`; their names."""
    owners = _photo_files()
    existing = _existing(set(owners.values()))
    cutoff = timezone.now() - grace
    removed = []
    for name, owner in owners.items():
        if owner not in existing and default_storage.get_modified_time(name) < cutoff:
            default_storage.delete(name)
            removed.append(name)
    if removed:
        log.warning("removed %d files that no photo owns: %s", len(removed), ", ".join(removed))
    return removed


@dataclass
class Swept:
    finished_deletes: int
    removed: list[str] = field(default_factory=list)
    expired_archives: int = 0


def drop_expired_archives() -> int:
    """Delete the ZIPs older than ARCHIVE_KEEP_HOURS; how many."""
    expired = Archive.objects.filter(created__lt=timezone.now() - timedelta(hours=settings.ARCHIVE_KEEP_HOURS))
    count = expired.count()
    drop_archives(expired)
    return count


def sweep(grace: timedelta | None = None) -> Swept:
    """Finish half-done deletes, drop expired ZIPs, then remove files no photo or ZIP owns
    (older than the grace period, STORAGE_SWEEP_GRACE_SECONDS unless given)."""
    if grace is None:
        grace = timedelta(seconds=settings.STORAGE_SWEEP_GRACE_SECONDS)
    return Swept(finish_deletes(), expired_archives=drop_expired_archives(), removed=remove_unreferenced(grace))
