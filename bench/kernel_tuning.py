"""The kernel engine on synthetic uniform blur of the training photos: what its noise
weight and its gate were tuned on (never on the benchmarks, never on the four photos that
training holds out).

    .venv/bin/python bench/kernel_tuning.py --photos photos            # the engine as it is
    .venv/bin/python bench/kernel_tuning.py --photos photos --weight 0.005 0.01 0.02

One pair per training photo, seeded: a 600x800 crop of the photo at 1024 px, blurred in
linear light by a camera-shake trajectory (half the pairs), a defocus disc or a straight
motion of 9 to 35 px, with read and shot noise and, for half of them, JPEG at quality 60-95.
Each pair is scored (aligned as kohler is) for the deconvolution alone and for what the gate
lets through, with the gate's figures.
"""

import argparse
from pathlib import Path

import common  # noqa: F401  (Django set up, the project on the path)
import numpy as np
from PIL import Image

from inference import kernels, metrics
from inference.kernels import estimate, gate
from training import degrade
from training.data import list_photos, split_holdout


def pairs(folder: Path):
    """(name, blurred, sharp) for each training photo."""
    training, _ = split_holdout(list_photos(folder))
    rng = np.random.default_rng(7)
    for index, path in enumerate(training):
        image = Image.open(path).convert("RGB")
        scale = 1024 / max(image.size)
        image = np.asarray(image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS))
        height, width = min(600, image.shape[0]), min(800, image.shape[1])
        top = rng.integers(0, image.shape[0] - height + 1)
        left = rng.integers(0, image.shape[1] - width + 1)
        sharp = image[top : top + height, left : left + width]
        family = rng.choice(["shake", "shake", "defocus", "linear"])
        length = rng.uniform(9, 35)
        if family == "shake":
            kernel = degrade.trajectory_kernel(rng, degrade.odd_support(length + 2, 99), exposure=1.0)
        elif family == "defocus":
            radius = rng.uniform(2, 7)
            kernel = degrade.defocus_kernel(radius, degrade.odd_support(2 * radius + 2, 99))
        else:
            kernel = degrade.linear_motion_kernel(length, rng.uniform(0, 180), degrade.odd_support(length + 2, 99))
        margin = kernel.shape[0] // 2
        linear = degrade.srgb_to_linear(np.pad(sharp, ((margin,) * 2, (margin,) * 2, (0, 0)), mode="reflect") / 255)
        blurred = degrade.blur_patch(linear, kernel, margin)
        blurred = degrade.add_sensor_noise(np.clip(blurred, 0, 1), rng, rng.uniform(0, 0.004), rng.uniform(0, 0.001))
        blurred = np.rint(degrade.linear_to_srgb(blurred) * 255).astype(np.uint8)
        if rng.uniform() < 0.5:
            blurred = degrade.jpeg_reencode(blurred, int(rng.integers(60, 95)))
        yield f"{index:02d}-{family}", blurred, sharp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", required=True, help="the folder of sharp photos training uses")
    parser.add_argument("--weight", type=float, nargs="+", help="NOISE_WEIGHT values to try (default: the engine's)")
    args = parser.parse_args()
    weights = args.weight or [kernels.NOISE_WEIGHT]
    score = {weight: [] for weight in weights}
    inputs = []
    for name, blurred, sharp in pairs(Path(args.photos)):
        gray = kernels.luminance(blurred.astype(np.float32) / 255)
        kernel, work, scale = kernels.estimate_kernel(gray)
        full = kernels.full_size_kernel(kernel, scale)
        before = metrics.aligned(blurred, sharp, radius=12, border=16).psnr
        inputs.append(before)
        line = f"{name:14} input {before:6.2f}"
        for weight in weights:
            kernels.NOISE_WEIGHT = weight
            restored = kernels.deblur(blurred, full, kernels.noise_sigma(gray))
            verdict = gate.check(work, estimate.downscale(kernels.luminance(restored), scale), kernel, kernels.noise_sigma(work))
            output = np.clip(np.rint(restored * 255), 0, 255).astype(np.uint8)
            after = metrics.aligned(output, sharp, radius=12, border=16).psnr
            score[weight].append((after, verdict.passed))
            figures = " ".join(f"{key}={value:.2f}" for key, value in verdict.figures.items() if key in ("radius", "reblur", "flat_gain"))
            line += f" | w={weight:g} {after - before:+6.2f} {'pass' if verdict.passed else 'fail'} {figures}"
        print(line, flush=True)
    for weight, results in score.items():
        raw = np.mean([after for after, _ in results]) - np.mean(inputs)
        gated = np.mean([after if passed else before for (after, passed), before in zip(results, inputs)]) - np.mean(inputs)
        print(f"w={weight:g}: deconvolution alone {raw:+.2f} dB, through the gate {gated:+.2f} dB, "
              f"{sum(passed for _, passed in results)} of {len(results)} passed")


if __name__ == "__main__":
    main()
