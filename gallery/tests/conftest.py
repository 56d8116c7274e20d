import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFilter


def photo_bytes(size=(96, 64), fmt="JPEG", mode="RGB", seed=0, blur=0.0) -> bytes:
    """A real photograph-like image: smooth shapes plus texture, optionally blurred."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) % 64) * 4], axis=-1)
    noise = rng.integers(0, 40, size=(h, w, 3))
    image = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def jpeg():
    return photo_bytes()
