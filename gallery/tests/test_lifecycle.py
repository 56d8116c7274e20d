"""The job lifecycle on the real services: PostgreSQL, Redis as the broker, and
Celery workers, one of which is killed in the middle of a job."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse

from deblursite.celery import app
from gallery import jobs
from gallery.models import Photo, Restoration
from inference.registry import register_model

from conftest import use_filesystem_storages

from .conftest import photo_bytes, upload, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def test_upload_is_deblurred_by_a_worker_through_redis(client, alice, active_model, worker):
    client.force_login(alice)

    client.post(reverse("gallery:upload"), {"images": [upload("a.jpg", photo_bytes(seed=1)), upload("b.jpg", photo_bytes(seed=2))]})

    photos = list(Photo.objects.filter(owner=alice))
    assert len(photos) == 2
    for photo in photos:
        status_url = reverse("gallery:status", args=[photo.pk])
        final = wait_for(lambda: (s := client.get(status_url).json())["status"] in ("succeeded", "failed") and s)
        assert final == {
            "status": "succeeded", "progress": 1.0, "error": None, "eta_seconds": None, "wait_seconds": None,
            "queue_position": None, "glimpse_url": None,
        }  # fmt: skip


def test_a_short_job_does_not_wait_behind_a_long_one_on_the_other_queue(client, alice, bob, active_model, worker):
    from inference import speed

    # Best quality at 400 s per megapixel: bob's 0.3 MP photo is a two-minute job.
    speed.record(active_model, "cpu-float32", seconds=400.0, megapixels=1.0)
    client.force_login(bob)
    client.post(reverse("gallery:upload"), {"images": [upload("big.jpg", photo_bytes(size=(640, 480)))], "model": "best"})
    client.force_login(alice)
    client.post(reverse("gallery:upload"), {"images": [upload("small.jpg", photo_bytes())], "model": "shake"})
    big, small = Photo.objects.get(owner=bob), Photo.objects.get(owner=alice)

    # This worker serves the short queue only: the long job is on the other.
    status_url = reverse("gallery:status", args=[small.pk])
    assert wait_for(lambda: client.get(status_url).json()["status"] == "succeeded")
    job = Restoration.objects.get(photo=big)
    assert (job.queue, job.status) == ("deblur-long", "queued")


@pytest.fixture
def shared_var(settings, tmp_path):
    """Storages in the folders where a worker in another process, with VAR_DIR set
    to the same folder, looks for them."""
    use_filesystem_storages(settings, {"default": tmp_path / "media", "datasets": tmp_path / "datasets", "models": tmp_path / "models"})
    return tmp_path


def spawn_worker(var_dir: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "VAR_DIR": str(var_dir),
        # Small tiles make the job long enough to be killed in the middle.
        "INFERENCE_TILE": "32",
        "INFERENCE_OVERLAP": "8",
    }
    command = [sys.executable, "-m", "celery", "-A", "deblursite", "worker", "-Q", "deblur", "-P", "solo", "--loglevel", "WARNING"]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def test_job_of_a_killed_worker_is_picked_up_again(alice, shared_var, tiny_model_file, broker, settings):
    register_model(tiny_model_file, name="tiny", serve=["best"])
    photo_id = None
    process = spawn_worker(shared_var)
    try:
        from gallery.uploads import accept_photo

        photo_id = accept_photo(alice, upload("long.png", photo_bytes(size=(768, 768), fmt="PNG")), original_name="long.png").pk
        job = Restoration.objects.get(photo_id=photo_id)
        wait_for(lambda: Restoration.objects.get(pk=job.pk).progress > 0, timeout=120)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    killed = Restoration.objects.get(pk=job.pk)
    assert killed.status == "running" and 0 < killed.progress < 0.9

    settings.JOB_STALE_SECONDS = 1
    time.sleep(1.5)
    assert jobs.requeue_stale() == [job.pk]
    settings.INFERENCE_TILE = 256
    with start_worker(app, perform_ping_check=False, queues=["deblur"], shutdown_timeout=30):
        done = wait_for(lambda: (r := Restoration.objects.get(pk=job.pk)).is_done and r, timeout=120)

    assert done.status == "succeeded"
    assert done.attempts == 2
