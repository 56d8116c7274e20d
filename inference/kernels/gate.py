"""The quality gate: with no sharp reference, is a deconvolved photo better than its input?

Three independent checks, each of which catches a way that blind deconvolution fails on
real photos:
  - the kernel itself: a real shake or defocus is one compact, connected path; a kernel
    that spreads its mass thinly over its whole support (high entropy), or runs into the
    support's edge, is the estimator fitting noise;
  - reblur consistency: blurring the result by the kernel must give the input back, to
    within the input's own fine detail; a wrong kernel cannot explain the photo; and it
    must do so about as well everywhere: one kernel explains a blur that differs from place
    to place (a street passing a moving camera, a car) in some places and not in others;
  - ringing and amplified noise: where the input is flat, the result must stay flat.
A kernel with no extent means the photo is not blurred, which is not a failure: the photo
is left as it was.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from inference.kernels import fourier

# Below this radius of gyration (pixels) a kernel is a point: the photo is sharp. Sharp
# photos give 0.9 to 1.4 (the estimator's own spread), the mildest real shake of kohler 2.1.
SHARP_RADIUS = 1.6
# A kernel's entropy in bits above log2 of this share of its support is diffuse noise.
MAX_SPREAD = 0.35
# Reblur residual, as a multiple of the input's own fine detail (what a 1.5 px Gaussian
# takes away), above which the kernel does not explain the photo. Measured on synthetic
# blur of the training photos: results that lost had 1.3 to 5, results that gained 0.5 to 1.6.
MAX_REBLUR = 2.0
# The reblur residual (relative to detail) of the worst explained of a 3x3 grid of textured
# blocks, as a multiple of the best explained's, above which the blur differs from place to
# place. Measured (2026-12-07, AVX-512 machine): synthetic uniform blur of the training
# photos that the engine improves 1.02-1.58 (one at 3.28, whose quarters disagree, 0.42);
# real camera shake (kohler) 1.18-2.63; levin 1.31-2.29; street scenes with moving things
# (gopro-real) 1.69-5.38, and the three frames whose quarters agree 2.06, 3.71 and 3.94.
MAX_REBLUR_SPREAD = 3.0
REBLUR_GRID = 3
# Blocks smaller than this (pixels a side) hold too few edges for their residuals to
# compare: on a 256 px photo, blocks of 70 px, the true kernel's spread was 3.3.
REBLUR_MIN_BLOCK = 128
# A region whose strongest edges (the 99th percentile of the gradient's magnitude) are
# weaker than this teaches nothing about the blur there: sky, a wall, a blurred
# background. Such regions gave point kernels or noise on synthetic uniform blur.
TEXTURED_EDGE = 0.03
# Fine detail that the result adds where the input is flat, as a multiple of the input's.
MAX_FLAT_GAIN = 3.0


@dataclass
class Verdict:
    passed: bool
    sharp: bool  # the photo was not blurred to begin with
    reasons: list[str] = field(default_factory=list)  # why it failed, one sentence each
    figures: dict[str, float] = field(default_factory=dict)


def kernel_figures(kernel: np.ndarray) -> dict[str, float]:
    rows, columns = np.nonzero(kernel > 0)
    mass = kernel[kernel > 0]
    entropy = float(-(mass * np.log2(mass)).sum())
    y, x = np.indices(kernel.shape)
    cy, cx = (y * kernel).sum(), (x * kernel).sum()
    radius = float(np.sqrt((((y - cy) ** 2 + (x - cx) ** 2) * kernel).sum()))
    size = kernel.shape[0]
    return {
        "radius": radius,
        "entropy": entropy,
        "extent": float(max(rows.max() - rows.min(), columns.max() - columns.min()) + 1),
        "touches_border": float(rows.min() == 0 or columns.min() == 0 or rows.max() == size - 1 or columns.max() == size - 1),
        "max_entropy": float(np.log2(MAX_SPREAD * size * size)),
    }


def edge_strength(gray: np.ndarray, percentile: float) -> float:
    """How strong the image's strongest edges are: that percentile of its gradient's magnitude."""
    return float(np.percentile(np.hypot(*np.gradient(gray)), percentile))


def textured(gray: np.ndarray) -> bool:
    return edge_strength(gray, 99) >= TEXTURED_EDGE


def reblur_spread(gray: np.ndarray, residual: np.ndarray, detail: np.ndarray) -> float | None:
    """How much worse the kernel explains the worst explained textured block of a grid than
    the best (1: as well everywhere), from the squared reblur residual and squared fine
    detail; None on a photo too small to tell or with fewer than two textured blocks."""
    height, width = gray.shape
    if min(height, width) // REBLUR_GRID < REBLUR_MIN_BLOCK:
        return None
    ratios = []
    for i in range(REBLUR_GRID):
        for j in range(REBLUR_GRID):
            block = (
                slice(i * height // REBLUR_GRID, (i + 1) * height // REBLUR_GRID),
                slice(j * width // REBLUR_GRID, (j + 1) * width // REBLUR_GRID),
            )
            if textured(gray[block]):
                ratios.append(np.sqrt(residual[block].mean() / max(detail[block].mean(), 1e-8)))
    if len(ratios) < 2:
        return None
    return float(max(ratios) / max(min(ratios), 1e-4))


def _local_detail(gray: np.ndarray) -> np.ndarray:
    return np.abs(gray - ndimage.uniform_filter(gray, 3))


def check(gray: np.ndarray, restored: np.ndarray, kernel: np.ndarray, noise: float) -> Verdict:
    """Judge a deconvolution: `gray` the input's luminance and `restored` the result's, both
    float32 in [0, 1] at the scale the kernel is for; `noise` the input's noise sigma."""
    figures = kernel_figures(kernel)
    if figures["radius"] < SHARP_RADIUS:
        return Verdict(passed=False, sharp=True, figures=figures)
    reasons = []
    if figures["entropy"] > figures["max_entropy"] or figures["touches_border"]:
        reasons.append("the blur we estimated does not look like a camera's path, so it is probably wrong")

    # The reblur is circular: its edges wrap around. Skip them, on small photos as well.
    margin = min(kernel.shape[0], min(gray.shape) // 4)
    inner = (slice(margin, -margin or None), slice(margin, -margin or None))
    residual = ((fourier.convolve(restored, kernel) - gray)[inner]) ** 2
    detail = ((gray - ndimage.gaussian_filter(gray, 1.5))[inner]) ** 2
    figures["reblur"] = float(np.sqrt(residual.mean())) / max(float(np.sqrt(detail.mean())), 1e-4)
    figures["noise"] = noise
    if figures["reblur"] > MAX_REBLUR:
        reasons.append("blurring the result again does not give the photo back, so the blur we estimated is wrong")
    spread = reblur_spread(gray[inner], residual, detail)
    if spread is not None:
        figures["reblur_spread"] = spread
        if spread > MAX_REBLUR_SPREAD:
            reasons.append(
                f"one blur explains some parts of the photo {spread:.1f} times worse than others, so its blur "
                "differs from place to place, as when things move"
            )

    detail_in = _local_detail(gray)
    flat = ndimage.uniform_filter(detail_in, 9) < np.quantile(ndimage.uniform_filter(detail_in, 9)[inner], 0.3)
    flat[: margin] = flat[-margin:] = False
    flat[:, :margin] = flat[:, -margin:] = False
    if flat.any():
        gain = float(_local_detail(restored)[flat].mean() / max(detail_in[flat].mean(), 1e-4))
    else:
        gain = 1.0
    figures["flat_gain"] = gain
    if gain > MAX_FLAT_GAIN:
        reasons.append("the result rings or amplifies noise in smooth areas")
    return Verdict(passed=not reasons, sharp=False, reasons=reasons, figures=figures)
