"""Thin Celery wrappers; the work is in training.ingest."""

from celery import shared_task

from . import ingest as ingestion


@shared_task(name="etl.ingest")
def ingest(job_id: int) -> None:
    ingestion.run(job_id)


@shared_task(name="etl.resume_due")
def resume_due() -> int:
    return len(ingestion.resume_due())
