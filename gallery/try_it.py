"""'Try it': a sharp photo blurred by the site, so that people without a blurred photo can
see what deblurring does, with PSNR and SSIM against the photo they sent.

The blur is the training data's (training.degrade: numpy and scipy, no TensorFlow), in
linear light, without noise or JPEG, so that the figures measure the blur alone. The random
parts (the direction of motion, the shake's path) are drawn from a generator seeded by the
photo's pixels: the same photo and settings always give the same blurred photo."""

import hashlib
import math
from typing import BinaryIO

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from PIL import Image

from inference.images import merge_like, split_alpha
from inference.models import Choice
from training.degrade import (
    DEFAULT,
    blur_patch,
    defocus_kernel,
    linear_motion_kernel,
    linear_to_srgb,
    odd_support,
    srgb_to_linear,
    trajectory_kernel,
)

from .models import Photo
from .uploads import charge_photo, decode_upload, keep_photo

KINDS = {"motion": "Motion", "shake": "Camera shake", "defocus": "Out of focus"}
# Larger photos are scaled down first, so that blurring and storing stay around a second.
MAX_PIXELS = 4_000_000
# At full strength: a 40 px pan or shake, a defocus disc of radius 6 px. That is within what
# the models were trained on (training.degrade.DEFAULT), so "strong" is still worth deblurring.
MOTION_LENGTH = (3.0, 40.0)
DEFOCUS_RADIUS = (0.5, 6.0)

_SRGB8_TO_LINEAR = srgb_to_linear(np.arange(256, dtype=np.float32) / np.float32(255))


# What the photo page calls a photo's own images. A try-it photo's original is the blurred
# copy the site made, and its reference the sharp photo its owner sent.
PHOTO_NAMES = {"before": "Original", "before_name": "original", "reference": "Reference"}
TRY_IT_NAMES = {"before": "Blurred (input)", "before_name": "blurred input", "reference": "Sharp original"}


def image_names(photo: Photo) -> dict[str, str]:
    return TRY_IT_NAMES if photo.synthetic_blur else PHOTO_NAMES


def describe_blur(synthetic_blur: dict) -> str:
    """'motion, 60 %' for the photo page."""
    return f"{KINDS[synthetic_blur['kind']].lower()}, {round(synthetic_blur['strength'] * 100)} %"


def kernel(kind: str, strength: float, rng: np.random.Generator) -> np.ndarray:
    """The PSF of a blur kind at a strength in [0, 1]."""
    length = MOTION_LENGTH[0] + strength * (MOTION_LENGTH[1] - MOTION_LENGTH[0])
    if kind == "motion":
        return linear_motion_kernel(length, rng.uniform(0, 180), odd_support(length + 2, DEFAULT.max_kernel))
    if kind == "shake":
        return trajectory_kernel(rng, odd_support(length + 2, DEFAULT.max_kernel), exposure=1.0)
    if kind == "defocus":
        radius = DEFOCUS_RADIUS[0] + strength * (DEFOCUS_RADIUS[1] - DEFOCUS_RADIUS[0])
        return defocus_kernel(radius, odd_support(2 * radius + 2, DEFAULT.max_kernel))
    raise ValueError(f"unknown blur kind {kind!r}; known: {list(KINDS)}")


def blurred(image: Image.Image, kind: str, strength: float) -> Image.Image:
    """The image blurred, same size and mode; alpha is kept as it is. The borders are
    blurred over a mirror image of the photo."""
    rgb, alpha = split_alpha(image)
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(rgb.tobytes()).digest()[:8], "big"))
    psf = kernel(kind, strength, rng)
    out = blur_patch(_SRGB8_TO_LINEAR[rgb], psf, margin=0)
    srgb = np.rint(linear_to_srgb(np.clip(out, 0, 1)) * 255).astype(np.uint8)
    return merge_like(srgb, image, alpha)


def capped(image: Image.Image) -> tuple[Image.Image, list[str]]:
    """The image scaled down to MAX_PIXELS if it is larger, and a note saying so."""
    width, height = image.size
    if width * height <= MAX_PIXELS:
        return image, []
    scale = math.sqrt(MAX_PIXELS / (width * height))
    size = (max(1, math.floor(width * scale)), max(1, math.floor(height * scale)))
    note = (
        f"Scaled down from {width}×{height} to {size[0]}×{size[1]} pixels before blurring "
        f"(try-it photos are at most {MAX_PIXELS / 1e6:g} megapixels)."
    )
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0), [note]


def accept_try_it(
    user: AbstractBaseUser,
    upload: BinaryIO,
    *,
    original_name: str,
    kind: str,
    strength: float,
    choice: str = Choice.AUTO,
    address: str | None = None,
) -> Photo:
    """Blur an uploaded sharp photo and keep the pair as an upload with its reference:
    the blurred image is the photo, the sharp one its reference."""
    charge_photo(user, address)
    decoded = decode_upload(upload, "image")
    sharp, notes = capped(decoded.image)
    return keep_photo(
        user,
        blurred(sharp, kind, strength),
        original_name=original_name,
        reference=sharp,
        notes=decoded.notes + notes,
        choice=choice,
        synthetic_blur={"kind": kind, "strength": strength},
        address=address,
    )
