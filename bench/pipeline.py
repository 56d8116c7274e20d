"""Does the input pipeline starve training? Times training steps fed by the real
tf.data pipeline (crop, blur synthesis, noise, JPEG on the fly) against the same
steps fed from batches already in memory. A ratio near 1 means the pipeline keeps up.

    .venv/bin/python bench/pipeline.py --photos DIR [--steps 60] [--batch 8] [--patch 128]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deblursite.settings")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")

import django  # noqa: E402

django.setup()

from training.trainer import TrainConfig, build_generator, compile_generator, photo_data  # noqa: E402


def seconds_per_step(model, dataset, steps: int) -> float:
    model.fit(dataset, steps_per_epoch=5, epochs=1, verbose=0)  # warm-up: tracing, prefetch buffers
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--patch", type=int, default=128)
    args = parser.parse_args()

    config = TrainConfig(out=Path(tempfile.mkdtemp()), photos=args.photos, batch=args.batch, patch=args.patch)
    data = photo_data(config)
    model = build_generator(config)
    compile_generator(model, config)

    cached = data.batches(0).take(args.steps).cache().repeat()
    for _ in cached.take(args.steps):  # fill the cache before timing
        pass
    in_memory = seconds_per_step(model, cached, args.steps)
    real = seconds_per_step(model, data.batches(0), args.steps)
    print(f"batch {args.batch}, patch {args.patch}, {args.steps} steps, {os.cpu_count()} CPU cores")
    print(f"cached tensors: {in_memory:.3f} s/step")
    print(f"real pipeline:  {real:.3f} s/step")
    print(f"ratio real / cached: {real / in_memory:.2f}")


if __name__ == "__main__":
    main()
