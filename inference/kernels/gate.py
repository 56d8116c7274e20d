"""The quality gate: with no sharp reference, is a deconvolved photo better than its input?

Three independent checks, each of which catches a way that blind deconvolution fails on
real photos:
  - the kernel itself: a real shake or defocus is one compact, connected path; a kernel
    that spreads its mass thinly over its whole support (high entropy), or runs into the
    support's edge, is the estimator fitting noise;
  - reblur consistency: blurring the result by the kernel must give the input back, to
    within the input's own fine detail; a wrong kernel cannot explain the photo;
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
    reblurred = fourier.convolve(restored, kernel)
    residual = float(np.sqrt(np.mean((reblurred - gray)[inner] ** 2)))
    detail = float(np.sqrt(np.mean((gray - ndimage.gaussian_filter(gray, 1.5))[inner] ** 2)))
    figures["reblur"] = residual / max(detail, 1e-4)
    figures["noise"] = noise
    if figures["reblur"] > MAX_REBLUR:
        reasons.append("blurring the result again does not give the photo back, so the blur we estimated is wrong")

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
