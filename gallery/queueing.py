"""Which queue a deblurring job goes to, and when it is released to it.

Size: a job expected to take longer than LONG_JOB_SECONDS goes to the `deblur-long` queue,
which has workers of its own, so that a short job never waits behind a long one.

Fairness: the database holds every queued job; the broker holds, per queue, at most one
job per user and one per address that has not started yet. The next is released when it
starts, and goes to the back of the line: people take turns, however many photos one of
them (or one address's many accounts) sent. Celery and Redis stay plain FIFO queues.

start_order() plays that forward, for the queue positions and waits that people see."""

import hashlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone

from . import timing
from .models import Restoration

SHORT = "deblur"
LONG = "deblur-long"
QUEUES = (SHORT, LONG)
# A kept start order is found again only while its queue is unchanged; this bounds how long
# one that is not is kept.
ORDER_KEEP_SECONDS = 600


def queue_for(longest_seconds: float | None) -> str:
    """The queue of a job that may take this long (inference.speed.Expected.longest). A job
    of unknown speed goes to the short queue: only a model that never ran has none, and its
    first jobs measure it."""
    if longest_seconds is not None and longest_seconds > settings.LONG_JOB_SECONDS:
        return LONG
    return SHORT


def workers(queue: str) -> int:
    return max(1, settings.QUEUE_WORKERS.get(queue, 1))


@dataclass(frozen=True)
class Waiting:
    """A queued job as fairness sees it: whose it is, from where, and how long it should take."""

    pk: int
    owner: int
    address: str | None
    seconds: float  # expected; 0 when unknown

    @property
    def turn_keys(self) -> set[tuple[str, object]]:
        return {("owner", self.owner)} | ({("address", self.address)} if self.address else set())


def releasable(line: Iterable[Waiting], held: Iterable[Waiting]) -> list[Waiting]:
    """The held jobs (oldest first) that may join the line now: those whose owner and address
    have no job in it."""
    taken = set().union(*(job.turn_keys for job in line))
    chosen = []
    for job in held:
        if not job.turn_keys & taken:
            chosen.append(job)
            taken |= job.turn_keys
    return chosen


def start_order(line: list[Waiting], held: list[Waiting]) -> list[Waiting]:
    """The order in which a queue's jobs will start: the line first come first served, each
    start releasing the held jobs it lets in (as release() does when a worker claims one)."""
    line, held = deque(line), list(held)
    order = []
    while line or held:
        for job in releasable(line, held):
            line.append(job)
            held.remove(job)
        order.append(line.popleft())
    return order


def queued_on(queue: str) -> tuple[list[Waiting], list[Waiting]]:
    """(line, held) of a queue: the released jobs in release order, the held ones oldest first.
    One read of the few columns fairness needs: a status poll reads the whole queue."""
    rows = Restoration.objects.filter(status=Restoration.Status.QUEUED, queue=queue).values_list(
        "pk", "photo__owner_id", "submitted_from", "expected_seconds", "enqueued_at", "created"
    )
    line = sorted((row for row in rows if row[4] is not None), key=lambda row: (row[4], row[0]))
    held = sorted((row for row in rows if row[4] is None), key=lambda row: (row[5], row[0]))
    return [Waiting(*row[:3], row[3] or 0.0) for row in line], [Waiting(*row[:3], row[3] or 0.0) for row in held]


def release(queue: str) -> list[int]:
    """Release the held jobs of a queue that fairness lets in, sending their messages once
    the transaction commits; their ids. Safe to call any time, as often as one likes."""
    from .jobs import send

    with transaction.atomic():
        # Locks the queue's queued rows: two releases at once cannot both let in one user's jobs.
        list(
            Restoration.objects.select_for_update(of=("self",))
            .filter(status=Restoration.Status.QUEUED, queue=queue)
            .values_list("pk", flat=True)
        )
        line, held = queued_on(queue)
        chosen = releasable(line, held)
        now = timezone.now()
        for index, job in enumerate(chosen):
            # Distinct times keep the release order, which is the line's order.
            Restoration.objects.filter(pk=job.pk).update(enqueued_at=now + timedelta(microseconds=index))
            # A lambda, not a partial: Django logs a failed robust callback by its __qualname__.
            transaction.on_commit(lambda pk=job.pk: send(pk, queue), robust=True)
    return [job.pk for job in chosen]


def _start_order(queue: str) -> list[Waiting]:
    """start_order of the queue as it is now. Playing it forward takes time that grows with the
    square of the queue (0.7 ms for 60 jobs, 200 ms for 1000) and every queued job's pages poll
    it, so it is kept, keyed by the rows it is played from: any change to the queue makes
    another key."""
    line, held = queued_on(queue)
    key = "start-order:" + hashlib.sha256(repr((line, held)).encode()).hexdigest()
    kept = caches["local"].get(key)
    if kept is None:
        kept = [waiting.pk for waiting in start_order(line, held)]
        caches["local"].set(key, kept, ORDER_KEEP_SECONDS)
    by_pk = {waiting.pk: waiting for waiting in line + held}
    return [by_pk[pk] for pk in kept]


@dataclass(frozen=True)
class Standing:
    ahead: int  # jobs that will start before this one: its queue's running jobs, and those it waits for
    wait_seconds: float


def standings(queue: str) -> dict[int, Standing]:
    """Where each queued job of a queue stands: the running jobs, and the queued ones that will
    start before it (start_order), with their times shared among the queue's workers."""
    now = timezone.now()
    running = [job.run() for job in Restoration.objects.filter(status=Restoration.Status.RUNNING, queue=queue)]
    left = [timing.seconds_left(run, now) or 0.0 for run in running if run]
    found, ahead = {}, 0.0
    for position, waiting in enumerate(_start_order(queue)):
        found[waiting.pk] = Standing(len(running) + position, timing.wait_seconds(left, [ahead], workers(queue)))
        ahead += waiting.seconds
    return found


def standing(job: Restoration) -> Standing | None:
    """None when the job left the queue since its row was read."""
    return standings(job.queue).get(job.pk)


def attach_standings(jobs: Iterable[Restoration]) -> None:
    """Give the queued jobs among these their standing, reading each queue once: a page of
    photos would otherwise read the whole queue once for each of its queued jobs."""
    queued = [job for job in jobs if job.status == Restoration.Status.QUEUED]
    by_queue = {queue: standings(queue) for queue in {job.queue for job in queued}}
    for job in queued:
        job.standing = by_queue[job.queue].get(job.pk)
