"""A run's folder. The trainer writes it on the worker's disk; it is mirrored to
`runs/<id>/` in the models storage (S3 in production), so that a run resumes on any worker
and the staff pages read its samples and card from anywhere."""

import shutil
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File

from deblursite.storage import models_storage

from training.models import TrainingRun

PHOTOS = "photos"  # links to the run's training photos: local only, rebuilt on each worker
STATE = PurePosixPath("checkpoints/state.json")
CARD = "model-card.md"  # written when the run ends (training.runs.report)

# Size and modification time of each file as last sent, by path inside the folder.
Sent = dict[str, tuple[int, int]]


def local_folder(run: TrainingRun) -> Path:
    return Path(settings.VAR_DIR) / "runs" / str(run.pk)


def _local_files(folder: Path) -> list[Path]:
    # ".part-" files are checkpoints being written (trainer._write_atomically).
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".part-") and path.relative_to(folder).parts[0] != PHOTOS
    ]


def upload(run: TrainingRun, folder: Path, sent: Sent) -> None:
    """Send what changed since the last upload (`sent` is updated)."""
    for path in _local_files(folder):
        name = path.relative_to(folder).as_posix()
        stat = path.stat()
        stamp = (stat.st_size, stat.st_mtime_ns)
        if sent.get(name) == stamp:
            continue
        key = run.prefix + name
        models_storage.delete(key)  # so that save keeps the name instead of inventing another
        with path.open("rb") as source:
            models_storage.save(key, File(source))
        sent[name] = stamp


def _stored_names(prefix: str) -> list[str]:
    folders, files = models_storage.listdir(prefix) if models_storage.exists(prefix) else ([], [])
    names = [f"{prefix}{name}" for name in files]
    for folder in folders:
        names += _stored_names(f"{prefix}{folder}/")
    return names


def download(run: TrainingRun, folder: Path) -> bool:
    """Bring the stored run folder here unless this disk already has its checkpoint (a resume
    on another worker). True when there is a checkpoint to resume from."""
    if (folder / STATE).exists():
        return True
    if not models_storage.exists(run.prefix + str(STATE)):
        return False
    for key in _stored_names(run.prefix):
        target = folder / PurePosixPath(key).relative_to(run.prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        with models_storage.open(key, "rb") as source, target.open("wb") as out:
            shutil.copyfileobj(source, out)
    return True


def read(run: TrainingRun, name: str) -> bytes | None:
    """A stored file of the run (e.g. samples/step_000100.png), None when there is none."""
    key = run.prefix + name
    if not models_storage.exists(key):
        return None
    with models_storage.open(key, "rb") as file:
        return file.read()


def stored(run: TrainingRun, subfolder: str) -> list[str]:
    """The names of the run's stored files in a subfolder, sorted."""
    prefix = f"{run.prefix}{subfolder}/"
    return sorted(PurePosixPath(key).name for key in _stored_names(prefix))


def delete_local(run: TrainingRun) -> None:
    shutil.rmtree(local_folder(run), ignore_errors=True)


def delete(run: TrainingRun) -> None:
    for key in _stored_names(run.prefix):
        models_storage.delete(key)
    delete_local(run)
