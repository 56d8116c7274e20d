"""How much a model deblurs clean blur, family by family and length by length.

The benchmarks mix blur with noise and compression; this sweep takes them apart. Each
held-out photo (training.data.split_holdout: never trained on) is resized to a 1280 px long
side, cropped to a centre window and blurred in linear light by one family at one path
length, with no noise, no JPEG and no highlight boost (--video: on the encoded values, as
GoPro's averaged video frames were blurred; see DegradeSettings.video_prob). It prints the
input's and the model's mean PSNR per family and length, and the gain. A model that smooths
instead of deblurring shows up as a negative gain on light blur.

Run from the repository root:
    .venv/bin/python bench/blur_sweep.py --photos photos --model inference/weights/default.keras [--video]
"""

import argparse
from pathlib import Path

import numpy as np
from common import nafnet

from inference.engine import deblur
from inference.metrics import psnr
from training.data import list_photos, load_photo, resize_long_side, split_holdout
from training.degrade import DEFAULT, DegradeSettings, degrade

FAMILIES = ("linear", "trajectory")
LENGTHS = (10, 25, 45)
WINDOW = 480
SEED = 7


def clean(family: str, length: float, video: bool) -> DegradeSettings:
    return DegradeSettings(
        family_weights={family: 1.0},
        motion_length=(length, length),
        video_prob=1.0 if video else 0.0,
        noise_read=(0.0, 0.0),
        noise_shot=(0.0, 0.0),
        jpeg_prob=0.0,
        highlight_prob=0.0,
    )


def centre_window(image: np.ndarray, size: int) -> np.ndarray:
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return image[top : top + size, left : left + size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", required=True, help="the training photos folder (its held-out photos are used)")
    parser.add_argument("--model", help="a trained NAFNet .keras file (default: random weights)")
    parser.add_argument("--video", action="store_true", help="blur on encoded values, as GoPro's frames were made")
    args = parser.parse_args()

    model = nafnet(args.model)
    _, holdout = split_holdout(list_photos(Path(args.photos)))
    margin = DEFAULT.max_kernel // 2
    windows = [centre_window(resize_long_side(load_photo(path), 1280), WINDOW + 2 * margin) for path in holdout]
    print(f"{len(windows)} held-out photos ({', '.join(p.name for p in holdout)}), {WINDOW}x{WINDOW} windows")
    print(f"{'family':10} {'length':>6} {'input dB':>9} {'model dB':>9} {'gain':>6}")
    for family in FAMILIES:
        for length in LENGTHS:
            inputs, outputs = [], []
            for index, window in enumerate(windows):
                settings = clean(family, length, args.video)
                blurred = degrade(window, np.random.default_rng([SEED, index]), settings, margin=margin)
                sharp = window[margin:-margin, margin:-margin]
                inputs.append(psnr(blurred, sharp))
                outputs.append(psnr(deblur(model, blurred), sharp))
            gain = np.mean(outputs) - np.mean(inputs)
            print(f"{family:10} {length:6} {np.mean(inputs):9.2f} {np.mean(outputs):9.2f} {gain:+6.2f}")


if __name__ == "__main__":
    main()
