"""Convolution in the Fourier domain, the arithmetic that kernel estimation and
deconvolution share: optical transfer functions, gradients and their spectra, padding.

Everything is float32 and real-input FFTs, so that a 12 MP channel costs one 48 MB
spectrum rather than four times that."""

import os
from collections.abc import Callable, Iterable

import numpy as np
from scipy import fft


# The cores this process may use (a container's share, not the host's).
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
# FFTs of fewer pixels than this run on one core: splitting them costs more than it saves
# (measured on 2 cores: kernel estimation on a 320 px window 1.7x slower on both cores).
# The estimator's windows are far below it, a full-resolution channel far above.
THREADED_PIXELS = 1 << 20


def _workers(pixels: int) -> int:
    return CORES if pixels >= THREADED_PIXELS else 1


def rfft2(image: np.ndarray) -> np.ndarray:
    return fft.rfft2(image, workers=_workers(image.size))


def irfft2(spectrum: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return fft.irfft2(spectrum, s=shape, workers=_workers(shape[0] * shape[1])).astype(np.float32, copy=False)


def otf(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The kernel's transfer function on an image of `shape`: the kernel placed with its
    centre on the origin, so that filtering by it does not move the image."""
    padded = np.zeros(shape, np.float32)
    height, width = kernel.shape
    padded[:height, :width] = kernel
    padded = np.roll(padded, (-(height // 2), -(width // 2)), axis=(0, 1))
    return rfft2(padded)


def gradient_otfs(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Transfer functions of the forward differences along x and along y."""
    # Centred at the middle tap, [1, -1, 0] filters to image(x + 1) - image(x), as gradients does.
    return otf(np.array([[1, -1, 0]], np.float32), shape), otf(np.array([[1], [-1], [0]], np.float32), shape)


def gradients(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Circular forward differences, the same operator as gradient_otfs."""
    return np.roll(image, -1, axis=1) - image, np.roll(image, -1, axis=0) - image


def convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The image filtered by the centred kernel, with circular boundaries."""
    return irfft2(rfft2(image) * otf(kernel, image.shape), image.shape)


def fast_length(size: int) -> int:
    return fft.next_fast_len(size, real=True)


def pad_for(image: np.ndarray, margin: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The image mirrored out by at least `margin` on every side, to a size the FFT likes,
    and the offset of the image inside: a circular solver then sees mirrored surroundings
    rather than the opposite edge of the photo. Returns (padded, (top, left))."""
    height, width = image.shape
    padded_height, padded_width = fast_length(height + 2 * margin), fast_length(width + 2 * margin)
    top, left = (padded_height - height) // 2, (padded_width - width) // 2
    bottom, right = padded_height - height - top, padded_width - width - left
    return np.pad(image, ((top, bottom), (left, right)), mode="symmetric"), (top, left)


def taper(padded: np.ndarray, kernel: np.ndarray, offset: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """Blend the mirrored margin into its own blur by the kernel, more so away from the
    photo: the padded image then looks blurred by the kernel everywhere, also across the
    wrap-around, so the solver has no edge to ring at (the idea of MATLAB's edgetaper)."""
    top, left = offset
    height, width = shape
    blurred = convolve(padded, kernel)
    rows = _ramp(padded.shape[0], top, height)
    columns = _ramp(padded.shape[1], left, width)
    weight = np.minimum.outer(rows, columns)
    return weight * padded + (1 - weight) * blurred


def _ramp(length: int, start: int, size: int) -> np.ndarray:
    """1 over [start, start + size), falling linearly to 0 at the array's two ends."""
    positions = np.arange(length, dtype=np.float32)
    before = np.clip(positions / max(start, 1), 0, 1)
    after = np.clip((length - 1 - positions) / max(length - start - size, 1), 0, 1)
    return np.minimum(before, after).astype(np.float32)


# Given the image's gradients and the coupling beta, the auxiliary gradient field.
GradientStep = Callable[[np.ndarray, np.ndarray, float], tuple[np.ndarray, np.ndarray]]


def couplings(start: float, stop: float, factor: float) -> list[float]:
    """start, start * factor, ... up to stop."""
    betas = [start]
    while betas[-1] * factor <= stop:
        betas.append(betas[-1] * factor)
    return betas


def half_quadratic(
    image: np.ndarray, kernel: np.ndarray, data_weight: float, betas: Iterable[float], step: GradientStep
) -> np.ndarray:
    """min data_weight ||k * x - y||^2 + prior(grad x) by half-quadratic splitting: for each
    coupling beta, an auxiliary gradient field w = step(grad x, beta) that the prior likes,
    then x from w and the data in one FFT division. The image is mirrored and tapered first,
    so that the circular solve sees no edge."""
    padded, (top, left) = pad_for(image, kernel.shape[0])
    padded = taper(padded, kernel, (top, left), image.shape)
    shape = padded.shape
    kernel_otf = otf(kernel, shape)
    dx, dy = gradient_otfs(shape)
    numerator_data = data_weight * np.conj(kernel_otf) * rfft2(padded)
    denominator_data = data_weight * np.abs(kernel_otf) ** 2
    gradient_energy = np.abs(dx) ** 2 + np.abs(dy) ** 2
    del kernel_otf
    latent = padded
    for beta in betas:
        wx, wy = step(*gradients(latent), beta)
        numerator = numerator_data + beta * (np.conj(dx) * rfft2(wx) + np.conj(dy) * rfft2(wy))
        del wx, wy
        latent = irfft2(numerator / (denominator_data + beta * gradient_energy), shape)
    return latent[top : top + image.shape[0], left : left + image.shape[1]]
