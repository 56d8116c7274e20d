"""Datasets as folders the trainer and evaluator read: a dataset's processed files
are copied once into a local cache (they may live on S3), under stable names."""

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db.models.fields.files import FieldFile

from deblursite.storage import datasets_storage

from training.ingestion import benchmark_guard
from training.models import Dataset, DatasetImage

NOT_TRAINABLE = (
    "{n} image(s) of {dataset} are left out: they are not trainable under their licence "
    "({licences}). Unsplash's API guidelines do not allow training AI models on its photos without "
    "permission; ingest them again with the licence basis that permits it."
)
BENCHMARK_IMAGES = (
    "{n} image(s) of {dataset} are left out: they are benchmark images ({matches}). A benchmark "
    "measures what a model learnt elsewhere: trained on, its figures would mean nothing."
)
SHOWN_MATCHES = 3


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


def _licence_refusals(dataset: Dataset) -> str:
    refused = dataset.images.filter(status=DatasetImage.Status.KEPT, trainable=False, benchmark_match="")
    if not refused.exists():
        return ""
    licences = ", ".join(sorted(set(refused.values_list("licence", flat=True))))
    return NOT_TRAINABLE.format(n=refused.count(), dataset=dataset.name, licences=licences)


def _benchmark_refusals(dataset: Dataset) -> str:
    refused = dataset.images.filter(status=DatasetImage.Status.KEPT).exclude(benchmark_match="")
    n = refused.count()
    if not n:
        return ""
    shown = [f"{row.source_id} is {row.benchmark_match}" for row in refused[:SHOWN_MATCHES]]
    matches = "; ".join(shown + (["…"] if n > SHOWN_MATCHES else []))
    return BENCHMARK_IMAGES.format(n=n, dataset=dataset.name, matches=matches)


def training_photos(name: str) -> TrainingPhotos:
    """The trainable photos of a photo dataset in a local folder; non-trainable ones are refused, with the reason."""
    dataset = Dataset.objects.filter(name=name).first()
    if dataset is None:
        raise DatasetUnusable(f"No dataset named {name}.")
    if dataset.kind != Dataset.Kind.PHOTOS:
        raise DatasetUnusable(f"{name} is a paired dataset: train on sharp photos; evaluate on pairs.")
    kept = dataset.images.filter(status=DatasetImage.Status.KEPT)
    # Again here: a dataset may have become a benchmark after these rows were ingested.
    benchmark_guard.mark_matches(kept.filter(trainable=True), benchmark_guard.fingerprints())
    left_out = " ".join(filter(None, (_licence_refusals(dataset), _benchmark_refusals(dataset))))
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


def training_rows(datasets):
    """The manifest rows that training may use: kept, trainable photos of the datasets."""
    return DatasetImage.objects.filter(
        dataset__in=datasets, dataset__kind=Dataset.Kind.PHOTOS, status=DatasetImage.Status.KEPT, trainable=True
    ).select_related("dataset")


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
