from pathlib import Path

import keras
import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from PIL import Image, ImageOps
from pillow_heif import register_heif_opener
from tqdm import tqdm

from inference.engine import NoModelInstalled, deblur, tiling
from inference.registry import resolve_model

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


def choose_model(name_or_path: str | None) -> keras.Model:
    """The model serving a choice (best when None), a registered model by name, or a .keras file."""
    if not (name_or_path or "").endswith(".keras"):
        check_database()
    try:
        return resolve_model(name_or_path)
    except (NoModelInstalled, ValueError) as exc:
        raise CommandError(str(exc)) from exc


def decode(path: Path) -> tuple[np.ndarray, Image.Image | None]:
    """The upright RGB pixels of an image file, and its alpha channel if it has one."""
    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image)
        alpha = upright.convert("RGBA").getchannel("A") if upright.has_transparency_data else None
        return np.asarray(upright.convert("RGB")), alpha


class Command(BaseCommand):
    help = "Deblur photos: writes <stem>.png into --out for each image given or in the folder given."

    def add_arguments(self, parser) -> None:
        parser.add_argument("input", help="an image file, or a folder of images")
        parser.add_argument("--out", required=True, help="the folder for the results")
        parser.add_argument(
            "--model",
            help="a registered model's name, a .keras file, or a choice: best or fast (default: the model serving best)",
        )
        parser.add_argument("--tile", type=int, help="tile size in pixels (default: what suits the model's architecture)")

    def handle(self, *args, input: str, out: str, model: str | None, tile: int | None, **options) -> None:
        images = find_images(Path(input))
        generator = choose_model(model)
        overlap = tiling(generator)[1]
        if tile is not None and tile <= 2 * overlap:
            raise CommandError(f"--tile must be more than {2 * overlap} pixels for this model.")
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)

        skipped = 0
        # One unit per image, advanced tile by tile.
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
                restored = deblur(
                    generator, rgb, tile=tile, progress=lambda fraction: bar.update(done + fraction - bar.n)
                )
                result = Image.fromarray(restored)
                if alpha is not None:
                    result.putalpha(alpha)
                result.save(out_dir / f"{path.stem}.png")

        written = len(images) - skipped
        self.stdout.write(f"Wrote {written} image{'s' if written != 1 else ''} to {out_dir}.")
        if skipped:
            raise CommandError(f"{skipped} of {len(images)} images could not be read.")
