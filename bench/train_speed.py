"""Seconds per content-loss training step of each architecture at the settings the estimate
on the new-run page is based on (training.runs.estimate.CPU_SECONDS_PER_STEP): batch 8,
patch 128, the default sizes. Run: .venv/bin/python bench/train_speed.py [--steps N]."""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from inference import nets  # noqa: E402
from training.trainer import TrainConfig, build_generator, compile_generator  # noqa: E402


def seconds_per_step(arch: str, steps: int, batch: int = 8, patch: int = 128) -> float:
    config = TrainConfig(out=Path("."), arch=arch, batch=batch, patch=patch, steps=steps)
    model = build_generator(config)
    compile_generator(model, config)
    rng = np.random.default_rng(0)
    data = rng.random((batch * (steps + 2), patch, patch, 3), dtype=np.float32)
    model.fit(data[: batch * 2], data[: batch * 2], batch_size=batch, verbose=0)  # build and compile
    start = time.perf_counter()
    model.fit(data[batch * 2 :], data[batch * 2 :], batch_size=batch, verbose=0)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--arch", action="append", choices=nets.ARCHITECTURES)
    args = parser.parse_args()
    print(f"{'architecture':12} {'s/step':>8}  (batch 8, patch 128, {os.cpu_count()} cores)")
    for arch in args.arch or nets.ARCHITECTURES:
        print(f"{arch:12} {seconds_per_step(arch, args.steps):8.3f}", flush=True)


if __name__ == "__main__":
    main()
