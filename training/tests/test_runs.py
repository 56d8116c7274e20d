"""Training runs as the staff pages drive them (training.runs.lifecycle, .worker): a tiny run on a real
photo dataset trains, is scored on a benchmark and registered; stop and resume (on another
worker's empty disk) give the weights of a run that went straight through; a worker that
dies is resumed once by beat, then the run fails with the reason."""

import io
import signal

import keras
import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from inference.engine import local_file
from inference.models import ModelVersion
from inference.registry import register_model
from training.runs import files as run_files
from training.runs import lifecycle as runs
from training.runs import worker
from training.scoring import score_version
from training.models import Dataset, TrainingRun
from training.runs.report import provenance
from training.tests.fake_unsplash import photo_jpeg

Status = TrainingRun.Status
# A one-level NAFNet on 32-pixel patches: a run takes seconds.
TINY = dict(
    steps=8, gan_steps=0, batch=2, patch=32, lr=1e-3, synthesis="default", seed=0,
    width=4, enc_blocks=[1], middle_blocks=1, dec_blocks=[1], validation_patch=64, validation_count=4,
    jit_compile=False,
)


@pytest.fixture
def photos(datasets, tmp_path) -> Dataset:
    folder = tmp_path / "incoming"
    folder.mkdir()
    for index in range(7):
        (folder / f"street_{index}.jpg").write_bytes(photo_jpeg(index))
    call_command("import_photos", str(folder), dataset="streets", licence="CC0 1.0", stdout=io.StringIO())
    return Dataset.objects.get(name="streets")


@pytest.fixture
def benchmark(settings, tmp_path):
    """One small real-looking benchmark in BENCHMARKS_DIR: two blurred/sharp pairs."""
    root = tmp_path / "benchmarks"
    for sub in ("blur", "sharp"):
        (root / "mini" / sub).mkdir(parents=True)
    for index in range(2):
        sharp = Image.open(io.BytesIO(photo_jpeg(20 + index, size=(96, 64)))).convert("RGB")
        sharp.save(root / "mini" / "sharp" / f"{index}.png")
        blurred = np.asarray(sharp, dtype=np.float32)
        blurred = (blurred + np.roll(blurred, 2, axis=1) + np.roll(blurred, -2, axis=1)) / 3
        Image.fromarray(blurred.astype(np.uint8)).save(root / "mini" / "blur" / f"{index}.png")
    settings.BENCHMARKS_DIR = root
    return root


@pytest.fixture
def queue(monkeypatch) -> list[int]:
    """The runs that would have been sent to the train queue."""
    sent: list[int] = []
    monkeypatch.setattr(runs, "enqueue", lambda run: sent.append(run.pk))
    monkeypatch.setattr(worker, "REPORT_SECONDS", 0.0)
    return sent


def start(photos: Dataset, staff=None, **overrides) -> TrainingRun:
    settings = {**TINY, **overrides}
    return runs.create(datasets=[photos], architecture="nafnet", init_model=None, label="tiny", by=staff, **settings)


def weights(version: ModelVersion) -> list[np.ndarray]:
    return keras.models.load_model(local_file(version), compile=False).get_weights()


def stop_at(monkeypatch, step: int) -> None:
    """Someone presses Stop on the run page once the run reaches `step`."""
    report = worker.Reporter.report

    def report_then_stop(self, at: int, total: int) -> None:
        report(self, at, total)
        if at >= step:
            runs.stop(TrainingRun.objects.get(pk=self.run.pk))  # the web's own copy of the row

    monkeypatch.setattr(worker.Reporter, "report", report_then_stop)


