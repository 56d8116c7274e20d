"""Thin Celery wrappers; the work is in training.ingest and training.runs."""

import socket

from celery import shared_task

from . import ingest as ingestion
from . import runs


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
