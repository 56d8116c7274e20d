"""The blur kernel drawn for the photo page (inference.kernels.drawing)."""

import io

import numpy as np
import pytest
from PIL import Image

from inference.kernels.drawing import BACKGROUND, SIDE, kernel_extent, kernel_png


def drawn(kernel: np.ndarray) -> np.ndarray:
    image = Image.open(io.BytesIO(kernel_png(kernel)))
    assert (image.format, image.mode) == ("PNG", "RGB")
    return np.asarray(image)


def diagonal(length: int, support: int = 31) -> np.ndarray:
    """A straight shake of `length` pixels, down and to the right, in a support of 31."""
    kernel = np.zeros((support, support), np.float32)
    start = (support - length) // 2
    for i in range(length):
        kernel[start + i, start + i] = 1.0
    return kernel / kernel.sum()


def test_the_path_is_cropped_to_its_extent_scaled_up_and_light_on_dark():
    pixels = drawn(diagonal(9))

    assert pixels.shape[0] == pixels.shape[1] and SIDE // 2 < pixels.shape[0] <= SIDE
    assert tuple(pixels[0, 0]) == tuple(BACKGROUND.astype(np.uint8))
    bright = pixels.mean(axis=2) > 128
    rows, columns = np.nonzero(bright)
    # The path runs corner to corner of the crop, within its margin: most of the drawing.
    assert rows.max() - rows.min() > 0.6 * pixels.shape[0]
    assert np.corrcoef(rows, columns)[0, 1] > 0.95  # down and to the right, as the kernel goes
    assert not bright[rows.min(), columns.max()]  # and not the other diagonal


def test_each_kernel_pixel_is_a_block_of_one_colour():
    pixels = drawn(diagonal(5)).mean(axis=2)
    # Nearest-neighbour scaling: the drawing has as many distinct levels as the crop has.
    assert len(np.unique(pixels)) <= 3


def test_faint_parts_of_the_path_are_lifted_so_they_show():
    kernel = diagonal(9)
    kernel[11, 11] *= 0.05  # a faint step of the path
    kernel /= kernel.sum()

    pixels = drawn(kernel).mean(axis=2)

    background = BACKGROUND.mean()
    assert pixels.max() > 230
    # 5 % of the mass is drawn at about sqrt(0.05) = 22 % of the way to white, well off the ground.
    assert np.any((pixels > background + 30) & (pixels < 120))


def test_a_kernel_wider_than_the_drawing_is_averaged_down_to_it():
    pixels = drawn(diagonal(301, support=301))

    assert pixels.shape[:2] == (SIDE, SIDE)


def test_a_point_kernel_still_draws():
    kernel = np.zeros((31, 31), np.float32)
    kernel[15, 15] = 1

    assert drawn(kernel).max() > 230 and kernel_extent(kernel) == 1


def test_the_extent_is_the_longer_side_of_the_box_around_the_mass():
    kernel = np.zeros((31, 31), np.float32)
    kernel[10, 5:20] = 1 / 30
    kernel[12, 5:20] = 1 / 30

    assert kernel_extent(kernel) == 15
    assert kernel_extent(diagonal(9)) == 9


def test_not_a_kernel_is_refused():
    with pytest.raises(ValueError, match="2-D"):
        kernel_png(np.ones((3, 3, 3), np.float32))