def test_a_run_is_registered_and_a_stopped_and_resumed_one_ends_with_the_same_weights(
    photos, benchmark, queue, monkeypatch
):
    run = start(photos)
    assert queue == [run.pk] and run.status == Status.QUEUED

    worker.execute(run.pk, "train@test")

    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, run.log
    assert run.step == run.total_steps == 8 and run.finished_at is not None
    version = run.model
    assert version.name == f"nafnet-run-{run.pk}" and not version.serves.exists()
    figures = version.metrics["mini"]
    assert figures["images"] == 2 and {"input_psnr", "baseline_psnr", "model_psnr", "seconds_per_megapixel"} <= set(figures)
    # The exact training images, as manifest rows, with their licences.
    images = version.provenance["images"]
    assert {image["role"] for image in images} == {"train", "validation"}
    assert len(images) == 7 and {image["licence"] for image in images} == {"CC0 1.0"}
    assert {image["id"] for image in images} == set(photos.images.values_list("id", flat=True))
    assert version.provenance["licences"] == {"CC0 1.0": 7} and version.provenance["datasets"] == ["streets"]
    card = run_files.read(run, run_files.CARD).decode()
    assert "| mini |" in card and "street_3.jpg" in card
    # Charts and samples come from the run's files, mirrored to storage.
    assert [point[0] for point in run.history["val_psnr"]][-1] == 8
    assert run.best_psnr == max(value for _, value in run.history["val_psnr"])
    assert run_files.stored(run, "samples") == ["step_000000.png", "step_000002.png", "step_000004.png", "step_000008.png"]
    assert "Registered model" in run.log and "validation PSNR" in run.log

    # The same message delivered again does nothing.
    worker.execute(run.pk, "train@again")
    assert TrainingRun.objects.get(pk=run.pk).log == run.log and ModelVersion.objects.count() == 1

    # The same run, stopped part way and resumed on another worker's empty disk (the checkpoint
    # comes from storage), ends with the weights of the run that went straight through.
    stopped = start(photos)
    with monkeypatch.context() as patch:
        stop_at(patch, 3)
        worker.execute(stopped.pk, "train@one")
    stopped.refresh_from_db()
    assert stopped.status == Status.STOPPED and f"Stopped at step {stopped.step};" in stopped.log
    assert "Stop asked" in stopped.log  # the web's line survives the worker's later writes
    assert stopped.can_resume and 3 <= stopped.step < 8
    run_files.delete_local(stopped)
    runs.resume(stopped)
    assert queue[-1] == stopped.pk
    worker.execute(stopped.pk, "train@two")

    stopped.refresh_from_db()
    assert stopped.status == Status.SUCCEEDED, stopped.log
    assert "from its checkpoint at step" in stopped.log
    assert stopped.log.count("Step 0: validation") == 1  # the resumed session logs its own validations only
    for a, b in zip(weights(run.model), weights(stopped.model), strict=True):
        np.testing.assert_array_equal(a, b)


class WorkerDied(BaseException):
    """Not an Exception: nothing in the run catches it, as nothing runs after a SIGKILL."""


def test_a_dead_worker_is_resumed_once_then_the_run_fails(photos, benchmark, queue, monkeypatch, settings):
    run = start(photos)
    report = worker.Reporter.report

    def die_at_step_4(self, at: int, total: int) -> None:
        report(self, at, total)
        if at >= 4:
            raise WorkerDied

    with monkeypatch.context() as patch:
        patch.setattr(worker.Reporter, "report", die_at_step_4)
        with pytest.raises(WorkerDied):
            worker.execute(run.pk, "train@dies")
    run.refresh_from_db()
    assert run.status == Status.RUNNING

    assert runs.watch() == []  # its heartbeat is recent
    later = timezone.now() + timezone.timedelta(seconds=settings.TRAINING_STALE_SECONDS + 1)
    assert runs.watch(later) == [run.pk]
    run.refresh_from_db()
    assert run.status == Status.QUEUED and run.auto_resumes == 1 and queue[-1] == run.pk
    assert "stopped answering at step" in run.log

    # Another worker takes it (resuming from the checkpoint, as the stop test shows) and dies too.
    assert worker.claim(run.pk, "train@dies-again") is not None
    later = timezone.now() + timezone.timedelta(seconds=settings.TRAINING_STALE_SECONDS + 1)
    assert runs.watch(later) == []
    run.refresh_from_db()
    assert run.status == Status.FAILED and "after 1 automatic resume" in run.error
    assert run.can_resume


