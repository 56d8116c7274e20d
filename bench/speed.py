"""Seconds per megapixel of deblurring models on a 1280x720 photo, and the ratios between them.

Every model runs through inference.engine.deblur at full resolution with its architecture's
tiles (engine.tiling: 512 px for the U-Nets, 1024 px with a 256-px overlap for SRN), as the
workers run them: one warm-up run (graph building), then the median of three.
`--model` takes a `.keras` file or the name of a registered model and may be repeated:

    .venv/bin/python bench/speed.py                      # default NAFNet (random weights) vs DeblurGAN
    .venv/bin/python bench/speed.py --model inference/weights/default.keras
    .venv/bin/python bench/speed.py --model /tmp/srn/srn-gopro.keras --model inference/weights/default.keras

With no --model, the default NAFNet with random weights is timed (speed depends on the
architecture only); with fewer than two, the DeblurGAN generator (random weights) is timed
as the reference too. Each model's figures are printed, then every model's time over the
fastest one's, then the targets of the architectures that were timed. Each model runs in
float32 and again in bfloat16 (inference.precision.in_precision), with the ratio, how
closely the outputs agree and what INFERENCE_PRECISION=auto picks on this CPU.
Run from the repository root.
"""

import argparse
import statistics
import time
from pathlib import Path

import keras
import numpy as np
from common import nafnet, photo
from django.conf import settings

from inference import metrics, nets, precision
from inference.engine import deblur, tiling
from inference.nets import build_deblurgan
from inference.registry import resolve_model

WIDTH, HEIGHT = 1280, 720
RUNS = 3
# DESIGN.md section 5: the default generator is the one small enough for CPUs.
TARGET_SECONDS_PER_MEGAPIXEL = {nets.NAFNET: 1.0, nets.SRN: 4.0}
TARGET_RATIO = 8.0  # DeblurGAN / NAFNet


def median_seconds(model: keras.Model, rgb: np.ndarray, tile: int | None, runs: int = RUNS) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (all threads) per image. CPU time says what the
    work costs when other processes share the cores and stretch the wall-clock time."""
    deblur(model, rgb, tile=tile)
    wall, cpu = [], []
    for _ in range(runs):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        deblur(model, rgb, tile=tile)
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def models_to_time(given: list[str]) -> list[tuple[str, keras.Model]]:
    """(label, model) for each --model, or the default NAFNet; plus DeblurGAN as the
    reference when fewer than two models were given."""
    if not given:
        timed = [("NAFNet", nafnet(None))]
    else:
        timed = []
        for name_or_path in given:
            model = resolve_model(name_or_path)
            label = Path(name_or_path).name if name_or_path.endswith(".keras") else name_or_path
            timed.append((f"{nets.architecture_of(model)} ({label})", model))
    if len(timed) < 2:
        timed.append(("DeblurGAN", build_deblurgan()))
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        help="a .keras file or a registered model's name; repeat it to time several (default: the default NAFNet, random weights)",
    )
    parser.add_argument("--tile", type=int, help="tile size in pixels for every model (default: each architecture's, engine.tiling)")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timed runs after the warm-up, median taken (default {RUNS})")
    args = parser.parse_args()

    # Registered models load in float32 here, whatever auto gives them on this CPU: their
    # bfloat16 copies are timed beside them.
    settings.INFERENCE_PRECISION = precision.FLOAT32
    rgb, source = photo(WIDTH, HEIGHT)
    megapixels = WIDTH * HEIGHT / 1e6
    print(f"Photo: {source}, {WIDTH}x{HEIGHT} ({megapixels:.2f} MP); median of {args.runs} after a warm-up")
    seconds, architectures = {}, {}
    timed = models_to_time(args.model)
    width = max(len(label) for label, _ in timed)
    for label, model in timed:
        seconds[label], cpu = median_seconds(model, rgb, args.tile, args.runs)
        architectures[label] = model.name
        tile, overlap = tiling(model)
        tile = args.tile or tile
        print(
            f"{label:{width}}  {model.count_params() / 1e6:6.2f} M parameters  tile {tile:4d}/{overlap:3d}  "
            f"{seconds[label]:7.2f} s/image  {seconds[label] / megapixels:7.2f} s/MP  {cpu:7.2f} CPU s/image",
            flush=True,
        )

    flags = precision.cpu_flags()
    print(precision.why("auto", flags))
    for label, model in timed:
        low = precision.in_precision(model, precision.BFLOAT16)
        low_seconds, _ = median_seconds(low, rgb, args.tile, args.runs)
        agreement = metrics.psnr(deblur(low, rgb, tile=args.tile), deblur(model, rgb, tile=args.tile))
        print(
            f"{label:{width}}  bfloat16 {low_seconds / megapixels:7.2f} s/MP, float32 / bfloat16: "
            f"{seconds[label] / low_seconds:.2f}x, outputs agree to {agreement:.1f} dB; "
            f"auto picks {precision.resolve('auto', model.name, flags)}",
            flush=True,
        )

    fastest = min(seconds, key=seconds.get)
    for label in sorted(seconds, key=seconds.get):
        if label != fastest:
            print(f"{label} / {fastest}: {seconds[label] / seconds[fastest]:.1f}x")

    verdicts = []
    for label, architecture in architectures.items():
        target = TARGET_SECONDS_PER_MEGAPIXEL.get(architecture)
        if target is not None:
            met = seconds[label] / megapixels <= target
            verdicts.append(f"{label} <= {target:g} s/MP: {'met' if met else 'MISSED'}")
    nafnets = [label for label, architecture in architectures.items() if architecture == nets.NAFNET]
    if "DeblurGAN" in seconds and nafnets:
        ratio = seconds["DeblurGAN"] / seconds[nafnets[0]]
        verdicts.append(f"{nafnets[0]} >= {TARGET_RATIO:g}x faster than DeblurGAN: {'met' if ratio >= TARGET_RATIO else 'MISSED'}")
    if verdicts:
        print("Targets: " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
