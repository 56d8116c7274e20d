"""Speed of the default NAFNet against the DeblurGAN generator on a 1280x720 photo.

Both run through inference.engine.deblur at full resolution with the default tiles, as
the workers run them: one warm-up run (graph building), then the median of three.
Run from the repository root: .venv/bin/python bench/speed.py [--model PATH]
"""

import argparse
import statistics
import time

import keras
import numpy as np
from common import nafnet, photo

from inference.engine import TILE, deblur
from inference.nets import build_deblurgan

WIDTH, HEIGHT = 1280, 720
RUNS = 3
# DESIGN.md section 5: the default generator is the one small enough for CPUs.
TARGET_SECONDS_PER_MEGAPIXEL = 1.0
TARGET_RATIO = 8.0


def median_seconds(model: keras.Model, rgb: np.ndarray, tile: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (all threads) per image. CPU time says what the
    work costs when other processes share the cores and stretch the wall-clock time."""
    deblur(model, rgb, tile=tile)
    wall, cpu = [], []
    for _ in range(RUNS):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        deblur(model, rgb, tile=tile)
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a trained NAFNet .keras file (default: the default NAFNet, random weights)")
    parser.add_argument("--tile", type=int, default=TILE, help=f"tile size in pixels (default {TILE})")
    args = parser.parse_args()

    rgb, source = photo(WIDTH, HEIGHT)
    megapixels = WIDTH * HEIGHT / 1e6
    print(f"Photo: {source}, {WIDTH}x{HEIGHT} ({megapixels:.2f} MP); tile {args.tile}; median of {RUNS} after a warm-up")
    seconds = {}
    for name, model in (("NAFNet", nafnet(args.model)), ("DeblurGAN", build_deblurgan())):
        seconds[name], cpu = median_seconds(model, rgb, args.tile)
        print(
            f"{name:9}  {model.count_params() / 1e6:6.2f} M parameters  "
            f"{seconds[name]:7.2f} s/image  {seconds[name] / megapixels:7.2f} s/MP  {cpu:7.2f} CPU s/image"
        )
    per_megapixel = seconds["NAFNet"] / megapixels
    ratio = seconds["DeblurGAN"] / seconds["NAFNet"]
    print(f"DeblurGAN / NAFNet: {ratio:.1f}x")
    print(
        f"Targets: NAFNet <= {TARGET_SECONDS_PER_MEGAPIXEL:g} s/MP: {'met' if per_megapixel <= TARGET_SECONDS_PER_MEGAPIXEL else 'MISSED'}; "
        f">= {TARGET_RATIO:g}x faster than DeblurGAN: {'met' if ratio >= TARGET_RATIO else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
