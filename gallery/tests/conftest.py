import io
import time

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


def result_files(job, original: Image.Image, output: np.ndarray) -> dict:
    """The files a worker stores for a job whose network gave `output` (gallery.jobs._results)."""
    from django.utils import timezone

    from gallery import credentials, jobs

    edit = credentials.Edit("network", "tiny-test", "float32", strength=1.0, when=timezone.now())
    return jobs._results(job, original, None, output, edit, credentials.original_of(job.photo))


def succeed(photo, *, seed: int = 0, **figures) -> None:
    """Finish the photo's current job as a worker would, without the model: real small
    result files in storage (a sharp picture made from `seed` stands for the output) and
    these figures."""
    from django.core.files.base import ContentFile
    from django.utils import timezone


    job = photo.restoration
    with job.photo.original.open("rb") as handle:
        size = Image.open(handle).size
    sharp = Image.open(io.BytesIO(photo_bytes(size=size, fmt="PNG", seed=seed)))
    files = result_files(job, sharp, np.asarray(sharp))
    for field, (stored, content) in files.items():
        getattr(job, field).save(stored, ContentFile(content), save=False)
    job.bytes_stored = sum(len(content) for _, content in files.values())
    for key, value in figures.items():
        setattr(job, key, value)
    job.status, job.progress, job.model_name, job.finished_at = "succeeded", 1.0, "tiny-test", timezone.now()
    job.save()


def succeeded_photo(user, name: str = "photo.jpg", *, size=(64, 48), seed: int = 0, choice: str = "best", **figures):
    """A photo whose job succeeded (succeed), in one transaction: a worker that gets the
    job's message finds it done."""
    from django.db import transaction

    from gallery.uploads import accept_photo

    with transaction.atomic():
        photo = accept_photo(user, upload(name, photo_bytes(size=size, blur=1.5, seed=seed)), original_name=name, choice=choice)
        succeed(photo, **figures)
    return photo


@pytest.fixture
def broker(settings):
    """An empty Redis database as the broker, emptied again afterwards."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def worker(broker):
    """A real Celery worker on the deblur queue, in this process, on an empty broker."""
    from celery.contrib.testing.worker import start_worker

    from deblursite.celery import app

    with start_worker(app, perform_ping_check=False, queues=["deblur"], shutdown_timeout=30) as running:
        yield running


def wait_for(condition, timeout: float = 60.0, every: float = 0.2):
    """The condition's first true value, polled until the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s")


@pytest.fixture
def render_requests(monkeypatch) -> list[int]:
    """The renders of a saved strength sent to the downloads worker (gallery.blends.request),
    by job id; a test runs the worker's part itself (blends.render)."""
    sent: list[int] = []
    monkeypatch.setattr("gallery.tasks.render_blends.delay", lambda restoration_id: sent.append(restoration_id))
    return sent
