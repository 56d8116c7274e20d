"""Thin Celery wrappers; the work is in gallery.jobs.

The deblur task carries the name `inference.deblur` that the design gives it,
but lives here because it reads and writes gallery rows, and inference must not
depend on the web apps."""

from celery import shared_task

from . import jobs


@shared_task(name="inference.deblur")
def deblur(restoration_id: int) -> None:
    jobs.run(restoration_id)


@shared_task(name="gallery.requeue_stale")
def requeue_stale() -> int:
    return len(jobs.requeue_stale())
