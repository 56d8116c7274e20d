"""Image quality figures, one definition for the whole project (DESIGN.md section 7).

All of them take uint8 RGB arrays of shape (H, W, 3) (PSNR and SSIM also grey ones of shape
(H, W)) and work through horizontal strips, so a 40-megapixel photo never needs more than a
few strips of float64 at once. The strips overlap by what each filter reaches, which makes
the result exact, not an approximation. `aligned` scores an image against a reference that
is not pixel-aligned with it, as the literature scores camera-shake benchmarks.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import fft, ndimage
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

# Alignment (`aligned`): the sub-pixel step, and how far around the best whole-pixel shift
# the refinement looks (half a pixel: beyond it, the next whole pixel would have been best).
ALIGN_STEP = 0.25
ALIGN_REFINE = 0.5
# The shift is searched on a central crop of the scored area at most this many pixels a
# side: a 12 MP photo is then searched in well under a second, and an 800x800 benchmark
# image whole. The figures are always computed on the whole image.
ALIGN_SEARCH_SIDE = 1024
# The cubic spline that moves an image is computed on pieces of it (the search crop, strips
# of rows), each with this many pixels more on every side: the spline's prefilter reaches
# far, but its weight falls by 0.268 a pixel, so 16 px make a piece's values those of the
# whole image to within 1e-6 of a grey level.
SPLINE_MARGIN = 16
# What ndimage.shift pads an image with, repeating its edge, before its spline prefilter in
# mode "nearest"; the pieces are padded so too, which makes their values at the image's
# edges the whole image's.
SPLINE_PAD = 12
# Rows of the moved reference made at once (float64 copies of a strip and its margins).
ALIGN_STRIP_ROWS = 512

# The blur figure is measured on at most this many pixels (after block averaging).
MEASURE_PIXELS = 4_000_000
# scikit-image's blur effect filters over 11 pixels; below this the figure means nothing.
BLUR_MIN_SIDE = 16


def _check_rgb(image: np.ndarray) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"Expected a uint8 RGB array of shape (H, W, 3), got {image.dtype} {image.shape}.")


def _check_image(image: np.ndarray) -> None:
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(
            "Expected a uint8 RGB array of shape (H, W, 3) or a grey one of shape (H, W), "
            f"got {image.dtype} {image.shape}."
        )


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    _check_image(a)
    _check_image(b)
    if a.shape != b.shape:
        raise ValueError(f"The images differ in size: {a.shape} and {b.shape}.")


def _bands(start: int, stop: int, rows: int) -> Iterator[tuple[int, int]]:
    """[top, bottom) row ranges of at most `rows` rows that cover [start, stop)."""
    for top in range(start, stop, rows):
        yield top, min(top + rows, stop)


def psnr(a: np.ndarray, b: np.ndarray, *, strip_rows: int = STRIP_ROWS) -> float:
    """Peak signal-to-noise ratio in dB over all RGB (or grey) values, data range 255; inf
    when the images are identical."""
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
    data range 255, per channel then averaged (one channel for grey images). As
    scikit-image, the mean leaves out the 5-pixel border where the window would leave the
    image; that also makes the strips exact, since every kept pixel's window lies inside
    its strip."""
    _check_pair(a, b)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
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


