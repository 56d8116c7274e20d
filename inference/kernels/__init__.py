"""The kernel engine: camera shake and focus blur, one blur kernel for the whole photo.

restore() estimates the kernel on the luminance of a working copy of bounded size
(estimate), deconvolves the photo's luma and chroma at full resolution (deconvolve), and judges
the result without a reference (gate). Plain NumPy/SciPy, written from the papers each
module names."""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from inference.kernels import deconvolve, estimate, gate
from inference.kernels.gate import edge_strength

# Kernel estimation works on a copy whose long side is at most this, on a window of at
# most WINDOW x WINDOW of it: seconds whatever the photo's size.
WORK_LONG_SIDE = 1024
WINDOW = 640


# Costs measured with the quarters' check (auto.run_kernel_engine) on kohler's photos resized
# to 0.3 to 8 MP, 2 cores with AVX-512, 2026-12-07: the estimation 3.1 to 4.6 s whatever the
# photo's size and the budget, the deconvolution and the gate 1.3 to 2.4 s per megapixel
# (with the quick budget's five steps 1.0 to 1.8 s).
ESTIMATION_SECONDS = 3.8


@dataclass(frozen=True)
class Budget:
    """How much work the engine's deconvolution spends on a photo: how fast its coupling
    grows (fewer steps), and what that costs on one CPU worker, about, for time estimates;
    the measured pace on the site's workers scales it (inference.speed.engine_seconds)."""

    beta_growth: float
    seconds_per_megapixel: float  # the full-resolution deconvolution and the gate
    name: str

    def seconds(self, megapixels: float) -> float:
        return ESTIMATION_SECONDS + self.seconds_per_megapixel * megapixels


FULL = Budget(deconvolve.BETA_GROWTH, 1.75, "full")
# The Fast choice: five deconvolution steps for six. The estimation, the quarters' check and
# the gate are the same for every choice: a smaller working copy (640 px, a 400 px window, until
# 2026-12-07) cost Fast 0.43 dB on street scenes (gopro-real): the quarters' kernels of its
# coarser estimates agreed by chance (12 of 30 frames at UNIFORM_AGREEMENT or more, against 4
# on the full budget) and its 16:9 copies were too small to judge the reblur spread, so Fast
# deconvolved frames whose blur varies by up to -3.7 dB each (docs/decisions.md).
QUICK = dataclasses.replace(FULL, beta_growth=4.0, seconds_per_megapixel=1.2, name="quick")
# The kernel's support at the working size, as a share of the long side, within bounds.
KERNEL_SHARE = 0.04
KERNEL_MIN, KERNEL_MAX = 31, 61
# Data weight of the deconvolution: NOISE_WEIGHT / sigma^2, sigma the noise of the encoded
# values and at least NOISE_FLOOR (quantisation and JPEG leave noise that no estimate of
# sensor noise sees). Tuned on synthetic shake, motion and focus blur of the training photos
# with noise and JPEG (bench/kernel_tuning.py), never on the benchmarks.
NOISE_WEIGHT = 0.01
NOISE_FLOOR = 0.006
# Pixels this close to white were clipped by the sensor: the blur model does not hold
# there, and deconvolving them rings. They and what their blur reached keep the input.
SATURATED = 0.97
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# Under this side (pixels) a photo has too few edges to tell its blur from its content.
MIN_SIDE = 48
# A photo whose strongest edges change by less than this (0 to 1) has nothing to learn a
# blur from: a flat grey card, fog.
MIN_EDGE = 4 / 255


@dataclass
class KernelResult:
    output: np.ndarray  # uint8 RGB, the input's shape
    kernel: np.ndarray | None  # float32, for the photo at full size; None when none was estimated
    noise: float  # the input's noise sigma, 0 to 1
    verdict: gate.Verdict


def luminance(image: np.ndarray) -> np.ndarray:
    return image @ LUMA


def noise_sigma(gray: np.ndarray) -> float:
    """The standard deviation of white noise in a grey image, from the median absolute
    response to a filter that cancels smooth shading and straight edges (Immerkaer 1996,
    with a median for robustness to texture)."""
    if min(gray.shape) < 3:
        return 0.0
    mask = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    response = ndimage.convolve(gray, mask, mode="reflect")[1:-1, 1:-1]
    return float(1.4826 * np.median(np.abs(response)) / 6.0)


def select_window(gray: np.ndarray, size: int) -> tuple[slice, slice]:
    """The size x size window with the most edges: the estimator learns the kernel from
    edges, and flat sky teaches it nothing."""
    height, width = gray.shape
    if height <= size and width <= size:
        return slice(0, height), slice(0, width)
    gy, gx = np.gradient(gray)
    energy = np.hypot(gx, gy)
    window_h, window_w = min(size, height), min(size, width)
    totals = ndimage.uniform_filter(energy, (window_h, window_w), mode="constant")
    half_h, half_w = window_h // 2, window_w // 2
    valid = totals[half_h : height - (window_h - half_h) + 1, half_w : width - (window_w - half_w) + 1]
    top, left = np.unravel_index(np.argmax(valid), valid.shape)
    return slice(top, top + window_h), slice(left, left + window_w)


