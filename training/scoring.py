"""Scoring models on every benchmark with the code of `manage.py evaluate`, and keeping the
figures on the ModelVersion."""

from collections.abc import Callable

import keras

from inference.engine import load_version
from inference.models import ModelVersion
from training.benchmarks import Benchmark, all_benchmarks
from training.evaluate import EvaluationReport, evaluate


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
