"""Image quality figures, one definition for the whole project (DESIGN.md section 7).

All of them take uint8 RGB arrays of shape (H, W, 3) and work through horizontal strips,
so a 40-megapixel photo never needs more than a few strips of float64 at once. The strips
overlap by what each filter reaches, which makes the result exact, not an approximation.
"""

from collections.abc import Iterator

import numpy as np
from scipy import ndimage

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


def sharpness(a: np.ndarray, *, strip_rows: int = STRIP_ROWS) -> float:
    """No-reference sharpness: the variance of the Laplacian of the luminance.

    Luminance is Rec. 601 luma on the 0-255 scale; the Laplacian is the 4-neighbour one
    (scipy.ndimage.laplace, mirrored at the edges), so the score is in grey levels squared
    per pixel^4. Blur removes the fine detail that the Laplacian responds to, so the score
    falls as blur grows. It only compares versions of the same photo at the same size:
    noise raises it, and so does downscaling.
    """
    _check_rgb(a)
    height = a.shape[0]
    count, total, total_squares = 0, 0.0, 0.0
    for top, bottom in _bands(0, height, strip_rows):
        # One extra row each side is all the 3x3 Laplacian reaches.
        start, stop = max(top - 1, 0), min(bottom + 1, height)
        luminance = a[start:stop].astype(np.float64) @ LUMA_WEIGHTS
        laplacian = ndimage.laplace(luminance, mode="reflect")[top - start : bottom - start]
        count += laplacian.size
        total += float(np.sum(laplacian))
        total_squares += float(np.sum(laplacian * laplacian))
    mean = total / count
    return total_squares / count - mean * mean