@dataclass(frozen=True)
class Aligned:
    """PSNR and SSIM of an image against its reference moved by `shift` (dy, dx, in pixels),
    the move that gives the image the highest PSNR, with a border cropped from both."""

    psnr: float
    ssim: float
    shift: tuple[float, float]


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma in float64 (a grey image as it is): what the alignment compares."""
    return image.astype(np.float64) if image.ndim == 2 else image @ LUMA_WEIGHTS


def _search_window(shape: tuple[int, ...], border: int) -> tuple[slice, slice]:
    """The central crop, at most ALIGN_SEARCH_SIDE a side, of what is scored: the image less
    `border` pixels on every side."""
    window = []
    for size in shape[:2]:
        side = min(size - 2 * border, ALIGN_SEARCH_SIDE)
        start = (size - side) // 2
        window.append(slice(start, start + side))
    return window[0], window[1]


def _integer_shift(image: np.ndarray, sharp: np.ndarray, window: tuple[slice, slice], radius: int) -> tuple[int, int]:
    """The whole-pixel (dy, dx) within `radius` that moves `sharp` closest to `image` over
    `window`, in squared error of the luminance. The error of every shift at once, through
    one FFT cross-correlation: |I - S_d|^2 = |I|^2 + |S_d|^2 - 2 I.S_d, where |I|^2 is the
    same for all."""
    rows, columns = window
    patch = luminance(image[rows, columns])
    mean = patch.mean()  # taken from both, so that the sums stay small and precise
    patch -= mean
    # Every sharp pixel that some shift brings into the window; past the image's edge, the
    # edge repeated, as a shift in mode "nearest" has it.
    region_rows = np.clip(np.arange(rows.start - radius, rows.stop + radius), 0, sharp.shape[0] - 1)
    region_columns = np.clip(np.arange(columns.start - radius, columns.stop + radius), 0, sharp.shape[1] - 1)
    region = luminance(sharp[region_rows][:, region_columns]) - mean
    # A circular correlation of the region's size wraps no product into the shifts kept.
    size = [fft.next_fast_len(side, real=True) for side in region.shape]
    cross = fft.irfft2(fft.rfft2(region, size) * np.conj(fft.rfft2(patch, size)), size)
    cross = cross[: 2 * radius + 1, : 2 * radius + 1]
    squares = np.pad(np.cumsum(np.cumsum(region * region, axis=0), axis=1), ((1, 0), (1, 0)))
    h, w = patch.shape
    window_squares = squares[h:, w:] - squares[:-h, w:] - squares[h:, :-w] + squares[:-h, :-w]
    # Index (u, v) of the error holds the shift (radius - u, radius - v).
    u, v = np.unravel_index(np.argmin(window_squares - 2 * cross), cross.shape)
    return radius - int(u), radius - int(v)


def _spline_coefficients(piece: np.ndarray) -> np.ndarray:
    """The cubic spline coefficients of a 2-D piece of an image, padded by SPLINE_PAD: as
    ndimage.shift computes them in mode "nearest"."""
    return ndimage.spline_filter(np.pad(piece, SPLINE_PAD, mode="edge"), 3, output=np.float64, mode="nearest")


def _cubic_weights(fraction: float) -> list[float]:
    """The cubic B-spline's weights on the four coefficients around a point `fraction` of the
    way from one pixel to the next (the one before, that pixel, the next, the one after)."""
    t = fraction
    return [(1 - t) ** 3 / 6, (4 - 6 * t**2 + 3 * t**3) / 6, (1 + 3 * t + 3 * t**2 - 3 * t**3) / 6, t**3 / 6]


def _spline_shift(coefficients: np.ndarray, axis: int, shift: float, start: int, stop: int) -> np.ndarray:
    """Positions [start, stop) along `axis`, counted in `coefficients`, of the spline moved by
    `shift`: each reads the spline at its position less `shift`, as ndimage.shift does, but
    along one axis, four taps, and only where asked."""
    whole = math.floor(-shift)
    taps = zip(range(-1, 3), _cubic_weights(-shift - whole), strict=True)
    return sum(
        weight * np.take(coefficients, np.arange(start + whole + tap, stop + whole + tap), axis=axis, mode="clip")
        for tap, weight in taps
    )


def _piece(size: int, span: slice, move: float, spread: float = 0.0) -> slice:
    """Along one axis of `size` pixels: what the positions `span` read when moved by `move`,
    give or take `spread`, with SPLINE_MARGIN more, cut at the image's edge."""
    reach = 2 + SPLINE_MARGIN  # a cubic spline reads 2 px around a point
    start = span.start - math.ceil(move + spread) - reach
    stop = span.stop - math.floor(move - spread) + reach
    return slice(max(0, start), min(size, stop))


