"""Non-blind deconvolution with a hyper-Laplacian prior (Krishnan and Fergus, NIPS 2009):

    min_x  weight/2 ||k * x - y||^2 + sum |grad x|^alpha,   alpha = 2/3,

by half-quadratic splitting: an auxiliary gradient field w is shrunk towards sparse
(a p-shrinkage, Chartrand 2009, the closed form's close cousin), and x is solved from w in
one FFT division; the coupling beta grows until w and grad x agree. Natural images'
gradients follow such a heavy-tailed law, so edges come back sharp while flat areas stay
flat, where a Wiener filter would ring or amplify noise.

The data weight comes from the photo's noise: more noise, less trust in the data.
At full resolution, on one mirrored, tapered channel at a time, so memory is the result and
a few float32 copies of one channel. The channels are luma and chroma (YCbCr), not R, G
and B: a blur is linear, so it blurs them alike, but the prior is applied to each channel on
its own, and R, G and B share every edge, where luma holds the edges and chroma is smooth.
Measured with the kernel each photo's estimate gave (2026-12-07): +0.22 dB on synthetic
shake, motion and focus blur of the training photos with noise and JPEG, whose compression
works in YCbCr too (bench/kernel_tuning.py), and +0.22 dB on real camera shake (kohler).
"""

import numpy as np

from inference.kernels import fourier

ALPHA = 2 / 3
BETA_START = 1.0
BETA_GROWTH = 2 * np.sqrt(2)
BETA_MAX = 256.0
# Full-range ITU-R BT.601, as JPEG's YCbCr, and back.
YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], np.float32)
RGB_FROM_YCBCR = np.linalg.inv(YCBCR).astype(np.float32)


def shrink(value: np.ndarray, beta: float) -> np.ndarray:
    """argmin_w |w|^alpha + beta/2 (w - v)^2, approximately: p-shrinkage."""
    magnitude = np.abs(value) + 1e-8
    return np.sign(value) * np.maximum(magnitude - beta ** (ALPHA - 2) * magnitude ** (ALPHA - 1), 0)


def deconvolve_channel(
    channel: np.ndarray, kernel: np.ndarray, weight: float, beta_growth: float = BETA_GROWTH
) -> np.ndarray:
    """One float32 channel in [0, 1] deconvolved by the centred kernel."""

    def step(gx: np.ndarray, gy: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
        return shrink(gx, beta), shrink(gy, beta)

    betas = fourier.couplings(BETA_START, BETA_MAX, beta_growth)
    # weight/2 ||k * x - y||^2 in the paper's objective: the splitting's data weight is weight.
    return fourier.half_quadratic(channel, kernel, weight, betas, step)


def deconvolve(image: np.ndarray, kernel: np.ndarray, weight: float, beta_growth: float = BETA_GROWTH) -> np.ndarray:
    """A float32 (H, W, 3) RGB image in [0, 1] deconvolved in luma and chroma, one channel
    at a time, and returned as RGB."""
    restored = np.zeros_like(image, dtype=np.float32)
    for forward, back in zip(YCBCR, RGB_FROM_YCBCR.T):
        channel = deconvolve_channel(image @ forward, kernel, weight, beta_growth)
        for rgb in range(3):
            restored[..., rgb] += back[rgb] * channel
    return restored
