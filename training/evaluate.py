"""Scoring on a benchmark folder: `blur/` and `sharp/` holding pairs under the same file name.

Every pair is scored for the blurred input itself, the classical baseline and, when one
is given, a method: a function that restores a photo (`Method`), or a Keras model, run
through the inference engine at full resolution. All with inference.metrics, the project's
one definition of PSNR and SSIM.

Two benchmarks are scored as the literature scores them (../shared/benchmarks/README.md):
kohler (a folder with a `shifts.tsv`) and levin (a folder of greyscale pairs) have sharp
frames that are not pixel-aligned with the blurred ones, so every image scored, the input and
each method's output alike, is aligned with its sharp frame on its own
(inference.metrics.aligned) and a border cropped. Greyscale pairs are scored on grey values,
a method's colour output turned to grey first. Any other folder is scored as it is.
"""

import csv
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from PIL import Image, ImageOps

from inference import auto, engine, metrics
from training import baseline

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}

# Gets the images done so far, fractional while a Keras model works through an image's
# tiles, and the number of pairs.
Progress = Callable[[float, int], None]

# A method to score: restores a uint8 RGB photo (H, W, 3) into one of the same shape.
Method = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Score:
    psnr: float
    ssim: float
    seconds: float | None = None  # None for the input, which costs nothing


@dataclass(frozen=True)
class ImageScores:
    name: str
    input: Score
    baseline: Score
    model: Score | None
    megapixels: float = 0.0

    def scores(self) -> list[tuple[str, Score]]:
        """(method, score) for the input, the baseline and the model if there is one."""
        scores = [("input", self.input), ("baseline", self.baseline)]
        return scores if self.model is None else [*scores, ("model", self.model)]

    def row(self) -> dict[str, str | float]:
        """A flat record, for CSV and JSON."""
        row: dict[str, str | float] = {"image": self.name}
        for method, score in self.scores():
            row[f"{method}_psnr"] = score.psnr
            row[f"{method}_ssim"] = score.ssim
            if score.seconds is not None:
                row[f"{method}_seconds"] = score.seconds
        return row


def _mean_score(scores: list[Score]) -> Score:
    seconds = [score.seconds for score in scores if score.seconds is not None]
    return Score(
        psnr=statistics.fmean(score.psnr for score in scores),
        ssim=statistics.fmean(score.ssim for score in scores),
        seconds=statistics.fmean(seconds) if seconds else None,
    )


# Column headings line up with _cell's figures.
_HEADING = "  PSNR   SSIM"
_TIMED_HEADING = "  PSNR   SSIM  seconds"


def _cell(score: Score) -> str:
    cell = f"{score.psnr:6.2f} {score.ssim:6.4f}"
    return cell if score.seconds is None else f"{cell} {score.seconds:8.3f}"


