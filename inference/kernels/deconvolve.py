"""Non-blind deconvolution with a hyper-Laplacian prior (Krishnan and Fergus, NIPS 2009):

    min_x  weight/2 ||k * x - y||^2 + sum |grad x|^alpha,   alpha = 2/3,

by half-quadratic splitting: an auxiliary gradient field w is shrunk towards sparse
(a p-shrinkage, Chartrand 2009, the closed form's close cousin), and x is solved from w in
one FFT division; the coupling beta grows until w and grad x agree. Natural images'
gradients follow such a heavy-tailed law, so edges come back sharp while flat areas stay
flat, where a Wiener filter would ring or amplify noise.

The data weight comes from the photo's noise: more noise, less trust in the data.
Per colour channel, at full resolution, on one mirrored, tapered channel at a time, so
memory is a few float32 copies of one channel.
"""

import numpy as np

from inference.kernels import fourier

ALPHA = 2 / 3
BETA_START = 1.0
BETA_GROWTH = 2 * np.sqrt(2)
BETA_MAX = 256.0


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
    """A float32 (H, W, C) image in [0, 1] deconvolved channel by channel."""
    channels = [deconvolve_channel(image[..., c], kernel, weight, beta_growth) for c in range(image.shape[2])]
    return np.stack(channels, axis=-1)
