"""A training run on the `train` worker: claim it, train with training.trainer (the same code
as `manage.py train`), report progress to its row and files to storage, stop when asked,
then score and register the model (training.runs.report)."""

import csv
import dataclasses
import logging
import os
import signal
import time
from collections import deque
from pathlib import Path

from django.utils import timezone

from inference.engine import local_file
from training.config import TrainConfig
from training.ingestion.datasets import training_photos
from training.models import TrainingRun
from training.runs import files as run_files
from training.runs import lifecycle
from training.runs import report as run_report
from training.trainer import Terminated, TrainResult, read_state, train

log = logging.getLogger(__name__)
Status = TrainingRun.Status

# How often a running run writes its progress, and reads whether it was asked to stop.
REPORT_SECONDS = 2.0
# The time left comes from the pace over this many reports: the last minute, or more.
PACE_REPORTS = 30


class StopRequested(KeyboardInterrupt):
    """Raised from the progress hook: the trainer saves a checkpoint and re-raises it."""


class Superseded(KeyboardInterrupt):
    """This worker was taken for dead and the run went back to the queue: leave it alone."""


def claim(run_id: int, worker: str) -> TrainingRun | None:
    """The run, now marked running on this worker; None when it is not queued (already taken,
    stopped, or a message delivered twice)."""
    now = timezone.now()
    claimed = TrainingRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, worker=worker, heartbeat_at=now
    )
    if not claimed:
        return None
    run = TrainingRun.objects.get(pk=run_id)
    if run.started_at is None:
        lifecycle.record(run, started_at=now)
    return run


def gather_photos(run: TrainingRun, folder: Path) -> list[str]:
    """Links to the trainable photos of every dataset of the run in folder/photos (the same
    photo in two datasets once); the reasons some were left out."""
    target = folder / run_files.PHOTOS
    target.mkdir(parents=True, exist_ok=True)
    notes = []
    for dataset in run.datasets.all():
        chosen = training_photos(dataset.name)
        if chosen.left_out:
            notes.append(chosen.left_out)
        for photo in chosen.folder.glob("*.png"):
            link = target / photo.name
            if not link.exists():
                link.symlink_to(photo.resolve())
    return notes


def train_config(run: TrainingRun, folder: Path) -> TrainConfig:
    fields = {field.name: field for field in dataclasses.fields(TrainConfig)}
    values = {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in run.config.items()
        if name in fields
    }
    init = local_file(run.init_model) if run.init_model is not None else None
    return TrainConfig(out=folder, photos=folder / run_files.PHOTOS, init=init, **values)


class Reporter:
    """The trainer's progress hook: every REPORT_SECONDS it records the step, ETA, heartbeat,
    chart series and log lines, uploads new files, and ends the run if it was asked to stop."""

    def __init__(self, run: TrainingRun, folder: Path, sent: run_files.Sent):
        self.run = run
        self.folder = folder
        self.sent = sent
        self.started = time.monotonic()
        self.seconds_before = run.seconds
        # (time, step) at the recent reports. The pace is measured between them, so neither a
        # session's start (loading, compiling) nor an earlier session's pace skews it; a
        # resumed run keeps its last pace until it has two.
        self.marks: deque[tuple[float, int]] = deque(maxlen=PACE_REPORTS)
        self.pace = run.seconds_per_step
        self.last_report = 0.0
        # A resumed run has logged its earlier validations already.
        self.validations = len(read_history(folder)["val_psnr"])

    def __call__(self, step: int, total: int, logs: dict) -> None:
        now = time.monotonic()
        if now - self.last_report < REPORT_SECONDS and step < total:
            return
        self.last_report = now
        status = TrainingRun.objects.filter(pk=self.run.pk).values_list("status", flat=True).first()
        if status == Status.STOPPING:
            raise StopRequested("stop requested")
        if status != Status.RUNNING:
            raise Superseded(f"the run is {status} now")
        self.report(step, total)

    def report(self, step: int, total: int) -> None:
        now = time.monotonic()
        self.marks.append((now, step))
        (then, first), (_, last) = self.marks[0], self.marks[-1]
        if last > first:
            self.pace = (now - then) / (last - first)
        history = read_history(self.folder)
        fields = {
            "step": step,
            "seconds": self.seconds_before + now - self.started,
            "seconds_per_step": self.pace,
            "eta_seconds": self.pace * (total - step) if self.pace else None,
            "heartbeat_at": timezone.now(),
            "history": history,
            **best_validation(history),
        }
        lines = [
            f"Step {int(point_step)}: validation PSNR {psnr:.2f} dB, SSIM {ssim:.4f}."
            for (point_step, psnr), (_, ssim) in zip(
                history["val_psnr"][self.validations :], history["val_ssim"][self.validations :]
            )
        ]
        self.validations = len(history["val_psnr"])
        lifecycle.record(self.run, *lines, **fields)
        run_files.upload(self.run, self.folder, self.sent)