def _refine(
    image: np.ndarray, sharp: np.ndarray, window: tuple[slice, slice], start: tuple[int, int], radius: int
) -> tuple[float, float]:
    """The shift within `radius`, in ALIGN_STEP steps within ALIGN_REFINE of `start`, that
    moves `sharp` (by a cubic spline, as the scoring does) closest to `image` over `window`,
    in squared error of the luminance."""
    rows, columns = window
    patch = luminance(image[rows, columns])
    piece = tuple(
        _piece(size, span, move, ALIGN_REFINE) for size, span, move in zip(sharp.shape[:2], window, start, strict=True)
    )
    coefficients = _spline_coefficients(luminance(sharp[piece]))
    top, left = rows.start - piece[0].start + SPLINE_PAD, columns.start - piece[1].start + SPLINE_PAD
    steps = np.arange(-ALIGN_REFINE, ALIGN_REFINE + ALIGN_STEP / 2, ALIGN_STEP)
    errors = {}
    # The spline is separable: each vertical shift once, then each horizontal one on that.
    for dy in [start[0] + float(step) for step in steps if abs(start[0] + step) <= radius]:
        moved_rows = _spline_shift(coefficients, 0, dy, top, top + patch.shape[0])
        for dx in [start[1] + float(step) for step in steps if abs(start[1] + step) <= radius]:
            moved = _spline_shift(moved_rows, 1, dx, left, left + patch.shape[1])
            errors[dy, dx] = float(np.sum((moved - patch) ** 2))
    # The least error, and of equal ones the shift nearest the whole-pixel one.
    return min(errors, key=lambda shift: (errors[shift], abs(shift[0] - start[0]) + abs(shift[1] - start[1])))


def shifted(image: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
    """`image` (uint8, RGB or grey) moved by `shift` (dy, dx) by a cubic spline, pixels past
    the edge repeating it, then rounded: ndimage.shift(..., order=3, mode="nearest") on each
    channel, but made through strips of rows (each with a margin for the spline's reach),
    so a large photo never needs a float64 copy of itself."""
    result = np.empty_like(image)
    height, width = image.shape[:2]
    channels = image[..., None] if image.ndim == 2 else image
    for top, bottom in _bands(0, height, ALIGN_STRIP_ROWS):
        rows = _piece(height, slice(top, bottom), shift[0])
        first = top - rows.start + SPLINE_PAD  # where the strip lies in the coefficients
        strip = np.empty((bottom - top, width, channels.shape[2]))
        for c in range(channels.shape[2]):
            coefficients = _spline_coefficients(channels[rows, :, c].astype(np.float64))
            moved_rows = _spline_shift(coefficients, 0, shift[0], first, first + bottom - top)
            strip[..., c] = _spline_shift(moved_rows, 1, shift[1], SPLINE_PAD, SPLINE_PAD + width)
        result[top:bottom] = np.clip(np.rint(strip), 0, 255).reshape(result[top:bottom].shape)
    return result


def aligned(image: np.ndarray, sharp: np.ndarray, *, radius: int, border: int) -> Aligned:
    """PSNR and SSIM of `image` against the reference `sharp` moved onto it, as the
    literature scores camera-shake benchmarks (Köhler et al. 2012, Levin et al. 2009;
    ../shared/benchmarks/README.md): the move of `sharp` within `radius` px that gives `image`
    the highest PSNR, searched on the luminance in whole pixels, then refined in 1/4 px
    steps; `sharp` moved so by a cubic spline and rounded to uint8 (`shifted`), and `border` px
    cropped from every side of both. Each image is aligned on its own: a method's output is
    not where its input was (a kernel method centres its kernel, a network may move edges).

    uint8 RGB (H, W, 3) or grey (H, W) images of one shape; the figures are then in RGB or
    grey. Large images are searched on a central crop (ALIGN_SEARCH_SIDE), scored whole."""
    _check_pair(image, sharp)
    if radius < 0 or border < 0:
        raise ValueError("The search radius and the border cannot be negative.")
    if min(image.shape[:2]) - 2 * border < 2 * SSIM_RADIUS + 1:
        size = f"{image.shape[1]}x{image.shape[0]}"
        raise ValueError(f"A {border} px border leaves too little of a {size} image to score.")
    window = _search_window(image.shape, border)
    shift = _refine(image, sharp, window, _integer_shift(image, sharp, window, radius), radius)
    crop = (slice(border, image.shape[0] - border), slice(border, image.shape[1] - border))
    reference = shifted(sharp, shift)[crop]
    return Aligned(psnr(image[crop], reference), ssim(image[crop], reference), shift)
