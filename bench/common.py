"""What the benchmark scripts share: the project on the path with Django set up (the
inference engine imports the model registry), the test photo, and the model to time."""

import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
# A real 1280x720 frame with real blur (../shared/benchmarks/README.md).
FRAME = REPO.parent / "shared" / "benchmarks" / "gopro-real" / "blur" / "000100.png"

sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deblursite.settings")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import django

django.setup()

# The inference modules import the model registry, so they come after django.setup().
import keras

from inference.nets import build_nafnet
from inference.registry import load_generator


def photo(width: int, height: int) -> tuple[np.ndarray, str]:
    """A photo of that size and where it came from: the GoPro frame, cropped to the aspect
    ratio and resized, or scikit-image's astronaut where the benchmarks are not checked out."""
    if FRAME.exists():
        image, source = Image.open(FRAME).convert("RGB"), f"../{FRAME.relative_to(REPO.parent).as_posix()}"
    else:
        from skimage import data

        image, source = Image.fromarray(data.astronaut()), "skimage.data.astronaut"
    scale = min(image.width / width, image.height / height)
    crop_width, crop_height = round(width * scale), round(height * scale)
    left, top = (image.width - crop_width) // 2, (image.height - crop_height) // 2
    image = image.crop((left, top, left + crop_width, top + crop_height))
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.LANCZOS)
        source += " (cropped and resized)"
    return np.asarray(image), source


def nafnet(path: str | None) -> keras.Model:
    """The trained generator in `path`, or the default NAFNet with random weights (as fast
    as a trained one: speed and memory depend on the architecture only)."""
    return build_nafnet() if path is None else load_generator(Path(path))
