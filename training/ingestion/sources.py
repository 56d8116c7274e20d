"""Where ingestions find their images. Each source yields etl.Candidates, in a
stable order, and records in the job's cursor what it needs to continue."""

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from django.conf import settings

from deblursite.storage import datasets_storage

from training.ingestion import etl
from training.models import IngestJob
from training.ingestion.unsplash import DownloadFailed, UnsplashClient

Reason = etl.Reason
UNSPLASH_LICENCE = "Unsplash License (https://unsplash.com/license)"


def _too_big(size: int) -> tuple[str, str] | None:
    if size > settings.DATASET_MAX_BYTES:
        return Reason.TOO_LARGE, f"The file is {size / 2**20:.0f} MB, over the {settings.DATASET_MAX_BYTES / 2**20:.0f} MB limit."
    return None


def _read(path: Path) -> tuple[bytes | None, tuple[str, str] | None]:
    failure = _too_big(path.stat().st_size)
    return (None, failure) if failure else (path.read_bytes(), None)


def _hidden(parts: tuple[str, ...]) -> bool:
    # Dot files and folders (.DS_Store, __MACOSX's ._ files sit in one) are not photos anyone meant to add.
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _visible_files(folder: Path) -> list[Path]:
    """The files under the folder, links left out: a link can lead out of the folder (one to
    /etc/passwd in an imported folder was read)."""
    if folder.is_symlink():
        return []
    found = []
    # followlinks=False: a linked folder is listed, not entered.
    for parent, _, names in os.walk(folder):
        for name in names:
            path = Path(parent, name)
            if not path.is_symlink() and path.is_file() and not _hidden(path.relative_to(folder).parts):
                found.append(path)
    return sorted(found)


def folder_candidates(job: IngestJob) -> Iterator[etl.Candidate]:
    """Every file under the folder: the ones that are not photos are rejected with the reason."""
    folder = Path(job.path)
    if not folder.is_dir():
        raise FileNotFoundError(f"No folder at {folder}.")
    files = _visible_files(folder)
    job.total = len(files)
    for path in files:
        raw, failure = _read(path)
        yield etl.Candidate(
            "folder", str(path.relative_to(folder)), raw, job.licence, bool(job.licence), failure=failure
        )


def zip_candidates(job: IngestJob) -> Iterator[etl.Candidate]:
    """Every file in an uploaded zip (kept in the datasets storage), read one at a
    time, sizes checked before reading."""
    with datasets_storage.open(job.path, "rb") as stored, zipfile.ZipFile(stored) as archive:
        members = sorted(
            (m for m in archive.infolist() if not m.is_dir() and not _hidden(PurePosixPath(m.filename).parts)),
            key=lambda m: m.filename,
        )
        job.total = len(members)
        for member in members:
            failure = _too_big(member.file_size)
            raw = None if failure else archive.read(member)
            yield etl.Candidate("upload", member.filename, raw, job.licence, bool(job.licence), failure=failure)


def _pair_folders(root: Path) -> list[tuple[str, Path]]:
    """GoPro's layout (<scene>/blur, <scene>/sharp) or a flat blur/ + sharp/."""
    if (root / "blur").is_dir() and (root / "sharp").is_dir():
        return [("", root)]
    return [(scene.name, scene) for scene in sorted(root.iterdir()) if (scene / "blur").is_dir() and (scene / "sharp").is_dir()]


def pair_candidates(job: IngestJob) -> Iterator[etl.Candidate]:
    """Sharp images with their blurred partners, matched by name; a file with no
    partner is listed as rejected and skipped."""
    root = Path(job.path)
    items = []
    for scene, folder in _pair_folders(root):
        blurred = {p.name: p for p in _visible_files(folder / "blur")}
        sharp = {p.name: p for p in _visible_files(folder / "sharp")}
        for name in sorted(blurred.keys() | sharp.keys()):
            items.append((str(PurePosixPath(scene, name)) if scene else name, sharp.get(name), blurred.get(name)))
    job.total = len(items)
    for source_id, sharp_path, blur_path in items:
        if sharp_path is None or blur_path is None:
            missing = "sharp" if sharp_path is None else "blurred"
            failure = (Reason.NO_PARTNER, f"No {missing} partner for {source_id}.")
            yield etl.Candidate("pairs", source_id, None, job.licence, bool(job.licence), failure=failure)
            continue
        raw, failure = _read(sharp_path)
        raw_blur, blur_failure = _read(blur_path)
        yield etl.Candidate(
            "pairs", source_id, raw, job.licence, bool(job.licence), raw_blur=raw_blur, failure=failure or blur_failure
        )


def unsplash_candidates(job: IngestJob, client: UnsplashClient | None = None) -> Iterator[etl.Candidate]:
    """Search results page by page until the job has kept `count` photos. Raises
    BudgetSpent when the hourly budget is gone; the cursor says where to go on."""
    client = client or UnsplashClient()
    job.total = job.count
    page = job.cursor.get("page", 1)
    while job.kept < job.count:
        photos, pages = client.search(job.query, page)
        for photo in photos:
            if job.kept >= job.count:
                return
            if etl.already_seen(job.dataset, "unsplash", photo.id):
                continue
            raw, failure = None, None
            try:
                client.track_download(photo)
                raw = client.fetch_image(photo)
            except DownloadFailed as exc:
                failure = (Reason.DOWNLOAD_FAILED, str(exc))
            yield etl.Candidate(
                "unsplash",
                photo.id,
                raw,
                UNSPLASH_LICENCE,
                trainable=bool(job.licence_basis),
                attribution={**photo.attribution(), "licence_basis": job.licence_basis},
                failure=failure or (_too_big(len(raw)) if raw else None),
            )
        if page >= pages:
            return
        page += 1
        job.cursor = {**job.cursor, "page": page}


SOURCES = {
    IngestJob.Source.FOLDER: folder_candidates,
    IngestJob.Source.UPLOAD: zip_candidates,
    IngestJob.Source.PAIRS: pair_candidates,
    IngestJob.Source.UNSPLASH: unsplash_candidates,
}