def _read_csv(path: Path) -> list[dict[str, float]]:
    if not path.exists():
        return []
    with path.open(newline="") as file:
        return [{name: float(value) for name, value in row.items() if value} for row in csv.DictReader(file)]


def read_history(folder: Path) -> dict[str, list[list[float]]]:
    """Chart series from the run's CSV logs: training loss and PSNR per log window (stage 1,
    then stage 2's content loss), validation PSNR and SSIM."""
    content = _read_csv(folder / "log.csv")
    adversarial = _read_csv(folder / "log_gan.csv")
    validation = _read_csv(folder / "validation.csv")
    return {
        "loss": [[row["step"], row["loss"]] for row in content]
        + [[row["step"], row["content_loss"]] for row in adversarial],
        "train_psnr": [[row["step"], row["psnr"]] for row in content + adversarial],
        "val_psnr": [[row["step"], row["psnr"]] for row in validation],
        "val_ssim": [[row["step"], row["ssim"]] for row in validation],
    }


def best_validation(history: dict) -> dict[str, float | None]:
    """The best validation PSNR and the SSIM at that step."""
    points = list(zip(history.get("val_psnr", []), history.get("val_ssim", [])))
    if not points:
        return {"best_psnr": None, "best_ssim": None}
    (_, psnr), (_, ssim) = max(points, key=lambda point: point[0][1])
    return {"best_psnr": psnr, "best_ssim": ssim}


def execute(run_id: int, worker: str) -> None:
    """Run (or resume) a queued run to its end on this worker, then evaluate and register
    it. Nothing happens when the run is not queued."""
    run = claim(run_id, worker)
    if run is None:
        return
    folder = run_files.local_folder(run)
    # What this session has uploaded: later uploads send only what changed since.
    sent: run_files.Sent = {}
    try:
        resuming = run_files.download(run, folder)
        for note in gather_photos(run, folder):
            lifecycle.record(run, note)
        config = train_config(run, folder)
        what = f"from its checkpoint at step {run.step}" if resuming else "from the start"
        lifecycle.record(run, f"Running on {worker} {what}.")
        reporter = Reporter(run, folder, sent)
        result = train(config, resume=resuming, progress=reporter)
        reporter.report(result.step + result.gan_step, run.total_steps)
    except StopRequested:
        run_files.upload(run, folder, sent)
        step = run_step(folder)
        lifecycle.record(
            run, f"Stopped at step {step}; resume continues from there.", status=Status.STOPPED, step=step
        )
        return
    except Superseded as exc:
        log.warning("Run %s: %s; this worker leaves it.", run_id, exc)
        return
    except KeyboardInterrupt as interrupt:
        # The worker is shutting down: back to the queue, and on with the shutdown.
        run_files.upload(run, folder, sent)
        step = run_step(folder)
        lifecycle.record(
            run, f"The worker shut down at step {step}; queued to resume from there.", status=Status.QUEUED, step=step
        )
        lifecycle.enqueue(run)
        if isinstance(interrupt, Terminated):
            # The trainer took SIGTERM from Celery's handler: give it back, for a warm shutdown.
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise
    except (ValueError, OSError) as exc:  # DatasetUnusable is a ValueError
        lifecycle.fail(run, str(exc))
        return
    except Exception as exc:
        log.exception("Run %s failed", run_id)
        lifecycle.fail(run, f"{type(exc).__name__}: {exc}")
        return
    finish(run, folder, result, sent)


def run_step(folder: Path) -> int:
    state = read_state(folder)
    return state["step"] if state else 0


def finish(run: TrainingRun, folder: Path, result: TrainResult, sent: run_files.Sent) -> None:
    lifecycle.record(run, "Training done; scoring the model on every benchmark.")
    try:
        version = run_report.register(
            run, folder, result, on_image=lambda name: lifecycle.record(run, heartbeat_at=timezone.now())
        )
    except Exception as exc:
        log.exception("Run %s: evaluation failed", run.pk)
        reason = f"{type(exc).__name__}: {exc}"
        lifecycle.fail(
            run, f"Training finished, but scoring or registering the model failed ({reason}); resume runs that part again."
        )
        return
    run_files.upload(run, folder, sent)
    lifecycle.record(
        run,
        f"Registered model {version.name} (not serving: promote it on the models page).",
        status=Status.SUCCEEDED,
        model=version,
        finished_at=timezone.now(),
        eta_seconds=None,
    )
