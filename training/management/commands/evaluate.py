from pathlib import Path

import keras
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inference.engine import OVERLAP, TILE, NoModelInstalled, load_version, serving_version
from inference.registry import resolve_model
from training.datasets import DatasetUnusable, benchmark_folder
from training.evaluate import evaluate


class Command(BaseCommand):
    help = (
        "Score the input, the classical baseline and a model on a benchmark folder (blur/ and sharp/ "
        "with matching file names): PSNR, SSIM and seconds per image, and their means."
    )

    def add_arguments(self, parser) -> None:
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("bench_dir", nargs="?", help="a folder holding blur/ and sharp/")
        where.add_argument("--dataset", help="a paired dataset ingested with import_pairs")
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--model",
            help="a registered model's name, a .keras file, or a choice: best or fast (default: the model serving best)",
        )
        which.add_argument("--no-model", action="store_true", help="score the input and the baseline only")
        parser.add_argument("--tile", type=int, default=TILE, help=f"tile size in pixels (default {TILE})")
        parser.add_argument("--csv", help="also write the figures to this CSV file")
        parser.add_argument("--json", help="also write the figures to this JSON file")

    def handle(self, *args, bench_dir: str | None, model: str | None, no_model: bool, tile: int, **options) -> None:
        if options["dataset"]:
            try:
                bench_dir = benchmark_folder(options["dataset"])
            except DatasetUnusable as exc:
                raise CommandError(str(exc)) from exc
        if tile <= 2 * OVERLAP:
            raise CommandError(f"--tile must be more than {2 * OVERLAP} pixels.")
        generator, label = (None, None) if no_model else self.choose_model(model)

        bar_format = "{l_bar}{bar}| {n:.1f}/{total} images [{elapsed}<{remaining}]"
        with tqdm(bar_format=bar_format) as bar:

            def progress(done: float, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                report = evaluate(Path(bench_dir), generator, tile=tile, progress=progress, model_label=label)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc

        if report.model:
            self.stdout.write(f"Model: {report.model}")
        self.stdout.write(report.table())
        for path, write in ((options["csv"], report.write_csv), (options["json"], report.write_json)):
            if path:
                write(Path(path))
                self.stdout.write(f"Wrote {path}")

    def choose_model(self, name_or_path: str | None) -> tuple[keras.Model | None, str | None]:
        """The model and its name; none, with the reason printed, when no model is installed."""
        try:
            if name_or_path is None:
                version = serving_version("best")
                return load_version(version), version.name
            return resolve_model(name_or_path), name_or_path
        except NoModelInstalled as exc:
            self.stdout.write(f"{exc} Scoring the input and the baseline only.")
            return None, None
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
