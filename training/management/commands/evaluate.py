import json
from pathlib import Path

import keras
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inference.engine import NoModelInstalled, tiling
from inference.models import Choice, ModelVersion
from inference.registry import resolve_model
from training.benchmarks import shared_benchmarks
from training.ingestion.datasets import DatasetUnusable, benchmark_folder
from training.evaluate import EvaluationReport, Method, choice_method, evaluate

class Command(BaseCommand):
    help = (
        "Score the input, the classical baseline and models on benchmark folders (blur/ and sharp/ with "
        "matching file names): PSNR, SSIM and seconds per image, and their means. Without a folder, every "
        "benchmark in BENCHMARKS_DIR; without --model, every registered model that is not retired."
    )

    def add_arguments(self, parser) -> None:
        where = parser.add_mutually_exclusive_group()
        where.add_argument("bench_dir", nargs="?", help="a folder holding blur/ and sharp/ (default: every benchmark)")
        where.add_argument("--dataset", help="a paired dataset ingested with import_pairs")
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--model",
            action="append",
            help="a registered model's name, a .keras file, or a choice: auto, best, fast or shake (the kernel "
            "engine); repeat it for several (default: every registered model that is not retired)",
        )
        which.add_argument("--no-model", action="store_true", help="score the input and the baseline only")
        parser.add_argument("--tile", type=int, help="tile size in pixels (default: what suits each architecture)")
        parser.add_argument("--csv", help="also write the figures to this CSV file (one benchmark and model)")
        parser.add_argument("--json", help="also write the figures to this JSON file")

    def handle(self, *args, model: list[str] | None, no_model: bool, tile: int | None, **options) -> None:
        folders = self.benchmarks(options["bench_dir"], options["dataset"])
        models = [(None, None)] if no_model else self.choose_models(model, tile)
        for generator, _ in models:
            overlap = tiling(generator)[1] if isinstance(generator, keras.Model) else 0
            if tile is not None and tile <= 2 * overlap:
                raise CommandError(f"--tile must be more than {2 * overlap} pixels.")

        reports = []
        for folder in folders:
            for generator, label in models:
                report = self.score(folder, generator, label, tile)
                if len(folders) > 1:
                    self.stdout.write(f"\n{folder.name}")
                if report.model:
                    self.stdout.write(f"Model: {report.model}")
                self.stdout.write(report.table())
                reports.append(report)
        if len(reports) > 1:
            self.stdout.write("\n" + summary(reports, seen_in_training()))
        self.write_files(reports, options["csv"], options["json"])

    def benchmarks(self, bench_dir: str | None, dataset: str | None) -> list[Path]:
        if dataset:
            try:
                return [Path(benchmark_folder(dataset))]
            except DatasetUnusable as exc:
                raise CommandError(str(exc)) from exc
        if bench_dir:
            return [Path(bench_dir)]
        folders = [benchmark.folder for benchmark in shared_benchmarks()]
        if not folders:
            raise CommandError(f"No benchmark folder given, and {settings.BENCHMARKS_DIR} (BENCHMARKS_DIR) holds none.")
        return folders

    def choose_models(
        self, names: list[str] | None, tile: int | None = None
    ) -> list[tuple[keras.Model | Method | None, str | None]]:
        """Each model (or choice run as the site runs it) with its name; none, with the
        reason printed, when no model is registered."""
        if names is None:
            names = list(ModelVersion.objects.filter(retired_at=None).order_by("created").values_list("name", flat=True))
            if not names:
                self.stdout.write("No model is registered. Scoring the input and the baseline only.")
                return [(None, None)]
        try:
            return [
                (choice_method(name, tile), name) if name in Choice.values else (resolve_model(name), name)
                for name in names
            ]
        except NoModelInstalled as exc:
            self.stdout.write(f"{exc} Scoring the input and the baseline only.")
            return [(None, None)]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    def score(
        self, folder: Path, generator: keras.Model | Method | None, label: str | None, tile: int | None
    ) -> EvaluationReport:
        bar_format = "{l_bar}{bar}| {n:.1f}/{total} images [{elapsed}<{remaining}]"
        with tqdm(bar_format=bar_format, desc=folder.name) as bar:

            def progress(done: float, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                return evaluate(folder, generator, tile=tile, progress=progress, model_label=label)
            except (ValueError, NoModelInstalled) as exc:
                raise CommandError(str(exc)) from exc

    def write_files(self, reports: list[EvaluationReport], csv_path: str | None, json_path: str | None) -> None:
        if csv_path:
            if len(reports) > 1:
                raise CommandError("--csv takes one benchmark and one model; use --json for several.")
            reports[0].write_csv(Path(csv_path))
            self.stdout.write(f"Wrote {csv_path}")
        if json_path:
            if len(reports) == 1:
                reports[0].write_json(Path(json_path))
            else:
                Path(json_path).write_text(json.dumps([report.as_dict() for report in reports], indent=2) + "\n")
            self.stdout.write(f"Wrote {json_path}")


def seen_in_training() -> dict[str, list[str]]:
    """The benchmarks each registered model was trained on, by model name."""
    return {version.name: version.seen_in_training for version in ModelVersion.objects.all()}


def summary(reports: list[EvaluationReport], seen: dict[str, list[str]]) -> str:
    """One line per benchmark and method: the mean PSNR and SSIM, and seconds per megapixel
    for the models; a model that was trained on the benchmark is marked so."""
    lines = [f"{'benchmark':12} {'method':28} {'PSNR':>6} {'SSIM':>7} {'s/MP':>7}"]
    for folder in dict.fromkeys(report.bench_dir for report in reports):
        of_folder = [report for report in reports if report.bench_dir == folder]
        first = of_folder[0].mean
        rows = [("input", first.input, None), ("baseline", first.baseline, None)]
        for report in of_folder:
            if report.model is not None:
                marker = " (seen in training)" if folder.name in seen.get(report.model, []) else ""
                rows.append((f"{report.model}{marker}", report.mean.model, report.seconds_per_megapixel))
        for method, score, speed in rows:
            speed_cell = f"{speed:7.2f}" if speed is not None else ""
            lines.append(f"{folder.name:12} {method:28} {score.psnr:6.2f} {score.ssim:7.4f} {speed_cell}".rstrip())
    return "\n".join(lines)
