"""Blind estimation of one blur kernel for a whole photo, from its luminance.

The method is the L0 gradient prior of Xu, Zheng and Jia (CVPR 2013) as Pan et al. use it
(CVPR 2014 / 2016) and Anger, Facciolo and Delbracio describe it in full (IPOL 2019):
alternate between
  - a latent image that explains the photo through the kernel and has few non-zero
    gradients (L0), solved by half-quadratic splitting with FFTs, and
  - the kernel that best maps the latent image's gradients onto the photo's, a least
    squares problem in the Fourier domain, made non-negative, sparse and normalised,
coarse to fine over a pyramid, each level starting from the level below's kernel. The L0
prior keeps only strong edges in the latent image, which is what makes the alternation
converge to the blur rather than to a delta kernel and a blurred "sharp" image.

Cost is bounded by the size worked on, not the photo's: estimation runs on a downscaled
copy, or on the most textured window of it (select_window), and the kernel is scaled up.
"""

import numpy as np
from scipy import ndimage

from inference.kernels import fourier

# Regularisation of the L0 latent image (images in [0, 1]), lowered by DECAY per
# iteration down to FLOOR, so that finer edges join as the kernel firms up (Pan et al.).
LATENT_WEIGHT = 4e-3
LATENT_DECAY = 0.9
LATENT_FLOOR = 1e-4
# Half-quadratic splitting: the penalty grows by this factor up to BETA_MAX.
BETA_GROWTH = 2.0
BETA_MAX = 1e5
# Tikhonov weight of the kernel's least squares, relative to the gradient energy.
KERNEL_WEIGHT = 2.0
# Kernel taps under this share of the peak are noise of the least squares.
KERNEL_THRESHOLD = 0.05
ITERATIONS = 5
# Levels of the pyramid are this far apart in scale.
PYRAMID_STEP = 1 / np.sqrt(2)


def odd(value: float) -> int:
    size = max(1, int(round(value)))
    return size if size % 2 else size + 1


def downscale(image: np.ndarray, scale: float) -> np.ndarray:
    """The image at `scale` (< 1), low-passed first so that fine texture does not alias
    into false edges."""
    if scale >= 1:
        return image
    smoothed = ndimage.gaussian_filter(image, sigma=0.5 / scale * 0.8)
    shape = (max(1, round(image.shape[0] * scale)), max(1, round(image.shape[1] * scale)))
    return _resize(smoothed, shape)


