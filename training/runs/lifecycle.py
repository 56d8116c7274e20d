"""Training runs from the staff pages, as the web and beat see them: start one, stop and
resume it, notice a worker that died. Running it is training.runs.worker's, on the `train`
worker; nothing here imports TensorFlow."""

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inference.models import ModelVersion

from training.config import TrainConfig
from training.models import Dataset, TrainingRun

Status = TrainingRun.Status

LOG_LINES = 300
# Settings that say where files go; a run's own folder decides them.
PATH_SETTINGS = {"out", "photos", "init", "vgg_weights"}


def run_settings(**chosen) -> dict:
    """The trainer's config for a run, as JSON: its defaults, what the form chose, and the
    schedule of validations, checkpoints and sample strips fitted to the run's length."""
    steps = chosen["steps"]
    every = max(1, steps // 20)
    total = steps + chosen.get("gan_steps", 0)
    schedule = {
        "validate_every": every,
        "checkpoint_every": every,
        "log_every": max(1, min(50, steps // 40)),
        # As the seed's notebook: the start, a quarter, half way and the end.
        "sample_steps": sorted({0, total // 4, total // 2, total}),
    }
    chosen.setdefault("jit_compile", settings.TRAINING_JIT_COMPILE)
    config = TrainConfig(out=Path("."), **{**schedule, **chosen}).to_json()
    return {name: value for name, value in config.items() if name not in PATH_SETTINGS}


def record(run: TrainingRun, *lines: str, **fields) -> None:
    """Write `fields` to the run's row and add `lines` to its log. The web, beat and the worker
    all log to the same row, so the log is read and extended under a row lock: a line written
    meanwhile by another process is kept."""
    with transaction.atomic():
        if lines:
            current = TrainingRun.objects.select_for_update().values_list("log", flat=True).get(pk=run.pk)
            stamp = f"{timezone.now():%Y-%m-%d %H:%M:%S}"
            log = (current + "".join(f"{stamp} {line}\n" for line in lines)).splitlines(keepends=True)
            fields["log"] = "".join(log[-LOG_LINES:])
        TrainingRun.objects.filter(pk=run.pk).update(**fields)
    for name, value in fields.items():
        setattr(run, name, value)


def enqueue(run: TrainingRun) -> None:
    from training.tasks import train_run

    transaction.on_commit(lambda: train_run.delay(run.pk), robust=True)


def create(
    *, datasets: list[Dataset], architecture: str, init_model: ModelVersion | None, label: str, by, **chosen
) -> TrainingRun:
    """A queued run, sent to the `train` queue once committed."""
    config = run_settings(arch=architecture, **chosen)
    run = TrainingRun.objects.create(
        label=label,
        architecture=architecture,
        init_model=init_model,
        config=config,
        created_by=by,
        total_steps=config["steps"] + config["gan_steps"],
    )
    run.datasets.set(datasets)
    record(run, f"Queued{f' by {by}' if by else ''} on the train queue.")
    enqueue(run)
    return run


def stop(run: TrainingRun) -> None:
    """A queued run stops at once; a running one at its next step, after a checkpoint."""
    if TrainingRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(status=Status.STOPPED):
        run.refresh_from_db()
        record(run, "Stopped before it started.")
    elif TrainingRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(status=Status.STOPPING):
        run.refresh_from_db()
        record(run, "Stop asked: the worker saves a checkpoint and ends.")


def resume(run: TrainingRun) -> None:
    """Queue a stopped or failed run again; it continues from its last checkpoint."""
    if TrainingRun.objects.filter(pk=run.pk, status__in=[Status.STOPPED, Status.FAILED]).update(
        status=Status.QUEUED, error=""
    ):
        run.refresh_from_db()
        record(run, f"Queued to resume from its checkpoint (step {run.step}).")
        enqueue(run)


def fail(run: TrainingRun, reason: str) -> None:
    record(run, f"Failed: {reason}", status=Status.FAILED, error=reason, finished_at=timezone.now())


def watch(now=None) -> list[int]:
    """Beat's check: a running run whose worker stopped answering goes back to the queue
    once and resumes from its checkpoint; the second time it fails, saying so."""
    now = now or timezone.now()
    stale = now - timezone.timedelta(seconds=settings.TRAINING_STALE_SECONDS)
    requeued = []
    for run in TrainingRun.objects.filter(status__in=[Status.RUNNING, Status.STOPPING], heartbeat_at__lt=stale):
        silent = f"Worker {run.worker} stopped answering at step {run.step}"
        if run.status == Status.STOPPING:
            taken = TrainingRun.objects.filter(pk=run.pk, status=Status.STOPPING).update(status=Status.STOPPED)
            if taken:
                record(run, f"{silent} while stopping; resume continues from its last checkpoint.")
        elif run.auto_resumes < settings.TRAINING_AUTO_RESUMES:
            taken = TrainingRun.objects.filter(pk=run.pk, status=Status.RUNNING, heartbeat_at=run.heartbeat_at).update(
                status=Status.QUEUED, auto_resumes=F("auto_resumes") + 1
            )
            if taken:
                record(run, f"{silent}; queued to resume from its last checkpoint.")
                enqueue(run)
                requeued.append(run.pk)
        elif TrainingRun.objects.filter(pk=run.pk, status=Status.RUNNING, heartbeat_at=run.heartbeat_at).exists():
            fail(run, f"{silent}, after {run.auto_resumes} automatic resume(s). Its last checkpoint is kept: "
                  "resume it by hand once the cause is known (often memory: try a smaller batch or patch).")
    return requeued
