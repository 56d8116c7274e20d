"""Best quality in float32 against INFERENCE_PRECISION=auto, timed from outside: the same
`manage.py deblur --model best` command on the same real frames, once per setting, each in
a fresh process (model loading and all), by the wall clock around it. Then each run's
results are scored against the sharp frames (PSNR, the frames are pixel-aligned), to say
what the faster arithmetic costs.

    .venv/bin/python bench/precision.py                 # every 3rd gopro-real frame (10)
    .venv/bin/python bench/precision.py --step 1        # all 30

Needs SRN installed and serving Best quality (`make run` does it). gopro-real comes from
GoPro's training split: SRN has seen it, so its figures are not a held-out score; the
difference between the two precisions is what this measures.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
import numpy as np
from PIL import Image

from inference import metrics, nets, precision

GOPRO = common.REPO.parent / "shared" / "benchmarks" / "gopro-real"
SETTINGS = ("float32", "auto")


def timed_run(setting: str, frames: Path, out: Path) -> float:
    env = {**os.environ, "INFERENCE_PRECISION": setting, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "manage.py", "deblur", str(frames), "--out", str(out), "--model", "best"]
    started = time.perf_counter()
    subprocess.run(command, cwd=common.REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def psnrs(out: Path, names: list[str]) -> list[float]:
    scores = []
    for name in names:
        result = np.asarray(Image.open(out / f"{Path(name).stem}.png").convert("RGB"))
        sharp = np.asarray(Image.open(GOPRO / "sharp" / name).convert("RGB"))
        scores.append(metrics.psnr(result, sharp))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", type=int, default=3, help="every n-th gopro-real frame")
    args = parser.parse_args()
    names = sorted(path.name for path in (GOPRO / "blur").iterdir())[:: args.step]
    frames = Path(tempfile.mkdtemp(prefix="frames-"))
    for name in names:
        (frames / name).symlink_to(GOPRO / "blur" / name)
    megapixels = sum(Image.open(frames / name).size[0] * Image.open(frames / name).size[1] for name in names) / 1e6
    auto_gives = precision.resolve("auto", nets.SRN, precision.cpu_flags())
    print(f"{len(names)} gopro-real frames, {megapixels:.1f} MP; auto gives SRN {auto_gives} on this CPU")
    figures = {}
    for setting in SETTINGS:
        out = Path(tempfile.mkdtemp(prefix=f"{setting}-"))
        seconds = timed_run(setting, frames, out)
        figures[setting] = (seconds, psnrs(out, names))
        print(f"INFERENCE_PRECISION={setting}: {seconds:.1f} s from outside, "
              f"mean PSNR {statistics.mean(figures[setting][1]):.3f} dB", flush=True)  # fmt: skip
    (f32_seconds, f32), (auto_seconds, auto) = figures["float32"], figures["auto"]
    differences = [a - b for a, b in zip(auto, f32)]
    print(f"auto is {f32_seconds / auto_seconds:.2f}x faster than float32; PSNR {statistics.mean(differences):+.3f} dB "
          f"on average (per frame {min(differences):+.3f} to {max(differences):+.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