def kernel_size(long_side: int) -> int:
    return estimate.odd(np.clip(long_side * KERNEL_SHARE, KERNEL_MIN, KERNEL_MAX))


def working_copy(gray: np.ndarray) -> tuple[np.ndarray, float]:
    scale = min(1.0, WORK_LONG_SIDE / max(gray.shape))
    return estimate.downscale(gray, scale), scale


def estimate_kernel(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(kernel at working scale, working grey copy, scale) for a grey photo in [0, 1]."""
    work, scale = working_copy(gray)
    rows, columns = select_window(work, WINDOW)
    kernel = estimate.estimate(work[rows, columns], kernel_size(max(work.shape)))
    return kernel, work, scale


def full_size_kernel(kernel: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1:
        return kernel
    return estimate.centre(estimate.resize_kernel(kernel, estimate.odd(kernel.shape[0] / scale)))


def deblur(rgb: np.ndarray, kernel: np.ndarray, noise: float, budget: Budget = FULL) -> np.ndarray:
    """A uint8 RGB photo deconvolved by the kernel, saturated areas kept; float32 in [0, 1].

    On the encoded values, not in linear light: light adds up on the sensor, but measured on
    real camera shake (kohler) deconvolving the encoded values gains 3.3 dB where linear
    light gains 1.1 at its best weight; the camera's own tone curve and JPEG noise,
    strongest in the shadows once linearised, favour the encoded values
    (docs/decisions.md)."""
    weight = NOISE_WEIGHT / max(noise, NOISE_FLOOR) ** 2
    image = rgb.astype(np.float32) / 255
    restored = deconvolve.deconvolve(image, kernel, weight, budget.beta_growth)
    saturated = image.max(axis=2) >= SATURATED
    if saturated.any():
        reach = ndimage.binary_dilation(saturated, structure=kernel > 0)
        keep = ndimage.uniform_filter(reach.astype(np.float32), 5)[..., np.newaxis]
        restored = keep * image + (1 - keep) * restored
    return np.clip(restored, 0, 1)


def unusable(gray: np.ndarray) -> str | None:
    """Why no kernel can be estimated from this photo, or None."""
    if min(gray.shape) < MIN_SIDE:
        return f"the photo is too small to estimate its blur (under {MIN_SIDE} pixels a side)"
    work, _ = working_copy(gray)
    if min(work.shape) < MIN_SIDE:
        # A panorama's working copy: too thin a strip to hold a kernel.
        return "the photo is too narrow to estimate its blur from"
    if edge_strength(work, 99.5) < MIN_EDGE:
        return "the photo has too little detail to estimate its blur from"
    return None


def estimation_share(shape: tuple[int, ...], budget: Budget) -> float:
    """The share of restore()'s time that the kernel's estimation takes, about: where its
    progress stands once the kernel is known (the rest is the full-size deconvolution)."""
    return ESTIMATION_SECONDS / budget.seconds(shape[0] * shape[1] / 1e6)


def restore(
    rgb: np.ndarray,
    *,
    progress: Callable[[float], None] | None = None,
    budget: Budget = FULL,
    estimated: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> KernelResult:
    """Estimate the photo's blur kernel and deconvolve a uint8 RGB photo by it. The output
    is the input itself when the photo is not blurred or the gate rejects the result.
    `estimated`: what estimate_kernel gave for this photo, when the caller
    already has it; a caller estimates only on a photo that unusable() accepted, so the
    check is not made twice."""
    image = rgb.astype(np.float32) / 255
    gray = luminance(image)
    why = None if estimated else unusable(gray)
    if why:
        return KernelResult(rgb, None, noise_sigma(gray), gate.Verdict(passed=False, sharp=False, reasons=[why]))
    kernel, work, scale = estimated or estimate_kernel(gray)
    if progress:
        progress(estimation_share(rgb.shape, budget))
    noise = noise_sigma(work)
    full_kernel = full_size_kernel(kernel, scale)
    if gate.kernel_figures(kernel)["radius"] < gate.SHARP_RADIUS:
        return KernelResult(rgb, full_kernel, noise, gate.Verdict(passed=False, sharp=True))
    restored = deblur(rgb, full_kernel, noise_sigma(gray), budget)
    if progress:
        progress(1.0)
    verdict = gate.check(work, estimate.downscale(luminance(restored), scale), kernel, noise)
    output = np.clip(np.rint(restored * 255), 0, 255).astype(np.uint8) if verdict.passed else rgb
    return KernelResult(output, full_kernel, noise, verdict)
