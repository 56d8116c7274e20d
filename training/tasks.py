"""Thin Celery wrappers; the work is in training.ingestion.jobs, training.runs and
training.scoring. Web processes import this module to send tasks, so what needs TensorFlow
is imported inside the tasks that run on workers."""

import socket

from celery import shared_task

from inference.models import ModelVersion
from training.ingestion import jobs as ingestion
from training.runs import lifecycle


@shared_task(name="etl.ingest")
def ingest(job_id: int) -> None:
    ingestion.run(job_id)


@shared_task(name="etl.resume_due")
def resume_due() -> int:
    return len(ingestion.resume_due())


@shared_task(name="training.run", bind=True)
def train_run(self, run_id: int) -> None:
    from training.runs import worker

    worker.execute(run_id, self.request.hostname or socket.gethostname())


@shared_task(name="training.watch_runs")
def watch_runs() -> int:
    return len(lifecycle.watch())


@shared_task(name="training.score_model")
def score_model(version_id: int) -> None:
    from training import scoring

    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is not None:
        scoring.score_version(version)
