"""A model card picture: input | model | sharp reference, cropped from one benchmark pair.

The whole image goes through inference.engine.deblur, tiles and all, as the workers run it;
then the same box is cut from the three images and laid side by side. Prints the whole
image's PSNR before and after.

Run from the repository root:
    .venv/bin/python bench/crop_strip.py ../shared/benchmarks/gopro-real 000100.png \
        --box 560,300,300,200 --model inference/weights/default.keras --out docs/img/gopro-000100.png
"""

import argparse
from pathlib import Path

import numpy as np
from common import nafnet
from PIL import Image

from inference.engine import deblur
from inference.metrics import psnr


def box(text: str) -> tuple[int, int, int, int]:
    left, top, width, height = (int(part) for part in text.split(","))
    return left, top, width, height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench_dir", type=Path, help="a folder holding blur/ and sharp/")
    parser.add_argument("name", help="the pair's file name")
    parser.add_argument("--box", type=box, required=True, help="left,top,width,height of the crop")
    parser.add_argument("--model", required=True, help="a trained NAFNet .keras file")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    args = parser.parse_args()

    blurred = np.asarray(Image.open(args.bench_dir / "blur" / args.name).convert("RGB"))
    sharp = np.asarray(Image.open(args.bench_dir / "sharp" / args.name).convert("RGB"))
    restored = deblur(nafnet(args.model), blurred)
    left, top, width, height = args.box
    crops = [image[top : top + height, left : left + width] for image in (blurred, restored, sharp)]
    Image.fromarray(np.concatenate(crops, axis=1)).save(args.out)
    print(f"{args.name}: {psnr(blurred, sharp):.2f} -> {psnr(restored, sharp):.2f} dB; wrote {args.out}")


if __name__ == "__main__":
    main()
