"""The kernel engine's speed and memory from outside: each size runs `manage.py deblur
--model shake` in a fresh process, timed by its wall clock (start-up, reading, estimation,
deconvolution, the gate and writing the PNG, everything a worker does but the database),
with the process's peak resident memory.

    .venv/bin/python bench/kernel_speed.py            # 1280x720 and 12 MP (4000x3000)

The photos: the GoPro frame for 1280x720 (its real blur), and a sharp photo of 12 MP blurred
by a camera-shake kernel 41 px long (scikit-image's astronaut, resized, where the training
photos are not at hand).
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import REPO, photo
from PIL import Image
from scipy.signal import fftconvolve

from training.degrade import trajectory_kernel

SIZES = ((1280, 720), (4000, 3000))


def shaken(width: int, height: int) -> np.ndarray:
    """A photo of that size: the GoPro frame at its own size, else a resized photo blurred
    by a seeded camera-shake kernel."""
    image, _ = photo(width, height)
    if (width, height) == (1280, 720):
        return image
    kernel = trajectory_kernel(np.random.default_rng(0), 43, exposure=1.0)
    blurred = fftconvolve(image.astype(np.float32), kernel[..., np.newaxis], mode="same", axes=(0, 1))
    return np.clip(np.rint(blurred), 0, 255).astype(np.uint8)


def run(path: Path, out: Path) -> tuple[float, float]:
    """(wall seconds, peak resident MiB) of one `manage.py deblur --model shake`."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "deblur", str(path), "--out", str(out), "--model", "shake"],
        check=True,
        capture_output=True,
    )
    seconds = time.monotonic() - started
    # ru_maxrss of the children waited for, in KiB on Linux: this one alone, as it runs last.
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=[f"{w}x{h}" for w, h in SIZES], help="WIDTHxHEIGHT")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        print(f"{'size':>10} {'MP':>5} {'seconds':>8} {'s/MP':>6} {'peak MiB':>9}")
        for size in args.sizes:
            width, height = map(int, size.split("x"))
            path = folder / f"photo-{size}.png"
            Image.fromarray(shaken(width, height)).save(path)
            seconds, peak = run(path, folder / "out")
            megapixels = width * height / 1e6
            print(f"{size:>10} {megapixels:5.2f} {seconds:8.1f} {seconds / megapixels:6.2f} {peak:9.0f}", flush=True)


if __name__ == "__main__":
    main()
