"""The benchmarks every model is scored on: the folders of BENCHMARKS_DIR (../shared/benchmarks)
and the paired datasets marked as benchmarks. A model's figures on each are kept in
ModelVersion.metrics under the benchmark's key (training.scoring writes them)."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from training.ingestion.datasets import DatasetUnusable, benchmark_folder
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
