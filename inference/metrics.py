"""Image quality figures, one definition for the whole project (DESIGN.md section 7).

All of them take uint8 RGB arrays of shape (H, W, 3) and work through horizontal strips,
so a 40-megapixel photo never needs more than a few strips of float64 at once. The strips
overlap by what each filter reaches, which makes the result exact, not an approximation.
"""

import math
from collections.abc import Iterator

import numpy as np
from scipy import ndimage
from skimage.measure import blur_effect

STRIP_ROWS = 128
DATA_RANGE = 255.0

# The SSIM window: Gaussian, sigma 1.5, truncated at 3.5 sigma = radius 5, so 11x11.
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5
SSIM_RADIUS = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)
SSIM_C1 = (0.01 * DATA_RANGE) ** 2
SSIM_C2 = (0.03 * DATA_RANGE) ** 2

# Rec. 601 luma weights, the usual definition of "grey" for 8-bit photos.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])

# The blur figure is measured on at most this many pixels (after block averaging).
MEASURE_PIXELS = 4_000_000
# scikit-image's blur effect filters over 11 pixels; below this the figure means nothing.
BLUR_MIN_SIDE = 16


def _check_rgb(image: np.ndarray) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"Expected a uint8 RGB array of shape (H, W, 3), got {image.dtype} {image.shape}.")


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    _check_rgb(a)
    _check_rgb(b)
    if a.shape != b.shape:
        raise ValueError(f"The images differ in size: {a.shape} and {b.shape}.")


def _bands(start: int, stop: int, rows: int) -> Iterator[tuple[int, int]]:
    """[top, bottom) row ranges of at most `rows` rows that cover [start, stop)."""
    for top in range(start, stop, rows):
        yield top, min(top + rows, stop)


def psnr(a: np.ndarray, b: np.ndarray, *, strip_rows: int = STRIP_ROWS) -> float:
    """Peak signal-to-noise ratio in dB over all RGB values, data range 255; inf when the
    images are identical."""
    _check_pair(a, b)
    squared_error = 0.0
    for top, bottom in _bands(0, a.shape[0], strip_rows):
        diff = a[top:bottom].astype(np.float64) - b[top:bottom]
        squared_error += float(np.sum(diff * diff))
    if squared_error == 0.0:
        return float("inf")
    mse = squared_error / a.size
    return float(10.0 * np.log10(DATA_RANGE**2 / mse))


def _gaussian(x: np.ndarray) -> np.ndarray:
    return ndimage.gaussian_filter(x, sigma=SSIM_SIGMA, truncate=SSIM_TRUNCATE, mode="reflect")


def _ssim_map(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Wang et al.'s SSIM at every pixel of one channel, with population (co)variances."""
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    mu_x, mu_y = _gaussian(x), _gaussian(y)
    var_x = _gaussian(x * x) - mu_x * mu_x
    var_y = _gaussian(y * y) - mu_y * mu_y
    cov = _gaussian(x * y) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + SSIM_C1) * (2 * cov + SSIM_C2)
    denominator = (mu_x * mu_x + mu_y * mu_y + SSIM_C1) * (var_x + var_y + SSIM_C2)
    return numerator / denominator


def ssim(a: np.ndarray, b: np.ndarray, *, strip_rows: int = STRIP_ROWS) -> float:
    """Mean structural similarity: 11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03,
    data range 255, per channel then averaged. As scikit-image, the mean leaves out the
    5-pixel border where the window would leave the image; that also makes the strips
    exact, since every kept pixel's window lies inside its strip."""
    _check_pair(a, b)
    height, width, channels = a.shape
    r = SSIM_RADIUS
    if min(height, width) < 2 * r + 1:
        raise ValueError(f"SSIM needs images of at least {2 * r + 1}x{2 * r + 1} pixels, got {width}x{height}.")
    total = 0.0
    for top, bottom in _bands(r, height - r, strip_rows):
        rows = slice(top - r, bottom + r)
        for channel in range(channels):
            ssim_map = _ssim_map(a[rows, :, channel], b[rows, :, channel])
            total += float(np.sum(ssim_map[r:-r, r:-r]))
    return total / (channels * (height - 2 * r) * (width - 2 * r))


def blur(a: np.ndarray) -> float:
    """No-reference blur, from 0 (sharp) to 1 (blurred): Crete-Roffet et al.'s "blur
    effect" (2007) as scikit-image computes it, on the luminance averaged over 2x2 blocks.

    The blur effect compares each edge with its own re-blurred copy: a sharp edge loses much
    of its gradient when blurred again, a blurred one little. Averaging 2x2 blocks first
    halves sensor noise, which otherwise reads as detail: with it, noise of 4 grey levels
    moves the figure by a fifth of the gap between a gopro-real blurred frame and its sharp
    one, against most of the gap without. Photos above MEASURE_PIXELS are averaged over
    larger blocks, so memory stays bounded; compare versions of one photo, at one size.
    Validated in inference/tests/test_blur_metric.py on real pairs.
    """
    _check_rgb(a)
    height, width = a.shape[:2]
    factor = max(2, math.ceil(math.sqrt(height * width / MEASURE_PIXELS)))
    rows, columns = height // factor, width // factor
    if min(rows, columns) < BLUR_MIN_SIDE:
        raise ValueError(f"The blur figure needs images of at least {BLUR_MIN_SIDE * factor} pixels a side.")
    luminance = np.empty((rows, columns), np.float32)
    # Strips of whole blocks, so no float copy of the full-size photo is ever made.
    for top, bottom in _bands(0, rows, max(1, STRIP_ROWS // factor)):
        strip = a[top * factor : bottom * factor, : columns * factor].astype(np.float32) @ LUMA_WEIGHTS.astype(np.float32)
        luminance[top:bottom] = strip.reshape(bottom - top, factor, columns, factor).mean(axis=(1, 3)) / DATA_RANGE
    return float(blur_effect(luminance))
