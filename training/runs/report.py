"""The end of a training run: its generator scored on every benchmark with the code of
`manage.py evaluate`, registered as a ModelVersion (serving nothing until promoted) with the
exact training images and their licences, and its model card."""

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import keras

from inference.models import ModelVersion
from inference.registry import register_model

from training import benchmarks, scoring
from training.runs import files as run_files
from training.ingestion.datasets import training_rows
from training.models import TrainingRun
from training.trainer import SUMMARY, TrainResult



def model_name(run: TrainingRun) -> str:
    return f"{run.architecture}-run-{run.pk}"


def training_images(run: TrainingRun, summary: dict) -> list[dict]:
    """The manifest rows the run trained or validated on, matched by the photos' file names
    (their SHA-256), with their licences."""
    roles = {name: "train" for name in summary["photos"]} | {name: "validation" for name in summary["holdout"]}
    images, seen = [], set()
    for row in training_rows(run.datasets.all()):
        name = f"{row.checksum}.png"
        if name in roles and name not in seen:
            seen.add(name)
            images.append(
                {
                    "id": row.pk,
                    "dataset": row.dataset.name,
                    "source": row.source,
                    "source_id": row.source_id,
                    "sha256": row.checksum,
                    "licence": row.licence,
                    "role": roles[name],
                }
            )
    return images


def provenance(run: TrainingRun, summary: dict, images: list[dict]) -> dict:
    licences = Counter(image["licence"] or "unknown" for image in images)
    datasets = sorted({image["dataset"] for image in images})
    init = run.init_model
    return {
        "summary": f"{run.get_architecture_display()} trained on the staff pages (run {run.pk}"
        + (f", fine-tuned from {init.name}" if init else "")
        + f") on {len(images)} photos of {', '.join(datasets)}",
        "source": f"training run {run.pk}",
        "run": run.pk,
        "datasets": datasets,
        "image_count": len(images),
        "licences": dict(licences),
        "licence": "the project's own; training photos " + ", ".join(sorted(licences)),
        "init": init.name if init else None,
        # A fine-tuned model has seen what its starting point saw.
        "seen_in_training": list(init.seen_in_training) if init else [],
        "steps": summary["steps"],
        "gan_steps": summary["gan_steps"],
        "seconds": summary["seconds"],
        "hardware": summary["hardware"],
        "validation": summary["validation"],
        "validation_input": summary["validation_input"],
        "config": summary["config"],
        "images": images,
    }


def model_card(version: ModelVersion, run: TrainingRun) -> str:
    """The model card, in Markdown: what, trained on what, how long, and its figures."""
    card = version.provenance
    lines = [
        f"# {version.name}",
        "",
        card["summary"] + ".",
        "",
        f"- Architecture: {version.get_architecture_display()}, {version.parameter_count:,} parameters",
        f"- Training: {card['steps']} content-loss steps + {card['gan_steps']} adversarial steps, "
        f"{card['seconds'] / 60:.1f} min on {card['hardware']}",
        f"- Started from: {card['init'] or 'a random initialisation'}",
        f"- Data: {card['image_count']} photos of {', '.join(card['datasets'])}; licences: "
        + ", ".join(f"{name} ({count})" for name, count in sorted(card["licences"].items())),
        f"- Validation (held-out photos, synthetic blur): PSNR {card['validation']['psnr']:.2f} dB, "
        f"SSIM {card['validation']['ssim']:.4f}; input {card['validation_input']['psnr']:.2f} dB, "
        f"{card['validation_input']['ssim']:.4f}",
        "",
        "## Benchmarks",
        "",
        "| benchmark | input PSNR / SSIM | model PSNR / SSIM | s/MP |",
        "| --- | --- | --- | --- |",
    ]
    seen = set(card["seen_in_training"])
    for key, row in version.metrics.items():
        if not isinstance(row, dict):
            continue
        marker = " (seen in training)" if key.replace("_", "-") in seen else ""
        lines.append(
            f"| {key}{marker} | {row['input_psnr']:.2f} / {row['input_ssim']:.4f} | "
            f"{row['model_psnr']:.2f} / {row['model_ssim']:.4f} | {row.get('seconds_per_megapixel') or 0:.2f} |"
        )
    lines += ["", "## Training images", "", "| dataset | image | licence | role |", "| --- | --- | --- | --- |"]
    lines += [f"| {i['dataset']} | {i['source_id']} | {i['licence']} | {i['role']} |" for i in card["images"]]
    return "\n".join(lines) + "\n"


def register(
    run: TrainingRun, folder: Path, result: TrainResult, on_image: Callable[[str], None] | None = None
) -> ModelVersion:
    summary = json.loads((folder / SUMMARY).read_text())
    name = model_name(run)
    generator = keras.models.load_model(result.generator, compile=False)
    metrics = scoring.score(generator, name, benchmarks.all_benchmarks(), on_image)
    images = training_images(run, summary)
    version = ModelVersion.objects.filter(name=name).first()
    if version is None:
        version = register_model(
            result.generator,
            name=name,
            notes=f"Trained on the staff pages, run {run.pk}. Model card: /manage/models/{name}/.",
            metrics=metrics,
            provenance=provenance(run, summary, images),
        )
    (folder / run_files.CARD).write_text(model_card(version, run))
    return version
