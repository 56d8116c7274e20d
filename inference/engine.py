"""The inference runtime: find and load the model, then run it tile by tile on photos of
any size with bounded memory."""

import functools
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from django.conf import settings

from inference import nets  # registers the custom layers that load_model needs
from inference.models import ModelVersion, NoModelInstalled, ServingChoice
from inference.precision import FLOAT32, gpu_capability, in_precision, resolve


TILE = 512
OVERLAP = 32
# A coarse-to-fine net needs large tiles and a wide overlap: its 1/4 scale sees a hundred
# pixels and more around each pixel. The U-Nets see little beyond a tile's edge.
TILING = {nets.SRN: (1024, 256)}


def tiling(model: keras.Model) -> tuple[int, int]:
    """The tile size and overlap that suit the model's architecture."""
    return TILING.get(model.name, (TILE, OVERLAP))


def load_model(path: str | os.PathLike, precision: str = FLOAT32) -> keras.Model:
    """The model in a `.keras` file, computing in `precision`, loaded once per process
    (reloaded if the file changes)."""
    path = Path(path).resolve()
    return _load_model(path, path.stat().st_mtime_ns, precision)


@functools.lru_cache(maxsize=4)
def _load_model(path: Path, mtime_ns: int, precision: str) -> keras.Model:
    # No compile: inference needs no optimizer, and XLA is several times slower on CPU.
    return in_precision(keras.models.load_model(path, compile=False), precision)


def serving_version(choice: str = ServingChoice.Key.BEST) -> ModelVersion:
    version = ModelVersion.serving(choice)
    if version is None:
        label = ServingChoice.Key(choice).label
        raise NoModelInstalled(
            f'No model serves "{label}" yet. An administrator must choose one before photos can be deblurred this way.'
        )
    return version


def precision_for(architecture: str) -> str:
    """The precision INFERENCE_PRECISION gives a network of this architecture on this worker's
    GPU, or its CPU."""
    return resolve(settings.INFERENCE_PRECISION, architecture, gpu=gpu_capability())


def load_version(version: ModelVersion) -> keras.Model:
    """The version's network, in the precision it gets on this CPU (precision_for)."""
    return load_model(local_file(version), precision_for(version.architecture))


def local_file(version: ModelVersion) -> Path:
    """The version's `.keras` file on this disk. Files in a storage without local paths (S3)
    are downloaded once into MODEL_CACHE_DIR."""
    try:
        return Path(version.file.path)
    except NotImplementedError:
        return _download(version)


def _download(version: ModelVersion) -> Path:
    # The primary key is in the name, so a version re-created under an old name is not
    # served from a stale copy.
    cache_dir = Path(settings.MODEL_CACHE_DIR)
    path = cache_dir / f"{version.name}-{version.pk}-{Path(version.file.name).name}"
    if path.exists():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Write aside then rename, so a worker never loads another worker's half-written copy.
    with tempfile.NamedTemporaryFile(dir=cache_dir, suffix=".part", delete=False) as part:
        with version.file.open("rb") as remote:
            shutil.copyfileobj(remote, part)
    os.replace(part.name, path)
    return path


def _tile_length(size: int, tile: int, overlap: int, multiple: int) -> int:
    """The tile length along an axis: as many tiles as `tile` would need, shrunk evenly to
    the shortest multiple of the net's that still covers the axis, so that pulling the
    last tile back to the edge does not compute a large overlap twice."""
    if size <= tile:
        return size
    count = math.ceil((size - overlap) / (tile - overlap))
    length = math.ceil((size + (count - 1) * overlap) / count)
    return min(tile, length + -length % multiple)


def _tile_starts(size: int, length: int, overlap: int) -> list[int]:
    """Starts of tiles of `length` that cover [0, size), neighbours sharing at least
    `overlap` pixels; the last tile is pulled back to end at the edge."""
    if size <= length:
        return [0]
    starts = list(range(0, size - length, length - overlap))
    return [*starts, size - length]


def _feather(start: int, length: int, size: int, overlap: int) -> np.ndarray:
    """Blending weights along one axis of a tile. Where a neighbour overlaps, the weight
    is zero on the outer quarter of the overlap, whose pixels saw a mirrored instead of
    the real surroundings, then ramps linearly to one, so seams blend away. At the image
    edges there is no neighbour and the weight stays one."""
    weights = np.ones(length, np.float32)
    if overlap == 0:
        return weights
    margin = overlap // 4
    ramp = np.clip((np.arange(overlap, dtype=np.float32) + 0.5 - margin) / (overlap - 2 * margin), 0.0, 1.0)
    if start > 0:
        weights[:overlap] = np.minimum(weights[:overlap], ramp)
    if start + length < size:
        weights[-overlap:] = np.minimum(weights[-overlap:], ramp[::-1])
    return weights


