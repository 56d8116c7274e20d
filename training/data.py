"""Training data: sharp photos -> (blurred, sharp) patch pairs, as a tf.data pipeline.

Every pair is a pure function of (seed, index): the photo, scale, crop, flips and
the degradation all come from a generator seeded with both. A stream restarted
at any index is therefore the same stream, which is what resuming a killed
training run needs."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps

from inference.images import encode_png
from training.degrade import DEFAULT, DegradeSettings, degrade

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"}
# Long sides the photos are resampled to. GoPro frames are 1280x720, so most patches
# come from photos of about that scale; larger scales add finer texture.
SCALES = (1280, 1920, 2560)


def list_photos(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def _holdout_rank(photo: Path, seed: int) -> str:
    # By a hash of the name, so adding photos never moves an existing one across the split.
    return hashlib.sha256(f"{seed}:{photo.name}".encode()).hexdigest()


def split_holdout(photos: list[Path], n_holdout: int = 4, seed: int = 0) -> tuple[list[Path], list[Path]]:
    """(training, held-out): the held-out photos never reach training."""
    ranked = sorted(photos, key=lambda p: _holdout_rank(p, seed))
    holdout = set(ranked[:n_holdout])
    return [p for p in photos if p not in holdout], [p for p in photos if p in holdout]


def load_photo(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def resize_long_side(image: Image.Image, long_side: int) -> np.ndarray:
    """The photo as an array, shrunk to `long_side` pixels on its long side; never enlarged,
    as upscaling would make blur of its own."""
    scale = long_side / max(image.size)
    if scale >= 1:
        return np.asarray(image)
    size = (round(image.width * scale), round(image.height * scale))
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS))


@dataclass
class PhotoBank:
    """The photos, decoded once, at each scale in SCALES (never upscaled)."""

    paths: list[Path]
    images: list[np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        if not self.paths:
            raise ValueError("No photos to train on.")
        self.images = []
        for path in self.paths:
            photo = load_photo(path)
            self.images += [resize_long_side(photo, side) for side in SCALES]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.paths]


def _texture(window: np.ndarray) -> float:
    grey = window.astype(np.float32).mean(axis=2)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


def _crop(bank: PhotoBank, rng: np.random.Generator, size: int, tries: int = 4) -> np.ndarray:
    """A random size x size window of a random photo at a random scale, flipped and
    rotated at random. Photos are drawn in proportion to their area. Flat windows
    (sky, night) teach nothing about blur, so the most textured of a few is kept."""
    areas = np.array([img.shape[0] * img.shape[1] for img in bank.images], dtype=np.float64)
    usable = np.array([min(img.shape[:2]) >= size for img in bank.images])
    weights = areas * usable
    candidates = []
    for _ in range(tries):
        image = bank.images[rng.choice(len(bank.images), p=weights / weights.sum())]
        top = rng.integers(0, image.shape[0] - size + 1)
        left = rng.integers(0, image.shape[1] - size + 1)
        candidates.append(image[top : top + size, left : left + size])
    window = max(candidates, key=_texture)
    window = np.rot90(window, k=rng.integers(4))
    if rng.random() < 0.5:
        window = window[:, ::-1]
    return np.ascontiguousarray(window)


def make_pair(
    bank: PhotoBank, seed: int, index: int, patch: int, settings: DegradeSettings = DEFAULT
) -> tuple[np.ndarray, np.ndarray]:
    """The index-th (blurred, sharp) uint8 pair of the stream of this seed."""
    rng = np.random.default_rng([seed, index])
    margin = settings.max_kernel // 2
    window = _crop(bank, rng, patch + 2 * margin)
    blurred = degrade(window, rng, settings, margin=margin)
    return blurred, window[margin : margin + patch, margin : margin + patch]


def training_dataset(
    bank: PhotoBank,
    *,
    patch: int,
    batch: int,
    seed: int,
    start_step: int = 0,
    settings: DegradeSettings = DEFAULT,
) -> tf.data.Dataset:
    """An endless stream of (blurred, sharp) float32 batches in [0, 1]; batch k of a
    stream started at start_step is batch start_step + k of a stream started at 0."""

    def pair(index: np.int64) -> tuple[np.ndarray, np.ndarray]:
        return make_pair(bank, seed, int(index), patch, settings)

    def load(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        blurred, sharp = tf.numpy_function(pair, [index], [tf.uint8, tf.uint8])
        blurred.set_shape((patch, patch, 3))
        sharp.set_shape((patch, patch, 3))
        return blurred, sharp

    def to_float(blurred: tf.Tensor, sharp: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.cast(blurred, tf.float32) / 255.0, tf.cast(sharp, tf.float32) / 255.0

    return (
        tf.data.Dataset.range(start_step * batch, np.iinfo(np.int64).max)
        .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(batch, drop_remainder=True)
        .map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def validation_pairs(
    bank: PhotoBank, *, patch: int = 192, count: int = 8, seed: int = 1, settings: DegradeSettings = DEFAULT
) -> tuple[np.ndarray, np.ndarray]:
    """A fixed set of uint8 (N, P, P, 3) blurred and sharp patches for validation
    during training."""
    pairs = [make_pair(bank, seed, i, patch, settings) for i in range(count)]
    return np.stack([b for b, _ in pairs]), np.stack([s for _, s in pairs])


HOLDOUT_SEED = 2024


def holdout_images(bank: PhotoBank, per_photo: int = 3, long_side: int = 1280) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """The synthetic held-out benchmark: each held-out photo at GoPro's scale, degraded
    `per_photo` times with fixed seeds. Yields (name, blurred, sharp)."""
    margin = DEFAULT.max_kernel // 2
    for photo_index, path in enumerate(bank.paths):
        sharp_full = resize_long_side(load_photo(path), long_side + 2 * margin)
        for k in range(per_photo):
            rng = np.random.default_rng([HOLDOUT_SEED, photo_index, k])
            blurred = degrade(sharp_full, rng, margin=margin)
            sharp = sharp_full[margin:-margin, margin:-margin]
            yield f"{path.stem}_{k}", blurred, sharp


def write_holdout(bank: PhotoBank, out: Path) -> list[str]:
    """Write the held-out benchmark as out/blur/*.png + out/sharp/*.png (the layout
    `manage.py evaluate` reads) and a manifest naming the source photos."""
    (out / "blur").mkdir(parents=True, exist_ok=True)
    (out / "sharp").mkdir(parents=True, exist_ok=True)
    names = []
    for name, blurred, sharp in holdout_images(bank):
        (out / "blur" / f"{name}.png").write_bytes(encode_png(Image.fromarray(blurred)))
        (out / "sharp" / f"{name}.png").write_bytes(encode_png(Image.fromarray(sharp)))
        names.append(name)
    manifest = {"photos": bank.names, "seed": HOLDOUT_SEED, "pairs": names}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return names
