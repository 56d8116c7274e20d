"""Time training.degrade.degrade per patch, as the training pipeline calls it.

Run from the repository root: python -m bench.degrade_speed [--size 128] [--count 1000]
"""

import argparse
import time

import numpy as np

from training.degrade import DEFAULT, FAMILIES, DegradeSettings, degrade


def ms_per_patch(size: int, count: int, settings: DegradeSettings, seed: int = 0) -> float:
    """Mean wall time of degrade() on ``count`` random uint8 patches of ``size`` px plus the
    margin the settings need, one thread."""
    margin = settings.max_kernel // 2
    rng = np.random.default_rng(seed)
    patches = rng.integers(0, 256, (count, size + 2 * margin, size + 2 * margin, 3), dtype=np.uint8)
    degrade(patches[0], rng, settings, margin=margin)  # warm-up: FFT plans, Pillow's encoder
    start = time.perf_counter()
    for patch in patches:
        degrade(patch, rng, settings, margin=margin)
    return (time.perf_counter() - start) / count * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    print(f"{args.size}x{args.size} patches, margin {DEFAULT.max_kernel // 2}, {args.count} each")
    print(f"default mix: {ms_per_patch(args.size, args.count, DEFAULT):.2f} ms/patch")
    for family in FAMILIES:
        settings = DegradeSettings(family_weights={family: 1.0})
        print(f"  {family:>10}: {ms_per_patch(args.size, args.count // 4, settings):.2f} ms/patch")


if __name__ == "__main__":
    main()
