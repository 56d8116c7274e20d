"""The job's life, calling gallery.jobs directly (the Celery task is a thin wrapper)."""

import io
import time
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from gallery import jobs
from gallery.models import Restoration
from gallery.uploads import accept_photo
from inference import kernels, metrics, speed
from inference.models import ModelVersion

from .conftest import photo_bytes, upload


def new_job(user, content=None, reference=None, name="photo.jpg", choice="best") -> Restoration:
    image = upload(name, content or photo_bytes(blur=1.5))
    return accept_photo(user, image, original_name=name, reference=reference, choice=choice).restoration


def png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def reload(job: Restoration) -> Restoration:
    return Restoration.objects.select_related("photo", "model_version").get(pk=job.pk)


def stored_image(name: str) -> Image.Image:
    with default_storage.open(name) as f:
        return Image.open(io.BytesIO(f.read()))


def test_job_without_reference_records_result_and_blur(alice, active_model):
    job = new_job(alice)

    jobs.run(job.pk)

    job = reload(job)
    assert job.status == "succeeded" and job.progress == 1.0 and job.error == ""
    assert job.model_version == active_model and job.model_name == "tiny-test"
    assert job.processing_seconds is not None and job.processing_seconds >= 0
    assert 0 < job.blur_before < 1 and 0 < job.blur_after < 1
    assert job.psnr_before is job.psnr_after is job.ssim_before is job.ssim_after is None
    assert stored_image(job.result.name).size == (96, 64)
    assert stored_image(job.result_jpeg.name).format == "JPEG"
    webp = stored_image(job.result_webp.name)
    assert (webp.format, webp.size) == ("WEBP", (96, 64))


def test_job_with_reference_records_psnr_and_ssim(alice, active_model):
    job = new_job(alice, reference=upload("sharp.png", photo_bytes(fmt="PNG")))

    jobs.run(job.pk)

    job = reload(job)
    assert job.status == "succeeded"
    before, after, sharp = (np.asarray(stored_image(f.name)) for f in (job.photo.original, job.result, job.photo.reference))
    # Each image aligned with the reference on its own: the kohler protocol's 12 px search
    # and 16 px border (the photo is 96x64, big enough for the whole border).
    aligned_before = metrics.aligned(before, sharp, radius=12, border=16)
    aligned_after = metrics.aligned(after, sharp, radius=12, border=16)
    assert (job.psnr_before, job.ssim_before) == pytest.approx((aligned_before.psnr, aligned_before.ssim))
    assert (job.psnr_after, job.ssim_after) == pytest.approx((aligned_after.psnr, aligned_after.ssim))
    assert job.psnr_before != job.psnr_after


def test_psnr_against_a_reference_shot_a_few_pixels_off_is_not_punished_for_the_shift(alice, media_storage):
    """A reference shot separately is rarely pixel-aligned: the figures align it first."""
    sharp = np.asarray(Image.open(io.BytesIO(photo_bytes(size=(128, 96), fmt="PNG"))))
    moved = np.roll(sharp, (3, -2), axis=(0, 1))
    job = new_job(alice, content=png(moved), reference=upload("sharp.png", png(sharp)), choice="shake")

    jobs.run(job.pk)

    job = reload(job)
    assert job.status == "succeeded"
    # The photo is its reference moved: aligned, the two are identical within the border
    # (infinite PSNR, kept as none), where unaligned they are far apart.
    assert job.psnr_before is None and job.ssim_before == pytest.approx(1.0)
    assert metrics.psnr(moved, sharp) < 20


def test_figures_of_a_photo_smaller_than_the_border_shrink_the_border(alice, active_model):
    sharp = photo_bytes(size=(40, 34), fmt="PNG")
    job = new_job(alice, content=photo_bytes(size=(40, 34), blur=1.0), reference=upload("sharp.png", sharp), choice="best")

    jobs.run(job.pk)

    job = reload(job)
    assert job.status == "succeeded" and job.psnr_before is not None and job.ssim_after is not None


def test_without_a_model_the_job_fails_saying_so(alice, media_storage):
    job = new_job(alice)

    jobs.run(job.pk)

    job = reload(job)
    assert job.status == "failed"
    assert 'No model serves "Best quality" yet' in job.error
    assert not job.result and job.model_name == ""


def test_retry_after_a_model_is_installed_succeeds(alice, media_storage, tiny_model_file):
    from inference.registry import register_model

    job = new_job(alice)
    jobs.run(job.pk)
    register_model(tiny_model_file, name="late", serve=["best"])

    jobs.retry(reload(job))
    assert reload(job).status == "queued"
    jobs.run(job.pk)

    assert reload(job).status == "succeeded"


