"""The no-reference blur figure (inference.metrics.blur) on every shared benchmark: how many
pairs it ranks right (sharp image sharper), and how far noise of 4 grey levels on the
blurred image moves it, as a share of the blurred-to-sharp gap, with and without the 2x2
block averaging. Run: .venv/bin/python bench/blur_metric.py"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deblursite.settings")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage.measure import blur_effect  # noqa: E402

from inference.metrics import LUMA_WEIGHTS, blur  # noqa: E402

BENCHMARKS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


def unaveraged(image: np.ndarray) -> float:
    return float(blur_effect(image.astype(np.float64) @ LUMA_WEIGHTS / 255))


def noisy(image: np.ndarray, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, 4.0, image.shape)
    return np.clip(image + noise, 0, 255).round().astype(np.uint8)


def main() -> None:
    print("| set | pairs ranked right | noise shift, 2x2-averaged (median) | noise shift, not averaged |")
    print("| --- | --- | --- | --- |")
    for folder in sorted(path for path in BENCHMARKS.iterdir() if (path / "blur").is_dir()):
        ranked, shifts, raw_shifts, names = 0, [], [], sorted(p.name for p in (folder / "blur").glob("*.png"))
        for seed, name in enumerate(names):
            blurred, sharp = (np.asarray(Image.open(folder / side / name).convert("RGB")) for side in ("blur", "sharp"))
            noisy_blurred = noisy(blurred, seed)
            for figure, out in ((blur, shifts), (unaveraged, raw_shifts)):
                before, after = figure(blurred), figure(sharp)
                out.append((before - figure(noisy_blurred)) / (before - after))
            ranked += blur(sharp) < blur(blurred)
        print(f"| {folder.name} | {ranked}/{len(names)} | {np.median(shifts):.0%} | {np.median(raw_shifts):.0%} |")


if __name__ == "__main__":
    main()
