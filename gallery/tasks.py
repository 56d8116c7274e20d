"""Thin Celery wrappers; the work is in gallery.jobs.

The deblur task carries the name `inference.deblur` that the design gives it,
but lives here because it reads and writes gallery rows, and inference must not
depend on the web apps."""

from datetime import datetime

from celery import shared_task

from . import archive, blends, cleanup, jobs

# A database restart takes seconds: the retries wait 1, 2, 4 ... 60 s, some 5 minutes in all,
# and after that beat's stale check is the fallback.
DATABASE_RETRIES = 10


@shared_task(name="inference.deblur", bind=True, max_retries=DATABASE_RETRIES)
def deblur(self, restoration_id: int, takeover: datetime | None = None) -> None:
    try:
        jobs.run(restoration_id, takeover)
    except jobs.DatabaseLost as lost:
        countdown = min(2**self.request.retries, 60)
        raise self.retry(args=[restoration_id], kwargs={"takeover": lost.claim}, countdown=countdown) from lost


@shared_task(name="gallery.requeue_stale")
def requeue_stale() -> int:
    return len(jobs.requeue_stale())


@shared_task(name="gallery.sweep_storage")
def sweep_storage() -> int:
    swept = cleanup.sweep()
    return swept.finished_deletes + len(swept.removed)


@shared_task(name="gallery.render_blends", autoretry_for=(Exception,), max_retries=3, retry_backoff=True)
def render_blends(restoration_id: int) -> None:
    blends.render(restoration_id)


@shared_task(name="gallery.build_archive", acks_late=True, reject_on_worker_lost=True)
def build_archive(archive_id: str) -> None:
    archive.build(archive_id)
