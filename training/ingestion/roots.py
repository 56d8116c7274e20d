"""Which server folders staff may import from the admin pages: under INGEST_FOLDER_ROOTS
only, never the site's own storage folders (people's photos, datasets, models), and never
through a link, which could lead anywhere."""

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import storages

STORAGE_ALIASES = ("default", "datasets", "models")


class FolderRefused(ValueError):
    """Why a folder cannot be imported, in a sentence for the staff member."""


def storage_folders() -> list[Path]:
    """The folders of the storages kept on this machine's disk (none on S3)."""
    locations = (getattr(storages[alias], "location", None) for alias in STORAGE_ALIASES)
    return [Path(location).resolve() for location in locations if location]


def _overlaps(folder: Path, other: Path) -> bool:
    return folder == other or other in folder.parents or folder in other.parents


def allowed_folder(path: str) -> Path:
    """The folder, resolved, if staff may import it; FolderRefused says why not."""
    given = Path(os.path.abspath(path))
    folder = given.resolve()
    if folder != given:
        raise FolderRefused("The path goes through a link; links are not followed. Name the folder itself.")
    roots = [Path(root).resolve() for root in settings.INGEST_FOLDER_ROOTS]
    if not any(folder == root or root in folder.parents for root in roots):
        raise FolderRefused(f"Folders can be imported from {', '.join(map(str, roots))} only.")
    if any(_overlaps(folder, storage) for storage in storage_folders()):
        raise FolderRefused("That folder holds the site's own files (people's photos, datasets or models).")
    if not folder.is_dir():
        raise FolderRefused("There is no such folder on the server.")
    return folder
