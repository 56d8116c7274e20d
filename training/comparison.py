"""Models side by side on the benchmarks, from the figures kept in ModelVersion.metrics, and
the check made before a model is promoted."""

from dataclasses import dataclass

from inference.models import ModelVersion

from training.benchmarks import dataset_key, shared_benchmarks, shared_key
from training.models import Dataset

# Keys of figures measured on synthetic blur; every other benchmark is real blur.
SYNTHETIC = ("synthetic_holdout",)


@dataclass(frozen=True)
class Cell:
    psnr: float
    ssim: float
    seconds_per_megapixel: float | None = None
    seen_in_training: bool = False


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    real_blur: bool
    input: Cell | None
    baseline: Cell | None
    models: list[Cell | None]


def benchmark_labels(versions: list[ModelVersion]) -> dict[str, str]:
    """Every benchmark to show, key -> label: the shared folders, the datasets marked as
    benchmarks, then anything else the models were scored on."""
    labels = {shared_key(b.name): b.name for b in shared_benchmarks()}
    for name in Dataset.objects.filter(is_benchmark=True, kind=Dataset.Kind.PAIRS).values_list("name", flat=True):
        labels[dataset_key(name)] = f"dataset {name}"
    for version in versions:
        for key, value in version.metrics.items():
            if isinstance(value, dict):
                labels.setdefault(key, key.replace("_", " "))
    return labels


def _cell(figures: dict, prefix: str, seen: bool = False) -> Cell | None:
    if f"{prefix}_psnr" not in figures:
        return None
    speed = figures.get("seconds_per_megapixel") if prefix == "model" else None
    return Cell(figures[f"{prefix}_psnr"], figures[f"{prefix}_ssim"], speed, seen)


def _seen(version: ModelVersion, key: str, label: str) -> bool:
    return any(shared_key(name) == key or name == label for name in version.seen_in_training)


def comparison(versions: list[ModelVersion]) -> list[Row]:
    rows = []
    for key, label in benchmark_labels(versions).items():
        scored = [version.metrics.get(key) or {} for version in versions]
        reference = next((figures for figures in scored if "input_psnr" in figures), {})
        rows.append(
            Row(
                key,
                label,
                key not in SYNTHETIC,
                _cell(reference, "input"),
                _cell(reference, "baseline"),
                [_cell(figures, "model", _seen(version, key, label)) for version, figures in zip(versions, scored)],
            )
        )
    return rows


def below_input(version: ModelVersion) -> list[str]:
    """The real-blur benchmarks on which the model scores below its input, each in words with
    its figures; empty when there is none."""
    warnings = []
    for key, figures in version.metrics.items():
        if not isinstance(figures, dict) or key in SYNTHETIC or "model_psnr" not in figures:
            continue
        if figures["model_psnr"] < figures["input_psnr"] or figures["model_ssim"] < figures["input_ssim"]:
            warnings.append(
                f"{key.replace('_', ' ')}: PSNR {figures['model_psnr']:.2f} dB against the input's "
                f"{figures['input_psnr']:.2f}, SSIM {figures['model_ssim']:.4f} against {figures['input_ssim']:.4f}"
            )
    return warnings
