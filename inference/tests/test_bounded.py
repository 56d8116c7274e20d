"""Decoding under a CPU-time limit in a child process: a file dear to decode is stopped in
about the limit, a crashing decoder takes only the child down, answers and errors come back."""

import os
import time

import pytest

from inference.bounded import Crashed, TooCostly, run_bounded
from inference.images import ImageRejected, decode_image_bounded

from .image_files import encode, jpeg_with_scans, load_pixels, noise

MB = 1024**2


def test_a_decode_that_would_hold_a_process_for_a_minute_is_stopped_at_its_cpu_limit():
    # 30,000 scans over 36 MP: over a minute of CPU in Pillow, were it let run.
    bomb = jpeg_with_scans(30_000, size=(6000, 6000))
    started = time.monotonic()

    with pytest.raises(TooCostly, match="used its 1 s of CPU"):
        run_bounded(load_pixels, bomb, cpu_seconds=1, wall_seconds=30)

    assert time.monotonic() - started < 5


def test_a_child_that_sleeps_is_stopped_at_the_wall_clock_limit():
    started = time.monotonic()
    with pytest.raises(TooCostly, match="ran past 0.5 s"):
        run_bounded(time.sleep, 30, cpu_seconds=5, wall_seconds=0.5)
    assert time.monotonic() - started < 3


def test_a_decoder_that_crashes_takes_only_the_child_down():
    with pytest.raises(Crashed, match="died with exit code"):
        run_bounded(os.abort, cpu_seconds=1, wall_seconds=10)
    assert run_bounded(load_pixels, encode(noise(size=(40, 30)), "PNG"), cpu_seconds=1, wall_seconds=10) == (40, 30)


def test_the_decoded_image_and_the_refusals_come_back_from_the_child():
    photo = noise(size=(300, 200))
    decoded = decode_image_bounded(encode(photo, "JPEG", progressive=True), cpu_seconds=5, max_bytes=MB, max_pixels=10**6)
    assert decoded.format == "JPEG" and decoded.image.size == (300, 200) and decoded.image.mode == "RGB"

    with pytest.raises(ImageRejected) as refused:
        decode_image_bounded(b"\xff\xd8\xff\xe0 not a jpeg at all", cpu_seconds=5, max_bytes=MB, max_pixels=10**6)
    assert refused.value.code == "corrupt" and "damaged or incomplete" in refused.value.message

    with pytest.raises(ImageRejected) as too_large:  # refused before a child is started
        decode_image_bounded(b"x" * (MB + 1), cpu_seconds=5, max_bytes=MB, max_pixels=10**6)
    assert too_large.value.code == "too_large"
