"""The no-reference blur figure, checked on real blur: GoPro's frames averaged from a
240 fps video (../shared/benchmarks/gopro-real). A figure users read as "did it get
sharper" must rank each sharp frame above its blurred one, and must not take sensor
noise for detail, as the Laplacian variance it replaced did."""

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from inference.metrics import blur


def _pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    folder = Path(settings.BENCHMARKS_DIR) / "gopro-real"
    names = sorted(path.name for path in (folder / "blur").glob("*.png"))
    return [tuple(np.asarray(Image.open(folder / side / name).convert("RGB")) for side in ("blur", "sharp")) for name in names]


@pytest.fixture(scope="module")
def gopro_real() -> list[tuple[np.ndarray, np.ndarray]]:
    pairs = _pairs()
    assert len(pairs) == 30, f"gopro-real should hold 30 pairs under {settings.BENCHMARKS_DIR}"
    return pairs


def _with_noise(image: np.ndarray, level: float, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, level, image.shape)
    return np.clip(image + noise, 0, 255).round().astype(np.uint8)


def test_the_sharp_frame_is_ranked_sharper_in_29_of_30_real_pairs(gopro_real):
    figures = [(blur(blurred), blur(sharp)) for blurred, sharp in gopro_real]

    assert sum(sharp < blurred for blurred, sharp in figures) >= 29, figures


def test_noise_is_not_taken_for_sharpness(gopro_real):
    """Noise of 4 grey levels on the blurred frame (a phone at dusk): the figure must still
    say the sharp frame is sharper, and move by well under the blur's own gap."""
    ranked, shifts = 0, []
    for seed, (blurred, sharp) in enumerate(gopro_real[::3]):
        before, after, noisy = blur(blurred), blur(sharp), blur(_with_noise(blurred, 4.0, seed))
        ranked += after < noisy
        shifts.append((before - noisy) / (before - after))

    assert ranked == len(shifts)
    assert np.median(shifts) < 0.35, shifts