def _run_tile(model: keras.Model, tile: np.ndarray, multiple: int) -> np.ndarray:
    """The model's output for one uint8 tile, as float32 in [0, 1] of the tile's size. The
    tile is mirrored out to the net's multiple, and to at least two of them: DeblurGAN's
    mirror padding needs two pixels at its coarsest level."""
    height, width = tile.shape[:2]
    pad_height = max(-height % multiple, 2 * multiple - height)
    pad_width = max(-width % multiple, 2 * multiple - width)
    padded = np.pad(tile, ((0, pad_height), (0, pad_width), (0, 0)), mode="reflect")
    batch = padded[np.newaxis].astype(np.float32) / 255.0
    restored = model.predict_on_batch(batch)[0, :height, :width]
    return np.clip(restored, 0.0, 1.0)


@dataclass(frozen=True)
class _Grid:
    tile_height: int
    tile_width: int
    overlap: int
    multiple: int
    rows: list[int]
    columns: list[int]


def _grid(model: keras.Model, height: int, width: int, tile: int | None, overlap: int | None) -> _Grid:
    """The tiles an image of this size goes through the model in (deblur)."""
    default_tile, default_overlap = tiling(model)
    tile = tile or default_tile
    overlap = default_overlap if overlap is None else overlap
    if not 0 <= 2 * overlap < tile:
        raise ValueError(f"The overlap ({overlap}) must be under half the tile size ({tile}).")
    multiple = nets.size_multiple(model)
    tile_height = _tile_length(height, tile, overlap, multiple)
    tile_width = _tile_length(width, tile, overlap, multiple)
    rows, columns = _tile_starts(height, tile_height, overlap), _tile_starts(width, tile_width, overlap)
    return _Grid(tile_height, tile_width, overlap, multiple, rows, columns)


def tile_count(model: keras.Model, shape: tuple[int, ...], *, tile: int | None = None, overlap: int | None = None) -> int:
    """How many tiles deblur() runs for an image of this shape: its progress steps."""
    grid = _grid(model, shape[0], shape[1], tile, overlap)
    return len(grid.rows) * len(grid.columns)


def deblur(
    model: keras.Model,
    rgb: np.ndarray,
    *,
    tile: int | None = None,
    overlap: int | None = None,
    strength: float = 1.0,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Deblur a uint8 RGB image (H, W, 3) at full resolution; the result has the same shape.

    The image goes through the model in tiles of `tile` pixels that overlap by `overlap`
    pixels (by default what suits the architecture: `tiling`) and are blended with
    feathered weights. Every tile has the same shape, so the
    model is traced once per image size. Float memory is one row of tiles whatever the
    image size: a row's pixels are final as soon as the next row of tiles starts below
    them. `strength` blends with the input: 0 gives the input back, 1 the model's output.
    `progress` gets the fraction done after each tile.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"Expected a uint8 RGB array of shape (H, W, 3), got {rgb.dtype} {rgb.shape}.")
    height, width = rgb.shape[:2]
    grid = _grid(model, height, width, tile, overlap)
    tile_height, tile_width, overlap, multiple = grid.tile_height, grid.tile_width, grid.overlap, grid.multiple
    rows, columns = grid.rows, grid.columns

    result = np.empty_like(rgb)
    band = np.zeros((tile_height, width, 3), np.float32)
    band_weight = np.zeros((tile_height, width, 1), np.float32)
    done, total = 0, len(rows) * len(columns)
    for index, top in enumerate(rows):
        row_weight = _feather(top, tile_height, height, overlap)
        for left in columns:
            restored = _run_tile(model, rgb[top : top + tile_height, left : left + tile_width], multiple)
            weight = np.outer(row_weight, _feather(left, tile_width, width, overlap))[..., np.newaxis]
            band[:, left : left + tile_width] += restored * weight
            band_weight[:, left : left + tile_width] += weight
            done += 1
            if progress is not None:
                progress(done / total)

        bottom = rows[index + 1] if index + 1 < len(rows) else height
        finished = bottom - top
        source = rgb[top:bottom].astype(np.float32)
        restored = band[:finished] / band_weight[:finished] * 255.0
        result[top:bottom] = np.clip(np.rint(source + strength * (restored - source)), 0, 255)
        # Slide the band down to the next row of tiles.
        band[:-finished], band[-finished:] = band[finished:], 0.0
        band_weight[:-finished], band_weight[-finished:] = band_weight[finished:], 0.0
    return result