def test_a_queued_run_stops_at_once_and_never_starts(photos, queue):
    run = start(photos)
    runs.stop(run)
    run.refresh_from_db()
    assert run.status == Status.STOPPED
    worker.execute(run.pk, "train@one")
    assert TrainingRun.objects.get(pk=run.pk).step == 0


def test_a_fine_tuned_model_inherits_what_its_parent_saw(photos, queue, tiny_model_file):
    parent = register_model(tiny_model_file, name="parent", provenance={"seen_in_training": ["gopro-real"]})
    tuned = runs.create(datasets=[photos], architecture="nafnet", init_model=parent, label="", by=None, **TINY)
    summary = {"steps": 8, "gan_steps": 0, "seconds": 1.0, "hardware": "cpu", "validation": {}, "validation_input": {},
               "config": tuned.config, "photos": [], "holdout": []}

    card = provenance(tuned, summary, [])

    assert card["init"] == "parent" and card["seen_in_training"] == ["gopro-real"]
    # The trainer starts from the parent's own file (trainer tests check its weights).
    assert worker.train_config(tuned, run_files.local_folder(tuned)).init == local_file(parent)


def test_a_registered_model_can_be_scored_again_on_every_benchmark(db, benchmark, tiny_model_file, media_storage):
    version = register_model(tiny_model_file, name="by-hand", metrics={"kohler": {"model_psnr": 25.0}})

    score_version(version)

    version.refresh_from_db()
    assert version.metrics["kohler"] == {"model_psnr": 25.0}  # figures elsewhere are kept
    mini = version.metrics["mini"]
    assert mini["images"] == 2 and mini["model_psnr"] > 0 and mini["input_psnr"] > 0


def test_a_worker_shut_down_mid_run_queues_it_again_and_goes_on_shutting_down(photos, benchmark, queue, monkeypatch):
    run = start(photos)
    report = worker.Reporter.report
    passed_on = []

    def sigterm_at_step_3(self, at: int, total: int) -> None:
        report(self, at, total)
        if at == 3:
            signal.raise_signal(signal.SIGTERM)  # as `celery worker` gets from a stopping container

    monkeypatch.setattr(worker.Reporter, "report", sigterm_at_step_3)
    monkeypatch.setattr(worker.os, "kill", lambda pid, number: passed_on.append(number))
    worker.execute(run.pk, "train@stopping")

    run.refresh_from_db()
    assert run.status == Status.QUEUED and queue[-1] == run.pk
    assert run.step == 3 and "The worker shut down at step 3" in run.log
    assert passed_on == [signal.SIGTERM]  # Celery's own handler gets the signal back


def test_the_time_left_is_the_steps_left_at_the_recent_pace_and_a_resumed_run_starts_from_its_own(
    db, media_storage, tmp_path, monkeypatch
):
    # Resumed at step 40 of 100, after running at 0.5 s a step.
    run = TrainingRun.objects.create(
        architecture="nafnet", status=Status.RUNNING, step=40, total_steps=100, seconds=20.0, seconds_per_step=0.5
    )
    now = [0.0]
    monkeypatch.setattr(worker, "time", type("Clock", (), {"monotonic": staticmethod(lambda: now[0])}))
    reporter = worker.Reporter(run, tmp_path, {})

    def at(seconds: float, step: int) -> TrainingRun:
        now[0] = seconds
        reporter(step, 100, {})
        return TrainingRun.objects.get(pk=run.pk)

    # The first step of the session comes after 30 s of loading and compiling: not the pace.
    assert at(30.0, 41).eta_seconds == pytest.approx(59 * 0.5)
    assert at(32.0, 45).eta_seconds == pytest.approx(55 * 0.5)
    slower = at(36.0, 47)  # 6 s for the 6 steps since the first
    assert slower.eta_seconds == pytest.approx(53 * 1.0) and slower.seconds_per_step == pytest.approx(1.0)
    assert slower.seconds == pytest.approx(20.0 + 36.0)