def _resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resampling to `shape`, pixel centres aligned."""
    rows = (np.arange(shape[0], dtype=np.float32) + 0.5) * image.shape[0] / shape[0] - 0.5
    columns = (np.arange(shape[1], dtype=np.float32) + 0.5) * image.shape[1] / shape[1] - 0.5
    grid = np.meshgrid(rows, columns, indexing="ij")
    return ndimage.map_coordinates(image, grid, order=1, mode="nearest").astype(np.float32)


def resize_kernel(kernel: np.ndarray, size: int) -> np.ndarray:
    """The kernel resampled to an odd `size`, non-negative and normalised."""
    if kernel.shape[0] == size:
        return kernel
    resized = np.clip(_resize(kernel, (size, size)), 0, None)
    return normalise(resized)


def normalise(kernel: np.ndarray) -> np.ndarray:
    total = kernel.sum()
    if total <= 0:
        return delta(kernel.shape[0])
    return (kernel / total).astype(np.float32)


def delta(size: int) -> np.ndarray:
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, size // 2] = 1
    return kernel


def latent_l0(blurred: np.ndarray, kernel: np.ndarray, weight: float) -> np.ndarray:
    """The image with few non-zero gradients that the kernel blurs into `blurred`:
    min ||k * x - y||^2 + weight ||grad x||_0, by half-quadratic splitting (Xu et al. 2011)."""

    def step(gx: np.ndarray, gy: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
        # Joint hard threshold: a pixel keeps its gradient only if the edge pays for itself.
        weak = gx * gx + gy * gy < weight / beta
        gx[weak] = 0
        gy[weak] = 0
        return gx, gy

    betas = fourier.couplings(2 * weight, BETA_MAX, BETA_GROWTH)
    return fourier.half_quadratic(blurred, kernel, 1.0, betas, step)


def kernel_from_gradients(latent: np.ndarray, blurred: np.ndarray, size: int) -> np.ndarray:
    """The kernel that best maps the latent image's gradients onto the blurred image's:
    min sum ||grad x * k - grad y||^2 + w ||k||^2, closed form in the Fourier domain. Then
    non-negative, small taps dropped, and only what is connected to the peak kept: a real
    blur is one connected path."""
    lx, ly = fourier.gradients(latent)
    bx, by = fourier.gradients(blurred)
    # Circular gradients jump at the wrap-around; those rows and columns say nothing.
    for gradient in (lx, bx):
        gradient[:, -1] = 0
    for gradient in (ly, by):
        gradient[-1, :] = 0
    Lx, Ly, Bx, By = (fourier.rfft2(g) for g in (lx, ly, bx, by))
    spectrum = (np.conj(Lx) * Bx + np.conj(Ly) * By) / (np.abs(Lx) ** 2 + np.abs(Ly) ** 2 + KERNEL_WEIGHT)
    full = fourier.irfft2(spectrum, latent.shape)
    half = size // 2
    kernel = np.roll(full, (half, half), axis=(0, 1))[:size, :size]
    return clean(kernel)


def clean(kernel: np.ndarray) -> np.ndarray:
    kernel = np.clip(kernel, 0, None)
    peak = kernel.max()
    if peak <= 0:
        return delta(kernel.shape[0])
    kernel[kernel < KERNEL_THRESHOLD * peak] = 0
    labels, _ = ndimage.label(kernel > 0, structure=np.ones((3, 3)))
    kernel[labels != labels[np.unravel_index(np.argmax(kernel), kernel.shape)]] = 0
    return normalise(kernel)


def centre(kernel: np.ndarray) -> np.ndarray:
    """The kernel moved so that its centre of mass is at the middle of its support: the
    deconvolved photo then stays where the blurred one was."""
    size = kernel.shape[0]
    rows, columns = np.indices(kernel.shape)
    shift = (size // 2 - float((rows * kernel).sum()), size // 2 - float((columns * kernel).sum()))
    moved = ndimage.shift(kernel, shift, order=1, mode="constant")
    return normalise(np.clip(moved, 0, None))


def stretch(gray: np.ndarray) -> np.ndarray:
    """The image's contrast stretched to fill [0, 1]: the L0 prior's threshold is absolute,
    so in a dark or foggy photo it would find no edge worth keeping. An affine map of the
    values changes nothing about the blur."""
    low, high = np.percentile(gray, (0.5, 99.5))
    return ((gray - low) / max(high - low, 1e-3)).astype(np.float32)


def estimate(gray: np.ndarray, size: int) -> np.ndarray:
    """One blur kernel of odd `size` for a float32 grey image in [0, 1], coarse to fine."""
    gray = stretch(gray)
    levels = 1
    while odd(size * PYRAMID_STEP**levels) > 3 and min(gray.shape) * PYRAMID_STEP**levels > 32:
        levels += 1
    kernel = None
    for level in reversed(range(levels)):
        scale = PYRAMID_STEP**level
        level_size = odd(size * scale)
        blurred = downscale(gray, scale)
        if kernel is None:
            kernel = np.zeros((level_size, level_size), np.float32)
            middle = level_size // 2
            kernel[middle, max(middle - 1, 0) : middle + 1] = 0.5
        else:
            kernel = resize_kernel(kernel, level_size)
        weight = LATENT_WEIGHT
        for _ in range(ITERATIONS):
            latent = latent_l0(blurred, kernel, weight)
            kernel = kernel_from_gradients(latent, blurred, level_size)
            weight = max(weight * LATENT_DECAY, LATENT_FLOOR)
    return centre(kernel)