@dataclass(frozen=True)
class EvaluationReport:
    bench_dir: Path
    model: str | None  # what the model column is, None when there is none
    tile: int
    images: list[ImageScores]
    unmatched: list[str]  # files, as blur/NAME or sharp/NAME, that have no counterpart

    @property
    def mean(self) -> ImageScores:
        """The mean of each figure over the images (PSNR averaged in dB, per image)."""
        models = [image.model for image in self.images if image.model is not None]
        return ImageScores(
            name="mean",
            input=_mean_score([image.input for image in self.images]),
            baseline=_mean_score([image.baseline for image in self.images]),
            model=_mean_score(models) if models else None,
        )

    def table(self) -> str:
        """A text table: a line per image, a rule, then the mean line."""
        rows = [*self.images, self.mean]
        width = max(len(image.name) for image in rows)
        first = self.images[0].scores()
        methods = "  ".join(method.ljust(len(_cell(score))) for method, score in first)
        columns = "  ".join(_TIMED_HEADING if score.seconds is not None else _HEADING for _, score in first)
        lines = [f"{'':{width}}  {methods}".rstrip(), f"{'image':{width}}  {columns}"]
        for image in rows:
            lines.append(f"{image.name:{width}}  " + "  ".join(_cell(score) for _, score in image.scores()))
        lines.insert(-1, "-" * len(lines[1]))
        if self.unmatched:
            lines.append(f"Skipped, no counterpart: {', '.join(self.unmatched)}")
        return "\n".join(lines)

    def write_csv(self, path: Path) -> None:
        rows = [image.row() for image in [*self.images, self.mean]]
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    @property
    def seconds_per_megapixel(self) -> float | None:
        """The model's seconds over all images, per megapixel of them."""
        timed = [image for image in self.images if image.model is not None and image.model.seconds is not None]
        megapixels = sum(image.megapixels for image in timed)
        return sum(image.model.seconds for image in timed) / megapixels if timed and megapixels else None

    def as_dict(self) -> dict:
        return {
            "bench": str(self.bench_dir),
            "baseline": baseline.DESCRIPTION,
            "model": self.model,
            "tile": self.tile,
            "images": [image.row() for image in self.images],
            "mean": self.mean.row(),
            "seconds_per_megapixel": self.seconds_per_megapixel,
            "unmatched": self.unmatched,
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")


def find_pairs(bench_dir: Path) -> tuple[list[str], list[str]]:
    """The file names found in both blur/ and sharp/, and the files found in only one of
    them (as blur/NAME or sharp/NAME), both sorted."""
    names = {}
    for side in ("blur", "sharp"):
        folder = bench_dir / side
        if not folder.is_dir():
            raise ValueError(f"{bench_dir} has no {side}/ folder: a benchmark holds blur/ and sharp/.")
        names[side] = {path.name for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES}
    paired = sorted(names["blur"] & names["sharp"])
    if not paired:
        raise ValueError(f"{bench_dir}: no file name is in both blur/ and sharp/.")
    unmatched = sorted(
        [f"blur/{name}" for name in names["blur"] - names["sharp"]]
        + [f"sharp/{name}" for name in names["sharp"] - names["blur"]]
    )
    return paired, unmatched


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def is_grey(path: Path) -> bool:
    with Image.open(path) as image:
        return image.mode in ("L", "I;16", "1")


def grey(rgb: np.ndarray) -> np.ndarray:
    """The Rec. 601 grey of an RGB image, as a 2-D array."""
    return np.asarray(Image.fromarray(rgb).convert("L"))


@dataclass(frozen=True)
class Alignment:
    """Per-image alignment before scoring (inference.metrics.aligned): the search radius for
    the sharp frame's shift and the border then cropped from every image, in pixels."""

    radius: int
    border: int


# The literature's protocols for the two benchmarks (../shared/benchmarks/README.md).
KOHLER = Alignment(radius=12, border=16)
LEVIN = Alignment(radius=5, border=15)


def alignment(bench_dir: Path, names: list[str]) -> Alignment | None:
    """How a benchmark folder is aligned: kohler's layout (a `shifts.tsv`), levin's (every
    pair greyscale), or not at all (gopro-real and other folders of pairs made aligned).
    kohler's `shifts.tsv` only marks the layout: its offsets are the blurred frames', and
    each image scored finds its own."""
    if (bench_dir / "shifts.tsv").exists():
        return KOHLER
    if all(is_grey(bench_dir / "sharp" / name) for name in names):
        return LEVIN
    return None


def score_image(image: np.ndarray, sharp: np.ndarray, align: Alignment | None, seconds: float | None = None) -> Score:
    """PSNR and SSIM of an image against its sharp frame, aligned as the set is scored."""
    if align is None:
        return Score(metrics.psnr(image, sharp), metrics.ssim(image, sharp), seconds)
    scored = metrics.aligned(image, sharp, radius=align.radius, border=align.border)
    return Score(scored.psnr, scored.ssim, seconds)


def _timed(function: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


@dataclass(frozen=True)
class KerasMethod:
    """A Keras model as a method: run through the engine in tiles of `tile` pixels (None:
    what suits its architecture), reporting its progress through an image's tiles."""

    model: keras.Model
    tile: int | None = None

    @property
    def name(self) -> str:
        return self.model.name

    def __call__(self, rgb: np.ndarray, progress: Callable[[float], None] | None = None) -> np.ndarray:
        return engine.deblur(self.model, rgb, tile=self.tile, progress=progress)


def _restore(method: Method, rgb: np.ndarray, on_fraction: Callable[[float], None] | None) -> np.ndarray:
    """The method's result, checked; a Keras model reports its progress through the tiles."""
    restored = method(rgb, progress=on_fraction) if isinstance(method, KerasMethod) else method(rgb)
    restored = np.asarray(restored)
    if restored.dtype != np.uint8 or restored.shape != rgb.shape:
        raise ValueError(
            f"The method returned {restored.dtype} {restored.shape} for a uint8 photo of shape {rgb.shape}."
        )
    return restored


def choice_method(choice: str, tile: int | None = None, outcomes: list | None = None) -> Method:
    """A photo restored as a choice restores it on the site (inference.auto), gate and all:
    Camera shake by the kernel engine, Auto by what it decides per photo, Best quality and
    Fast by the network serving them (NoModelInstalled from the first photo that needs one).
    Each photo's Outcome is appended to `outcomes` when given."""

    def load(key: str) -> tuple[auto.Network, str]:
        version = engine.serving_version(key)
        model = engine.load_version(version)
        return (lambda rgb, progress: engine.deblur(model, rgb, tile=tile, progress=progress)), version.name

    def restore(rgb: np.ndarray) -> np.ndarray:
        outcome = auto.restore(choice, rgb, load)
        if outcomes is not None:
            outcomes.append(outcome)
        return outcome.output

    restore.__name__ = choice
    return restore


def evaluate(
    bench_dir: Path,
    method: keras.Model | Method | None,
    *,
    tile: int | None = None,
    progress: Progress | None = None,
    model_label: str | None = None,
) -> EvaluationReport:
    """Score every pair of `bench_dir` for the input, the baseline and `method` if given: a
    function from a uint8 RGB photo to its restoration, or a Keras model (run through the
    engine in tiles of `tile` pixels). `model_label` names the method's column (default: the
    model's architecture, or the function's name). A Keras model runs once on the first
    image before anything is timed, so that building its graph is not counted. A ValueError
    when the folder is not a benchmark, a pair differs in size or the method returns
    something other than a photo of its input's shape."""
    names, unmatched = find_pairs(bench_dir)
    if isinstance(method, keras.Model):
        method = KerasMethod(method, tile)
    align = alignment(bench_dir, names)
    if progress is not None:
        progress(0, len(names))
    images = []
    for index, name in enumerate(names):
        blurred, sharp = read_rgb(bench_dir / "blur" / name), read_rgb(bench_dir / "sharp" / name)
        if blurred.shape != sharp.shape:
            raise ValueError(
                f"{name}: blur/ is {blurred.shape[1]}x{blurred.shape[0]} pixels "
                f"but sharp/ is {sharp.shape[1]}x{sharp.shape[0]}."
            )
        grey_pair = is_grey(bench_dir / "sharp" / name)
        target = grey(sharp) if grey_pair else sharp

        def score(image: np.ndarray, seconds: float | None = None) -> Score:
            return score_image(grey(image) if grey_pair else image, target, align, seconds)

        sharpened, baseline_seconds = _timed(lambda: baseline.unsharp_mask(blurred))
        method_score = None
        if method is not None:
            if index == 0 and isinstance(method, KerasMethod):
                method(blurred)
            on_tile = None if progress is None else lambda fraction: progress(index + fraction, len(names))
            restored, method_seconds = _timed(lambda: _restore(method, blurred, on_tile))
            method_score = score(restored, method_seconds)
        megapixels = blurred.shape[0] * blurred.shape[1] / 1e6
        images.append(ImageScores(name, score(blurred), score(sharpened, baseline_seconds), method_score, megapixels))
        if progress is not None:
            progress(index + 1, len(names))
    label = None
    if method is not None:
        label = model_label or getattr(method, "name", None) or getattr(method, "__name__", "method")
    return EvaluationReport(bench_dir, label, tile, images, unmatched)
