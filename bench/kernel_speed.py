"""The kernel engine's speed and memory from outside: each size runs `manage.py deblur
--model shake` in a fresh process, timed by its wall clock (start-up, reading, estimation,
deconvolution, the gate and writing the PNG, everything a worker does but the database),
with the process's peak resident memory.

    .venv/bin/python bench/kernel_speed.py            # 1280x720 and 12 MP (4000x3000)

The photos: the sharp GoPro frame 000100 (scikit-image's astronaut where the benchmarks are
not at hand), resized to each size and blurred by one seeded camera-shake kernel whose
support is 2.5 % of the long side, so that the engine does all its work: a photo whose blur
varies (the blurred GoPro frame) is left as it was after the quarters check, in less time.
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import FRAME, REPO
from PIL import Image
from scipy.signal import fftconvolve

from training.degrade import odd_support, trajectory_kernel

SIZES = ((1280, 720), (4000, 3000))


def shaken(width: int, height: int) -> np.ndarray:
    """A sharp photo of that size blurred by a seeded camera-shake kernel."""
    sharp = FRAME.parent.parent / "sharp" / FRAME.name
    if sharp.exists():
        image = Image.open(sharp).convert("RGB")
    else:
        from skimage import data

        image = Image.fromarray(data.astronaut())
    image = np.asarray(image.resize((width, height), Image.Resampling.LANCZOS), np.float32)
    support = odd_support(0.025 * max(width, height), 999)
    kernel = trajectory_kernel(np.random.default_rng(0), support, exposure=1.0)
    # Mirrored out first, so that the edges are blurred like the rest, not darkened.
    half = support // 2
    padded = np.pad(image, ((half, half), (half, half), (0, 0)), mode="reflect")
    blurred = fftconvolve(padded, kernel[..., np.newaxis], mode="valid", axes=(0, 1))
    return np.clip(np.rint(blurred), 0, 255).astype(np.uint8)


def run(path: Path, out: Path) -> tuple[float, float, str]:
    """(wall seconds, peak resident MiB, the verdict it printed) of one `manage.py deblur
    --model shake`: a photo left as it was costs less, so the verdict goes with the time."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "deblur", str(path), "--out", str(out), "--model", "shake"],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    # ru_maxrss of the children waited for, in KiB on Linux: this one alone, as it runs last.
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, done.stdout.splitlines()[0]


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
            seconds, peak, said = run(path, folder / "out")
            megapixels = width * height / 1e6
            print(f"{size:>10} {megapixels:5.2f} {seconds:8.1f} {seconds / megapixels:6.2f} {peak:9.0f}  {said}", flush=True)


if __name__ == "__main__":
    main()
