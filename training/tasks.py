"""Thin Celery wrappers; the work is in training.ingestion.jobs, training.runs.lifecycle and training.benchmarks."""

import socket

from celery import shared_task

from inference.models import ModelVersion

from training import benchmarks
from training.runs import lifecycle as runs
from training.ingestion import jobs as ingestion


@shared_task(name="etl.ingest")
def ingest(job_id: int) -> None:
    ingestion.run(job_id)


@shared_task(name="etl.resume_due")
def resume_due() -> int:
    return len(ingestion.resume_due())


@shared_task(name="training.run", bind=True)
def train_run(self, run_id: int) -> None:
    runs.execute(run_id, self.request.hostname or socket.gethostname())


@shared_task(name="training.watch_runs")
def watch_runs() -> int:
    return len(runs.watch())


@shared_task(name="training.score_model")
def score_model(version_id: int) -> None:
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is not None:
        benchmarks.score_version(version)
