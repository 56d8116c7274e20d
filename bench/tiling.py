"""Tiled against untiled inference on benchmark frames: how much the engine's tiles cost.

For each frame the model runs once on the whole frame and once in tiles (the engine's
tiling for the architecture, or --tile/--overlap), and the script prints both PSNRs against
the sharp frame, their difference, and the PSNR of the tiled result against the untiled one.
Run from the repository root:

    .venv/bin/python bench/tiling.py --model var/srn-gopro.keras --every 6
"""

import argparse
from pathlib import Path

from common import REPO

from inference import engine, metrics
from inference.registry import load_generator
from training.evaluate import find_pairs, read_rgb

BENCH = REPO.parent / "shared" / "benchmarks" / "gopro-real"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a .keras file")
    parser.add_argument("--bench", default=str(BENCH), help="a folder with blur/ and sharp/ (default gopro-real)")
    parser.add_argument("--every", type=int, default=1, help="score every Nth pair only (default: all)")
    parser.add_argument("--tile", type=int, help="tile size (default: the engine's for the architecture)")
    parser.add_argument("--overlap", type=int, help="tile overlap (default: the engine's for the architecture)")
    args = parser.parse_args()

    model = load_generator(Path(args.model))
    tile, overlap = args.tile or engine.tiling(model)[0], args.overlap if args.overlap is not None else engine.tiling(model)[1]
    names = find_pairs(Path(args.bench))[0][:: args.every]
    print(f"{model.name}, tiles of {tile} overlapping by {overlap}, {len(names)} pairs of {args.bench}")
    print(f"{'image':12} {'untiled':>8} {'tiled':>8} {'diff dB':>8} {'tiled vs untiled dB':>20}")
    worst = 0.0
    for name in names:
        blurred, sharp = read_rgb(Path(args.bench) / "blur" / name), read_rgb(Path(args.bench) / "sharp" / name)
        whole = engine.deblur(model, blurred, tile=max(blurred.shape[:2]), overlap=0)
        tiled = engine.deblur(model, blurred, tile=tile, overlap=overlap)
        untiled_psnr, tiled_psnr = metrics.psnr(whole, sharp), metrics.psnr(tiled, sharp)
        worst = max(worst, abs(tiled_psnr - untiled_psnr))
        print(f"{name:12} {untiled_psnr:8.3f} {tiled_psnr:8.3f} {tiled_psnr - untiled_psnr:+8.3f} {metrics.psnr(tiled, whole):20.2f}", flush=True)
    print(f"Largest difference: {worst:.3f} dB")


if __name__ == "__main__":
    main()
