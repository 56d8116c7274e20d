"""What decoding in a child process under a CPU limit costs a real upload, and how soon it
stops a file built to be dear to decode. Each format at 12 MP and 0.3 MP, decoded in
process (decode_image) and bounded (decode_image_bounded), best of five; then the
30,000-scan JPEG, decoded by Pillow alone past the scan check, under a 1 s limit.

    .venv/bin/python bench/decode_bound.py
"""

import io
import time

import common  # noqa: F401  (puts the repository on sys.path)
import numpy as np
from PIL import Image

from inference.bounded import TooCostly, run_bounded
from inference.images import decode_image, decode_image_bounded
from inference.tests.image_files import jpeg_with_scans, load_pixels

LIMITS = {"max_bytes": 100 * 1024**2, "max_pixels": 40_000_000}


def photo(size: tuple[int, int]) -> Image.Image:
    """Smooth colour at a photo's scale, with fine noise: files the size cameras write."""
    rng = np.random.default_rng(0)
    coarse = Image.fromarray((rng.random((size[1] // 16, size[0] // 16, 3)) * 255).astype("uint8"))
    fine = rng.normal(0, 6, (size[1], size[0], 3))
    return Image.fromarray(np.clip(np.asarray(coarse.resize(size, Image.Resampling.BICUBIC)) + fine, 0, 255).astype("uint8"))


def best_of(count: int, call) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    run_bounded(len, b"", cpu_seconds=1, wall_seconds=30)  # starts the fork server once
    print("| format | size | in process | bounded | added |")
    print("| --- | --- | --- | --- | --- |")
    for size in ((4000, 3000), (640, 480)):
        image = photo(size)
        for image_format, params in (("JPEG", {"quality": 92}), ("PNG", {}), ("WEBP", {"quality": 90}), ("HEIF", {"quality": 90})):
            buffer = io.BytesIO()
            image.save(buffer, image_format, **params)
            raw = buffer.getvalue()
            plain = best_of(5, lambda: decode_image(raw, **LIMITS))
            bounded = best_of(5, lambda: decode_image_bounded(raw, cpu_seconds=6, **LIMITS))
            megapixels = size[0] * size[1] / 1e6
            print(f"| {image_format} | {megapixels:.1f} MP | {plain * 1000:.0f} ms | {bounded * 1000:.0f} ms | {(bounded - plain) * 1000:+.0f} ms |")
    bomb = jpeg_with_scans(30_000, size=(6000, 6000))
    started = time.perf_counter()
    try:
        run_bounded(load_pixels, bomb, cpu_seconds=1, wall_seconds=60)
    except TooCostly as stopped:
        print(f"\n30,000-scan JPEG ({len(bomb) / 1e6:.2f} MB), Pillow alone under a 1 s limit: {stopped}, "
              f"after {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
