from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from PIL import Image, ImageOps
from pillow_heif import register_heif_opener
from tqdm import tqdm

from inference import auto
from inference.models import Choice, Method, ServingChoice, Verdict

register_heif_opener()

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".heic", ".heif"}


def find_images(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise CommandError(f"{source} does not exist.")
    images = sorted(path for path in source.iterdir() if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise CommandError(f"{source} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}).")
    stems = [path.stem for path in images]
    clashes = sorted({stem for stem in stems if stems.count(stem) > 1})
    if clashes:
        raise CommandError(f"Several images would be written to the same file: {', '.join(clashes)}.png.")
    return images


def check_database() -> None:
    """Choices and registered models are rows in the database: on a fresh checkout, say how
    to set it up rather than fail on a missing table."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError("The database is not set up: run `make run` once, or `python manage.py migrate`.")


class NoNetwork(Exception):
    """A photo needed a network (Auto's fallback) and no model serves Best quality."""


class Networks:
    """The networks a run uses, each loaded once: the models serving the learned choices,
    or the one model named on the command line (a registered name or a .keras file).
    TensorFlow is loaded only when a network is first needed: Camera shake never needs one."""

    def __init__(self, name_or_path: str, tile: int | None) -> None:
        self.name_or_path, self.tile = name_or_path, tile
        self.loaded: dict[str, tuple[auto.Network, str]] = {}

    def _model(self, key: str):
        """The Keras model for a learned choice's key or for the name given, and its name."""
        from inference import engine
        from inference.registry import resolve_model

        try:
            if key in ServingChoice.Key.values:
                version = engine.serving_version(key)
                return engine.load_version(version), version.name
            model = resolve_model(self.name_or_path)
            return model, Path(self.name_or_path).stem if self.name_or_path.endswith(".keras") else self.name_or_path
        except engine.NoModelInstalled as exc:
            raise NoNetwork(str(exc)) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    def __call__(self, key: str) -> tuple[auto.Network, str]:
        if key not in self.loaded:
            from inference.engine import deblur, tiling

            model, name = self._model(key)
            overlap = tiling(model)[1]
            if self.tile is not None and self.tile <= 2 * overlap:
                raise CommandError(f"--tile must be more than {2 * overlap} pixels for this model.")
            network = lambda rgb, progress, model=model: deblur(model, rgb, tile=self.tile, progress=progress)  # noqa: E731
            self.loaded[key] = (network, name)
        return self.loaded[key]


def decode(path: Path) -> tuple[np.ndarray, Image.Image | None]:
    """The upright RGB pixels of an image file, and its alpha channel if it has one."""
    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image)
        alpha = upright.convert("RGBA").getchannel("A") if upright.has_transparency_data else None
        return np.asarray(upright.convert("RGB")), alpha


def verdict_line(name: str, outcome: auto.Outcome) -> str:
    """'cat.jpg: Sharper (kernel estimation and deconvolution: kernel-engine). Undid ...'"""
    made_by = Method(outcome.method).label.lower() + (f": {outcome.model_name}" if outcome.model_name else "")
    return f"{name}: {Verdict(outcome.verdict).label} ({made_by}). {outcome.reason}"


class Command(BaseCommand):
    help = (
        "Deblur photos: writes <stem>.png into --out for each image given or in the folder given, "
        "and says for each how it went (sharper, little change, or not improved) and why."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("input", help="an image file, or a folder of images")
        parser.add_argument("--out", required=True, help="the folder for the results")
        parser.add_argument(
            "--model",
            default=Choice.AUTO,
            help="a choice: auto (decides per photo; the default), best, fast or shake (the kernel engine); "
            "or a registered model's name, or a .keras file",
        )
        parser.add_argument("--tile", type=int, help="a network's tile size in pixels (default: what suits its architecture)")

    def handle(self, *args, input: str, out: str, model: str, tile: int | None, **options) -> None:
        images = find_images(Path(input))
        if not model.endswith(".keras") and model != Choice.SHAKE:
            check_database()
        networks = Networks(model, tile)
        restore = self._restorer(model, networks)
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)

        skipped = failed = 0
        # One unit per image, advanced as the work on it goes.
        bar_format = "{l_bar}{bar}| {n:.1f}/{total} images [{elapsed}<{remaining}]"
        with tqdm(total=len(images), bar_format=bar_format) as bar:
            for done, path in enumerate(images):
                try:
                    rgb, alpha = decode(path)
                except (OSError, ValueError, Image.DecompressionBombError) as exc:
                    skipped += 1
                    with tqdm.external_write_mode():
                        self.stderr.write(f"Skipped {path}: not a readable image ({exc}).")
                    bar.update(done + 1 - bar.n)
                    continue
                try:
                    outcome = restore(rgb, lambda fraction: bar.update(max(0.0, done + fraction - bar.n)))
                except NoNetwork as exc:
                    failed += 1
                    with tqdm.external_write_mode():
                        self.stderr.write(f"Not deblurred {path}: Auto needed a network for it. {exc}")
                    bar.update(done + 1 - bar.n)
                    continue
                result = Image.fromarray(outcome.output)
                if alpha is not None:
                    result.putalpha(alpha)
                result.save(out_dir / f"{path.stem}.png")
                with tqdm.external_write_mode():
                    self.stdout.write(verdict_line(path.name, outcome))
                bar.update(done + 1 - bar.n)

        written = len(images) - skipped - failed
        self.stdout.write(f"Wrote {written} image{'s' if written != 1 else ''} to {out_dir}.")
        if skipped:
            raise CommandError(f"{skipped} of {len(images)} images could not be read.")
        if failed:
            raise CommandError(f"{failed} of {len(images)} images needed a network that no model serves.")

    @staticmethod
    def _restorer(model: str, networks: Networks) -> Callable[[np.ndarray, Callable[[float], None]], auto.Outcome]:
        """How each photo is deblurred: as a choice says (inference.auto), or by the one
        network named. A learned choice's or a named model is loaded before the first photo,
        so that a missing one is said at once."""
        if model in Choice.values:
            if model in ServingChoice.Key.values:
                try:
                    networks(model)
                except NoNetwork as exc:
                    raise CommandError(str(exc)) from exc
            return lambda rgb, progress: auto.restore(model, rgb, networks, progress)
        networks(model)
        return lambda rgb, progress: auto.run_network(rgb, model, networks, progress)
