"""The blur kernel drawn for the person: the path the camera took during the exposure.

A kernel is a small image whose mass says how long the camera's aim rested at each point.
Drawn as it is, in a few dozen pixels, it is too small to see, and its faint tails vanish:
kernel_png crops it to where it has mass, scales it up pixel for pixel, and lifts the faint
parts with a gamma, light on a dark ground. Its size in pixels is for the page to write
(kernel_extent), not drawn into the image. Plain NumPy and Pillow."""

import io

import numpy as np
from PIL import Image

from inference.kernels import gate

# The drawing's side in pixels, about: kernels are scaled up by a whole factor to at most this.
SIDE = 256
# Empty pixels kept around the path, as a share of its extent (at least MIN_MARGIN).
MARGIN_SHARE = 0.15
MIN_MARGIN = 2
# Brightness is mass ** GAMMA (mass relative to the heaviest pixel): below 1 lifts the tails.
GAMMA = 0.5
BACKGROUND = np.array([17, 20, 26], np.float32)
PATH = np.array([255, 244, 214], np.float32)


def kernel_extent(kernel: np.ndarray) -> int:
    """The kernel's extent in pixels: the longer side of the box around its mass."""
    return int(gate.kernel_figures(kernel)["extent"])


def _cropped(kernel: np.ndarray) -> np.ndarray:
    """The kernel cut to the box around its mass plus a margin, square, the path centred."""
    rows, columns = np.nonzero(kernel > 0)
    if rows.size == 0:
        return np.zeros((1 + 2 * MIN_MARGIN,) * 2, np.float32)
    box = kernel[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    side = max(box.shape)
    margin = max(MIN_MARGIN, round(side * MARGIN_SHARE))
    square = np.zeros((side + 2 * margin,) * 2, np.float32)
    top, left = margin + (side - box.shape[0]) // 2, margin + (side - box.shape[1]) // 2
    square[top : top + box.shape[0], left : left + box.shape[1]] = box
    return square


def kernel_png(kernel: np.ndarray) -> bytes:
    """A PNG of the kernel as the camera's path: light on a dark ground, each kernel pixel a
    block of pixels, about SIDE pixels a side."""
    kernel = np.nan_to_num(np.asarray(kernel, np.float32)).clip(min=0)
    if kernel.ndim != 2:
        raise ValueError(f"A kernel is a 2-D array; this one has shape {kernel.shape}.")
    square = _cropped(kernel)
    peak = square.max()
    brightness = (square / peak) ** GAMMA if peak > 0 else square
    rgb = BACKGROUND + brightness[..., np.newaxis] * (PATH - BACKGROUND)
    image = Image.fromarray(np.rint(rgb).astype(np.uint8), "RGB")
    side = square.shape[0]
    if side <= SIDE:
        factor = SIDE // side
        image = image.resize((side * factor, side * factor), Image.Resampling.NEAREST)
    else:
        # A kernel wider than the drawing (a long shake on a large photo): averaged down.
        image = image.resize((SIDE, SIDE), Image.Resampling.BOX)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