def test_running_again_overwrites_its_own_result(alice, active_model, media_storage):
    job = new_job(alice)
    jobs.run(job.pk)
    first = reload(job)
    Restoration.objects.filter(pk=job.pk).update(status="queued")

    jobs.run(job.pk)

    again = reload(job)
    assert again.status == "succeeded"
    assert (again.result.name, again.result_jpeg.name) == (first.result.name, first.result_jpeg.name)
    results = sorted(p.name for p in (media_storage / "default" / "results").iterdir())
    stem = f"{job.photo_id}-{job.pk}"
    expected = [f"{stem}.png", f"{stem}.jpg", f"{stem}.webp", f"{stem}-preview.jpg", f"{stem}-thumbnail.jpg"]
    assert results == sorted(expected)


def test_finished_job_is_not_run_twice(alice, active_model):
    job = new_job(alice)
    jobs.run(job.pk)
    finished_at = reload(job).finished_at

    assert jobs.claim(job.pk) is None
    jobs.run(job.pk)
    assert reload(job).finished_at == finished_at


def test_job_under_a_live_worker_is_not_claimed_again(alice, active_model):
    job = new_job(alice)
    assert jobs.claim(job.pk) is not None

    assert jobs.claim(job.pk) is None


def test_dead_workers_job_is_queued_again_and_completes(alice, active_model, settings, monkeypatch):
    job = new_job(alice)
    jobs.claim(job.pk)  # a worker took it, then died: no more heartbeats
    Restoration.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1))
    sent = []
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: sent.append(restoration_id))

    assert jobs.requeue_stale() == [job.pk]
    assert sent == [job.pk]
    jobs.run(job.pk)

    job = reload(job)
    assert job.status == "succeeded" and job.attempts == 2


def test_job_whose_message_was_lost_is_queued_again(alice, media_storage, monkeypatch):
    job = new_job(alice)  # on_commit never ran: as if the broker was down
    sent = []
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: sent.append(restoration_id))

    assert jobs.requeue_stale() == [job.pk]
    assert reload(job).enqueued_at is not None
    assert jobs.requeue_stale() == []


def test_job_that_keeps_killing_its_worker_is_given_up(alice, active_model, settings):
    job = new_job(alice)
    Restoration.objects.filter(pk=job.pk).update(status="running", attempts=settings.JOB_MAX_ATTEMPTS, heartbeat_at=None)

    assert jobs.claim(job.pk) is None

    job = reload(job)
    assert job.status == "failed" and "given up" in job.error


def test_photo_deleted_while_running_leaves_no_result_files(alice, active_model, media_storage, monkeypatch):
    job = new_job(alice)
    claimed = jobs.claim(job.pk)
    from inference import engine

    original_deblur = engine.deblur

    def deblur_then_delete(*args, **kwargs):
        output = original_deblur(*args, **kwargs)
        Restoration.objects.filter(pk=job.pk).delete()
        return output

    monkeypatch.setattr(engine, "deblur", deblur_then_delete)
    jobs.process(claimed)

    results = media_storage / "default" / "results"
    assert not results.exists() or not any(results.iterdir())


def test_progress_is_written_while_running(alice, active_model, settings, monkeypatch):
    settings.INFERENCE_TILE = 32
    settings.INFERENCE_OVERLAP = 8
    monkeypatch.setattr(jobs, "PROGRESS_WRITE_SECONDS", 0.0)
    seen = []
    original_update = jobs._ProgressWriter.__call__

    def spy(self, fraction):
        original_update(self, fraction)
        seen.append(Restoration.objects.get(pk=self.job.pk).progress)

    monkeypatch.setattr(jobs._ProgressWriter, "__call__", spy)
    job = new_job(alice, content=photo_bytes(size=(96, 64)))

    jobs.run(job.pk)

    assert len(seen) > 2
    assert seen == sorted(seen) and 0 < seen[0] < seen[-1] <= 0.9


@pytest.mark.parametrize("mode", ["RGBA", "L", "LA"])
def test_result_keeps_the_photos_mode(alice, active_model, mode):
    job = new_job(alice, content=photo_bytes(fmt="PNG", mode=mode), name=f"{mode}.png")

    jobs.run(job.pk)

    job = reload(job)
    result = stored_image(job.result.name)
    assert result.mode == mode
    if "A" in mode:
        original = stored_image(job.photo.original.name)
        assert np.array_equal(np.asarray(result.getchannel("A")), np.asarray(original.getchannel("A")))


