"""Running an ingestion job: claim it, feed its source through the pipeline,
record progress and a log, and pause, stop, fail or finish.

A job can be stopped and started again; items already in the manifest are
skipped, so a re-run costs nothing but a look at the source."""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from training.ingestion import etl
from training.ingestion.budget import BudgetSpent
from training.models import Dataset, IngestJob
from training.ingestion.sources import SOURCES
from training.ingestion.unsplash import UnsplashStopped

log = logging.getLogger(__name__)
Status = IngestJob.Status


def start(dataset: Dataset, source: str, **fields) -> IngestJob:
    """A new queued job, sent to the `etl` queue once the row is committed."""
    job = IngestJob.objects.create(dataset=dataset, source=source, **fields)
    transaction.on_commit(lambda: enqueue(job.pk), robust=True)
    return job


def enqueue(job_id: int, eta=None) -> None:
    from training.tasks import ingest

    ingest.apply_async((job_id,), eta=eta)


def _log(job: IngestJob, line: str) -> None:
    job.log += f"{timezone.now():%Y-%m-%d %H:%M:%S} {line}\n"


def _stale_before() -> timezone.datetime:
    return timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)


def claim(job_id: int) -> IngestJob | None:
    """Mark the job running, or None if there is nothing to do: it is finished or
    stopped, its pause has not ended, or it runs under a live worker."""
    with transaction.atomic():
        job = IngestJob.objects.select_for_update().select_related("dataset").filter(pk=job_id).first()
        if job is None or job.status not in (Status.QUEUED, Status.PAUSED, Status.RUNNING):
            return None
        if job.status == Status.PAUSED and job.resume_at and job.resume_at > timezone.now():
            return None
        if job.status == Status.RUNNING and job.heartbeat_at and job.heartbeat_at > _stale_before():
            return None
        job.status, job.resume_at, job.error = Status.RUNNING, None, ""
        job.started_at = job.started_at or timezone.now()
        job.heartbeat_at = timezone.now()
        _log(job, "Started." if not job.seen else "Continuing.")
        job.save()
        return job


PROGRESS_FIELDS = ("seen", "kept", "rejected", "total", "cursor", "log")


def _progress(job: IngestJob) -> dict:
    return {name: getattr(job, name) for name in PROGRESS_FIELDS}


def _save_progress(job: IngestJob) -> bool:
    """Write the counts, cursor and log; False if an admin stopped the job meanwhile.
    A stopped job gets the counts all the same: the item in hand is in the manifest,
    and a resumed run skips it without counting it again."""
    if IngestJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(heartbeat_at=timezone.now(), **_progress(job)):
        return True
    IngestJob.objects.filter(pk=job.pk, status=Status.STOPPED).update(**_progress(job))
    return False


def _finish(job: IngestJob, status: str, line: str, **extra) -> None:
    """Record how the run ended, unless an admin stopped it meanwhile; the row is the truth."""
    _log(job, line)
    finished_at = timezone.now() if status in (Status.SUCCEEDED, Status.FAILED) else None
    IngestJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
        status=status, finished_at=finished_at, **_progress(job), **extra
    )


def process(job: IngestJob, progress: Callable[[IngestJob], None] | None = None) -> None:
    """Run a claimed job until its source is done, the budget is spent, it is stopped, or it fails."""
    try:
        for candidate in SOURCES[job.source](job):
            row, new = etl.ingest(job.dataset, candidate)
            if new:
                job.seen += 1
                if row.status == row.Status.KEPT:
                    job.kept += 1
                    if row.benchmark_match:
                        _log(job, f"Kept {row.source_id}, not trainable: it is benchmark image {row.benchmark_match}.")
                else:
                    job.rejected += 1
                    _log(job, f"Rejected {row.source_id}: {row.get_rejection_reason_display()}. {row.rejection_detail}")
            if progress:
                progress(job)
            if not _save_progress(job):
                return
    except BudgetSpent as exc:
        _finish(job, Status.PAUSED, f"Paused: {exc}", resume_at=exc.resume_at)
        enqueue(job.pk, eta=exc.resume_at)
        return
    except UnsplashStopped as exc:
        _finish(job, Status.FAILED, f"Stopped: {exc}", error=str(exc))
        return
    except Exception as exc:
        log.exception("ingestion %s failed", job.pk)
        reason = f"{exc.__class__.__name__}: {exc}"
        _finish(job, Status.FAILED, f"Failed: {reason}", error=reason)
        return
    _finish(job, Status.SUCCEEDED, f"Done: {job.kept} kept, {job.rejected} rejected.")


def run(job_id: int, progress: Callable[[IngestJob], None] | None = None) -> IngestJob | None:
    job = claim(job_id)
    if job is not None:
        process(job, progress)
        job.refresh_from_db()
    return job


def stop(job: IngestJob) -> None:
    """Stop after the item in hand; starting it again continues where it stopped."""
    IngestJob.objects.filter(pk=job.pk, status__in=[Status.QUEUED, Status.RUNNING, Status.PAUSED]).update(
        status=Status.STOPPED, resume_at=None
    )


def resume(job: IngestJob) -> None:
    if IngestJob.objects.filter(pk=job.pk, status__in=[Status.STOPPED, Status.FAILED]).update(status=Status.QUEUED):
        transaction.on_commit(lambda: enqueue(job.pk), robust=True)


def resume_due() -> list[int]:
    """Queue paused jobs whose pause is over, in case their delayed message was lost,
    and running jobs whose worker died (no progress for JOB_STALE_SECONDS)."""
    ids = list(
        IngestJob.objects.filter(
            Q(status=Status.PAUSED, resume_at__lte=timezone.now())
            | Q(status=Status.RUNNING, heartbeat_at__lt=_stale_before())
        ).values_list("pk", flat=True)
    )
    for job_id in ids:
        enqueue(job_id)
    return ids
