"""The benchmarks every model is scored on: the folders of BENCHMARKS_DIR (../shared/benchmarks)
and the paired datasets marked as benchmarks. A model's figures on each are kept in
ModelVersion.metrics under the benchmark's key, as `manage.py evaluate` and the end of a
training run write them."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
from django.conf import settings

from inference.engine import load_version
from inference.models import ModelVersion

from training.ingestion.datasets import DatasetUnusable, benchmark_folder
from training.evaluate import EvaluationReport, evaluate
from training.models import Dataset


@dataclass(frozen=True)
class Benchmark:
    name: str
    folder: Path
    key: str  # in ModelVersion.metrics


def shared_benchmarks() -> list[Benchmark]:
    root = Path(settings.BENCHMARKS_DIR)
    if not root.is_dir():
        return []
    folders = sorted(path for path in root.iterdir() if (path / "blur").is_dir())
    return [Benchmark(folder.name, folder, shared_key(folder.name)) for folder in folders]


def dataset_benchmarks() -> list[Benchmark]:
    """Paired datasets marked as benchmarks that hold pairs. Their keys say "dataset", so that
    a dataset named like a shared benchmark keeps its own figures."""
    benchmarks = []
    for dataset in Dataset.objects.filter(is_benchmark=True, kind=Dataset.Kind.PAIRS):
        try:
            folder = benchmark_folder(dataset.name)
        except DatasetUnusable:
            continue
        benchmarks.append(Benchmark(f"dataset {dataset.name}", folder, dataset_key(dataset.name)))
    return benchmarks


def dataset_key(name: str) -> str:
    return f"dataset_{name.replace('-', '_')}"


def shared_key(name: str) -> str:
    return name.replace("-", "_")


def all_benchmarks() -> list[Benchmark]:
    return shared_benchmarks() + dataset_benchmarks()


def figures(report: EvaluationReport) -> dict[str, float]:
    """The means that ModelVersion.metrics keeps for a benchmark."""
    mean = report.mean
    row = {
        "input_psnr": mean.input.psnr,
        "input_ssim": mean.input.ssim,
        "baseline_psnr": mean.baseline.psnr,
        "baseline_ssim": mean.baseline.ssim,
        "images": len(report.images),
    }
    if mean.model is not None:
        row |= {"model_psnr": mean.model.psnr, "model_ssim": mean.model.ssim}
        row["seconds_per_megapixel"] = report.seconds_per_megapixel
    return {name: round(value, 4) if isinstance(value, float) else value for name, value in row.items()}


def score(
    model: keras.Model, label: str, benchmarks: list[Benchmark], on_image: Callable[[str], None] | None = None
) -> dict[str, dict]:
    """The model's figures on each benchmark, by key. `on_image(benchmark name)` is called as
    each image is done (a heartbeat for long evaluations)."""
    results = {}
    for benchmark in benchmarks:
        progress = None if on_image is None else (lambda done, total, name=benchmark.name: on_image(name))
        results[benchmark.key] = figures(evaluate(benchmark.folder, model, progress=progress, model_label=label))
    return results


def score_version(version: ModelVersion) -> dict[str, dict]:
    """Score a registered model on every benchmark now and keep the figures on it (a dataset
    marked as a benchmark after the model was registered, or a model registered by hand)."""
    results = score(load_version(version), version.name, all_benchmarks())
    version.metrics = {**version.metrics, **results}
    version.save(update_fields=["metrics"])
    return results
