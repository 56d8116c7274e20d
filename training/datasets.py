"""Datasets as folders the trainer and evaluator read: a dataset's processed files
are copied once into a local cache (they may live on S3), under stable names."""

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db.models.fields.files import FieldFile

from deblursite.storage import datasets_storage

from .models import Dataset, DatasetImage

NOT_TRAINABLE = (
    "{n} image(s) of {dataset} are left out: they are not trainable under their licence "
    "({licences}). Unsplash's API guidelines do not allow training AI models on its photos without "
    "permission; ingest them again with the licence basis that permits it."
)


class DatasetUnusable(ValueError):
    pass


@dataclass
class TrainingPhotos:
    folder: Path
    used: int
    left_out: str  # why some images were not used, or ""


def _cache(dataset: Dataset) -> Path:
    return Path(settings.VAR_DIR) / "dataset-cache" / dataset.name


def _copy(file: FieldFile, target: Path) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with file.open("rb") as source, partial.open("wb") as out:
        shutil.copyfileobj(source, out)
    partial.rename(target)


def training_photos(name: str) -> TrainingPhotos:
    """The trainable photos of a photo dataset in a local folder; non-trainable ones are refused, with the reason."""
    dataset = Dataset.objects.filter(name=name).first()
    if dataset is None:
        raise DatasetUnusable(f"No dataset named {name}.")
    if dataset.kind != Dataset.Kind.PHOTOS:
        raise DatasetUnusable(f"{name} is a paired dataset: train on sharp photos; evaluate on pairs.")
    kept = dataset.images.filter(status=DatasetImage.Status.KEPT)
    refused = kept.filter(trainable=False)
    left_out = ""
    if refused.exists():
        licences = ", ".join(sorted(set(refused.values_list("licence", flat=True))))
        left_out = NOT_TRAINABLE.format(n=refused.count(), dataset=name, licences=licences)
    folder = _cache(dataset) / "photos"
    rows = list(kept.filter(trainable=True))
    if not rows:
        raise DatasetUnusable(f"{name} has no trainable photos. {left_out}".strip())
    wanted = {f"{row.checksum}.png" for row in rows}
    for stale in folder.glob("*.png") if folder.exists() else []:
        if stale.name not in wanted:
            stale.unlink()
    for row in rows:
        _copy(row.processed, folder / f"{row.checksum}.png")
    return TrainingPhotos(folder=folder, used=len(rows), left_out=left_out)


def benchmark_folder(name: str) -> Path:
    """A paired dataset laid out as blur/ + sharp/ with matching names, as `evaluate` reads it."""
    dataset = Dataset.objects.filter(name=name, kind=Dataset.Kind.PAIRS).first()
    if dataset is None:
        raise DatasetUnusable(f"No paired dataset named {name}.")
    folder = _cache(dataset) / "bench"
    rows = dataset.images.filter(status=DatasetImage.Status.KEPT)
    if not rows.exists():
        raise DatasetUnusable(f"{name} has no pairs.")
    for row in rows:
        flat = "__".join(PurePosixPath(row.source_id).with_suffix(".png").parts)
        _copy(row.processed, folder / "sharp" / flat)
        _copy(row.processed_blur, folder / "blur" / flat)
    return folder


def delete_dataset(dataset: Dataset) -> None:
    """Every stored file of the dataset, then its rows: deleting really deletes."""
    for row in dataset.images.all():
        for file in row.stored_files():
            file.storage.delete(file.name)
    for job in dataset.jobs.filter(source="upload").exclude(path=""):
        datasets_storage.delete(job.path)
    shutil.rmtree(_cache(dataset), ignore_errors=True)
    dataset.delete()
