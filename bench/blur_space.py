"""Was a benchmark's blur made in linear light or on encoded sRGB values?

For each pair of a blur/ + sharp/ folder, a straight box blur of the sharp frame along the
given axis is fitted to the blurred frame twice, over lengths 5-49 px: once on the encoded
values (an average of encoded video frames) and once in linear light (an average of light).
It prints the best fit's PSNR and length in each space and the brightness that each blur
adds (blurred fit minus blurred frame), then the mean brightness difference between the
blurred and sharp frames of the whole folder. Light blur brightens (the sRGB curve is
concave); an average of encoded values does not.

Run from the repository root (axis 1 = horizontal blur, 0 = vertical):
    .venv/bin/python bench/blur_space.py ../shared/benchmarks/gopro-real 000100:0 000103:1 000106:1 000112:1 000118:1 000124:1
"""

import argparse
from pathlib import Path

import common  # noqa: F401 (puts the project on the path)
import numpy as np
from scipy.ndimage import uniform_filter1d

from training.degrade import linear_to_srgb, srgb_to_linear
from training.evaluate import find_pairs, read_rgb

LENGTHS = range(5, 50, 2)
# The frame's border, where reflection stands in for the unseen scene, is left out.
BORDER = (slice(40, -40), slice(80, -80))


def best_fit(blurred: np.ndarray, sharp: np.ndarray, axis: int, light: bool) -> tuple[float, int, float]:
    """(PSNR in dB, length, brightness added in levels) of the best-fitting box blur."""
    source = srgb_to_linear(sharp) if light else sharp
    fits = []
    for length in LENGTHS:
        fit = uniform_filter1d(source, length, axis=axis, mode="reflect")
        error = ((linear_to_srgb(fit) if light else fit) - blurred)[BORDER]
        fits.append((-10 * np.log10(np.mean(error**2)), length, float(error.mean() * 255)))
    return max(fits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a benchmark folder with blur/ and sharp/")
    parser.add_argument("frames", nargs="+", help="NAME:AXIS, the frame and the axis its blur mostly runs along")
    args = parser.parse_args()

    print("frame    encoded: dB  length  added | light: dB  length  added | encoded - light")
    for frame in args.frames:
        name, axis = frame.split(":")
        blurred = read_rgb(args.folder / "blur" / f"{name}.png").astype(np.float32) / 255
        sharp = read_rgb(args.folder / "sharp" / f"{name}.png").astype(np.float32) / 255
        encoded = best_fit(blurred, sharp, int(axis), light=False)
        light = best_fit(blurred, sharp, int(axis), light=True)
        print(
            f"{name}  {encoded[0]:6.2f} {encoded[1]:6d} {encoded[2]:+7.2f}  |  {light[0]:6.2f} {light[1]:6d}"
            f" {light[2]:+7.2f}  |  {encoded[0] - light[0]:+.2f} dB"
        )

    names, _ = find_pairs(args.folder)
    differences = [
        float(np.mean(read_rgb(args.folder / "blur" / name).astype(np.float32) - read_rgb(args.folder / "sharp" / name)))
        for name in names
    ]
    print(
        f"blurred - sharp over {len(differences)} pairs: mean {np.mean(differences):+.3f} levels"
        f" (from {min(differences):+.2f} to {max(differences):+.2f})"
    )


if __name__ == "__main__":
    main()