# -- the model choices ---------------------------------------------------------


@pytest.mark.parametrize("choice", ["best", "fast"])
def test_the_job_uses_the_model_serving_its_choice(alice, two_models, choice):
    job = new_job(alice, choice=choice)

    jobs.run(job.pk)

    job = reload(job)
    assert job.status == "succeeded", job.error
    assert job.model_version == two_models[choice] and job.model_name == f"tiny-{choice}"


def test_the_model_is_the_one_serving_the_choice_when_the_job_starts(alice, two_models):
    job = new_job(alice, choice="best")
    two_models["fast"].promote("best")

    jobs.run(job.pk)

    assert reload(job).model_name == "tiny-fast"


def test_the_result_names_its_model_after_the_model_is_retired_and_deleted(alice, two_models):
    job = new_job(alice, choice="fast")
    jobs.run(job.pk)
    fast = two_models["fast"]
    two_models["best"].promote("fast")

    fast.retire()
    assert reload(job).model_name == "tiny-fast"
    fast.delete()

    job = reload(job)
    assert job.status == "succeeded" and job.model_version is None and job.model_name == "tiny-fast"


def test_a_model_deleted_while_its_job_ran_leaves_the_result_and_its_name(alice, two_models, monkeypatch):
    from inference import engine

    job = new_job(alice, choice="fast")
    original_deblur = engine.deblur

    def deblur_then_delete_the_model(*args, **kwargs):
        output = original_deblur(*args, **kwargs)
        two_models["best"].promote("fast")
        two_models["fast"].delete()
        return output

    monkeypatch.setattr(engine, "deblur", deblur_then_delete_the_model)
    jobs.run(job.pk)

    job = reload(job)
    assert job.status == "succeeded" and job.model_version is None and job.model_name == "tiny-fast"


def test_a_finished_job_adds_its_inference_time_to_the_models_speed(alice, active_model, monkeypatch):
    from inference import engine

    original_deblur = engine.deblur

    def slow_deblur(*args, **kwargs):
        time.sleep(0.2)
        return original_deblur(*args, **kwargs)

    monkeypatch.setattr(engine, "deblur", slow_deblur)
    job = new_job(alice, content=photo_bytes(size=(100, 50)))  # 0.005 megapixels
    started = time.monotonic()
    jobs.run(job.pk)
    whole_job = time.monotonic() - started

    # Kept per kind of worker and precision.
    figures = ModelVersion.objects.get(pk=active_model.pk).speed[f"{speed.worker_kind()}-float32"]
    assert figures["jobs"] == 1
    # Inference only: at least the time in engine.deblur, less than the whole job.
    assert 0.2 / 0.005 <= figures["seconds_per_megapixel"] < whole_job / 0.005


def test_a_queued_job_expects_its_models_measured_time_and_the_finishing(alice, two_models):
    speed.record(two_models["best"], "cpu-float32", seconds=40.0, megapixels=1.0)
    speed.record(two_models["fast"], "cpu-float32", seconds=2.0, megapixels=1.0)
    finishing = 0.5 * speed.FINISHING_SECONDS_PER_MEGAPIXEL

    best = reload(new_job(alice, content=photo_bytes(size=(1000, 500)), choice="best"))  # half a megapixel

    assert best.expected_seconds == pytest.approx(20.0 + finishing)
    assert best.wait_seconds == 0 and best.eta_seconds == pytest.approx(best.expected_seconds)
    # Fast tries the kernel engine, in fewer deconvolution steps, first, and is routed by the network it may hand the photo to.
    fast = speed.expected("fast", 0.5)
    assert fast.seconds == pytest.approx(kernels.QUICK.seconds(0.5) + finishing)
    assert fast.longest == pytest.approx(fast.seconds + 1.0)


def test_a_queued_job_without_a_measured_speed_has_no_estimate(alice, active_model):
    assert reload(new_job(alice)).eta_seconds is None


def test_the_queue_position_counts_running_jobs_and_those_queued_before(alice, bob, media_storage, monkeypatch):
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: None)
    first, second, third = (new_job(user) for user in (alice, bob, alice))
    for job in (first, second, third):
        jobs.enqueue(job.pk)
    Restoration.objects.filter(pk=first.pk).update(status="running")

    assert [reload(job).queue_position for job in (first, second, third)] == [None, 1, 2]
    lost = new_job(bob)  # its message is not sent yet: it is behind every job that was
    assert reload(lost).queue_position == 3
