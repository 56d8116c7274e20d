"""The deblurring job's life: enqueue, claim, run, record; and recovery of jobs
whose worker died or whose message was lost.

Running a job twice is harmless: a job is claimed in a locked row before any
work, and its result files have fixed names (models.result_file_names) that a second run
overwrites. Running a photo again is another job, with a result of its own (gallery.results)."""

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone
from PIL import Image

from inference import auto, kernels, metrics, precision, speed
from inference.images import encode_jpeg, make_thumbnail, merge_like, split_alpha
from inference.kernels.drawing import kernel_extent, kernel_png
from inference.models import Choice, Method, ModelVersion, ServingChoice

from . import blends, queueing
from .credentials import Edit, Original, downloads_of, is_configured, original_of, summary
from .media import read_stored_image
from .models import Restoration
from .names import FORMATS

log = logging.getLogger(__name__)
T = TypeVar("T")

Status = Restoration.Status
PROGRESS_WRITE_SECONDS = 1.0
# Longest side of the screen-sized JPEGs of originals and results on the comparison page.
PREVIEW_SIZE = 1600
# Longest side of the thumbnails of originals and results, the gallery cards' images.
THUMBNAIL_SIZE = 480
# PSNR and SSIM against a user's reference align each image with it on its own
# (metrics.aligned): a reference shot separately is rarely pixel-aligned, and a kernel
# method's result is shifted by the kernel's centre. The benchmarks' protocol (Köhler):
# the best shift within ALIGN_RADIUS px, then ALIGN_BORDER px cropped, less on small photos.
ALIGN_RADIUS = 12
ALIGN_BORDER = 16
# A Best quality job expected to take longer than this first deblurs the centre of the photo,
# GLIMPSE_SIDE pixels square at full resolution, and shows it while the rest runs.
GLIMPSE_AFTER_SECONDS = 30.0
GLIMPSE_SIDE = 512


class JobCancelled(Exception):
    """The job was cancelled, or its photo deleted, while it ran."""


# What a lost database connection raises: a restarted server, a killed backend, a network cut.
DATABASE_LOST = (OperationalError, InterfaceError)


class DatabaseLost(Exception):
    """The database stayed out of reach after a reconnect, so the job's outcome could not be
    recorded; the task sends the job round again. `claim` is the started_at of this worker's
    claim, which the next attempt may take over (its row still says running, heartbeat fresh),
    or None when nothing was claimed."""

    def __init__(self, claim: datetime | None) -> None:
        super().__init__("The database could not be reached.")
        self.claim = claim


def reconnecting(query: Callable[[], T]) -> T:
    """Run a query, and once more on a new connection if the connection was lost: a server
    restart or a killed backend leaves the worker's connection broken for good, and a long
    job would otherwise end frozen as running until the stale check (JOB_STALE_SECONDS)."""
    try:
        return query()
    except DATABASE_LOST:
        log.warning("the database connection was lost; reconnecting", exc_info=True)
        connection.close()
        return query()


def send(restoration_id: int, queue: str) -> None:
    """Send a released job's message. With the broker out of reach the job is held again,
    so that the next release of its queue sends it (the next claim or upload there, or beat's
    requeue_stale within the minute), rather than stay released with no message for
    JOB_STALE_SECONDS and keep its owner's next jobs held behind it."""
    from kombu.exceptions import OperationalError as BrokerUnreachable

    from .tasks import deblur

    try:
        deblur.apply_async((restoration_id,), queue=queue)
    except BrokerUnreachable:
        log.warning("the broker is out of reach; job %s is held until the next release", restoration_id, exc_info=True)
        Restoration.objects.filter(pk=restoration_id, status=Status.QUEUED).update(enqueued_at=None)


def glimpse_seconds(megapixels: float) -> float | None:
    """The network's expected time on a Best quality job's glimpse; None when the job is
    short enough to need none, or its speed is unknown."""
    network = speed.network_seconds(Choice.BEST, megapixels)
    if network is None or network <= GLIMPSE_AFTER_SECONDS:
        return None
    return network * min(1.0, GLIMPSE_SIDE**2 / 1e6 / megapixels)


def placement(choice: str, megapixels: float) -> dict:
    """The fields that place a job: the queue its longest expected time calls for
    (queueing.queue_for), and its expected time, a glimpse's included."""
    expected = speed.expected(choice, megapixels)
    glimpse = (glimpse_seconds(megapixels) if choice == Choice.BEST else None) or 0.0
    seconds, longest = (None if value is None else value + glimpse for value in (expected.seconds, expected.longest))
    return {"queue": queueing.queue_for(longest), "expected_seconds": seconds}


def enqueue(restoration_id: int) -> None:
    """Place a queued job again with the speeds measured now, and release what fairness lets
    in on its queue."""
    job = Restoration.objects.select_related("photo").filter(pk=restoration_id, status=Status.QUEUED).first()
    if job is None:
        return
    placed = placement(job.choice, job.photo.megapixels)
    Restoration.objects.filter(pk=job.pk).update(**placed)
    queueing.release(placed["queue"])


def _stale_before() -> timezone.datetime:
    return timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)


def claim(restoration_id: int, takeover: datetime | None = None) -> Restoration | None:
    """Mark the job running for this worker, or return None when there is nothing
    to do: it is finished, gone, or running under a live worker. `takeover` is the
    started_at of a claim whose worker lost the database (DatabaseLost): that run is over."""
    with transaction.atomic():
        job = Restoration.objects.select_for_update().select_related("photo").filter(pk=restoration_id).first()
        if job is None or job.is_done:
            return None
        live = job.status == Status.RUNNING and job.heartbeat_at and job.heartbeat_at > _stale_before()
        if live and not (takeover and job.started_at == takeover):
            return None
        now = timezone.now()
        job.attempts += 1
        if job.attempts > settings.JOB_MAX_ATTEMPTS:
            job.status, job.finished_at = Status.FAILED, now
            job.error = f"The job stopped before finishing {settings.JOB_MAX_ATTEMPTS} times and was given up."
            job.save()
            return None
        job.status, job.progress, job.progress_cap, job.error = Status.RUNNING, 0.0, 0.0, ""
        job.started_at = job.heartbeat_at = now
        job.finished_at = None
        job.save()
        return job


def _still_claimed(job: Restoration) -> QuerySet[Restoration]:
    """The job's row while this worker's claim of it stands: running, and not claimed again
    since (a job cancelled and run again meanwhile belongs to the worker that claimed it
    again). What a cancel or a delete takes away."""
    return Restoration.objects.filter(pk=job.pk, status=Status.RUNNING, started_at=job.started_at)


class _ProgressWriter:
    """Called after every tile with the share of the current stage done: stops the job once it
    is cancelled or deleted, and writes progress and a heartbeat to the row at most once a
    second. Progress is the share of the job's expected time done (gallery.timing), with
    where the running tile should end, so that pages can move it on between writes."""

    def __init__(self, job: Restoration) -> None:
        self.job, self.last = job, 0.0
        self.running = _still_claimed(job)
        self.began = time.monotonic()
        self.finishing = speed.FINISHING_SECONDS_PER_MEGAPIXEL * job.photo.megapixels
        self.start, self.share = 0.0, 0.9
        self.milestones: list[float] = []

    def begin(self, seconds: float | None, milestones: Sequence[float], then: float = 0.0) -> None:
        """A stage expected to take `seconds` starts now, and `then` seconds of later stages
        follow it: the job's expected time becomes the time so far, these, and the finishing.
        `milestones` are the shares of the stage it reports at (after each tile), where the
        pages' progress waits for the next report. With a speed unknown, the stage takes the
        progress up to 0.9 and its pace tells."""
        elapsed = time.monotonic() - self.began
        if seconds is None:
            total: float | None = None
            self.start = self.job.progress
            self.share = max(0.0, 0.9 - self.start)
        else:
            total = elapsed + seconds + then + self.finishing
            self.start, self.share = elapsed / total, seconds / total
        self.milestones = sorted(milestones)
        if not self._write(self.start, self._cap(0.0), expected_seconds=total):
            raise JobCancelled()

    def __call__(self, fraction: float) -> None:
        progress = self.start + self.share * fraction
        cap = self._cap(fraction)
        if time.monotonic() - self.last < PROGRESS_WRITE_SECONDS and fraction < 1.0:
            # One indexed read per tile: a cancel stops the job within a tile.
            still_running = reconnecting(self.running.exists)
        else:
            still_running = self._write(progress, cap)
        if not still_running:
            raise JobCancelled()

    def _cap(self, fraction: float) -> float:
        """Where the progress may move on to before the next report: the next milestone, or
        to the end once the stage is done, as the finishing or another stage follows."""
        following = [milestone for milestone in self.milestones if milestone > fraction + 1e-9]
        return self.start + self.share * following[0] if following else 1.0

    def _write(self, progress: float, cap: float, **fields) -> int:
        self.last = time.monotonic()
        self.job.progress = progress
        changes = {"progress": round(progress, 4), "progress_cap": round(cap, 4), "heartbeat_at": timezone.now()}
        return reconnecting(lambda: self.running.update(**changes, **fields))


def _results(
    job: Restoration, original: Image.Image, alpha: Image.Image | None, output: np.ndarray, edit: Edit, ingredient: Original
) -> dict:
    result = merge_like(output, original, alpha)
    names = job.file_names()
    # The downloads carry the photo's metadata and Content Credentials; the pictures the pages show do not.
    downloads = {FORMATS[fmt].field: (names[FORMATS[fmt].field], content) for fmt, content in downloads_of(job.photo, result, edit, ingredient).items()}
    return downloads | {
        "result_preview": (names["result_preview"], make_thumbnail(result, PREVIEW_SIZE)),
        "result_thumbnail": (names["result_thumbnail"], make_thumbnail(result, THUMBNAIL_SIZE)),
    }


def _aligned_border(shape: tuple[int, ...]) -> int:
    """ALIGN_BORDER, or less where the photo is too small to keep SSIM's window inside."""
    return max(0, min(ALIGN_BORDER, (min(shape[:2]) - 2 * metrics.SSIM_RADIUS - 1) // 2))


def _metrics(job: Restoration, before: np.ndarray, after: np.ndarray) -> dict:
    figures = {"blur_before": metrics.blur(before), "blur_after": metrics.blur(after)}
    if job.photo.reference:
        sharp, _ = split_alpha(read_stored_image(job.photo.reference))
        border = _aligned_border(sharp.shape)
        aligned_before = metrics.aligned(before, sharp, radius=ALIGN_RADIUS, border=border)
        aligned_after = metrics.aligned(after, sharp, radius=ALIGN_RADIUS, border=border)
        figures |= {
            "psnr_before": aligned_before.psnr,
            "psnr_after": aligned_after.psnr,
            "ssim_before": aligned_before.ssim,
            "ssim_after": aligned_after.ssim,
        }
    return figures


def _finite(value: float) -> float | None:
    # PSNR of identical images is infinite, which JSON and some databases cannot hold.
    return value if np.isfinite(value) else None


class _Networks:
    """The `load` that inference.auto asks for a learned choice's network: the model serving
    the choice, loaded in this worker, run tile by tile at full resolution. Each run starts a
    stage of the job's progress, of the model's expected time. It remembers the model it ran,
    in which precision and for how long, for the job's row and the model's speed."""

    def __init__(self, engine, writer: _ProgressWriter) -> None:
        self.engine, self.writer = engine, writer
        self.version: ModelVersion | None = None
        self.precision = ""
        self.seconds = 0.0
        self.began: float | None = None  # when the first network started

    def __call__(self, key: str, then: float = 0.0) -> tuple[auto.Network, str]:
        version = self.engine.serving_version(key)
        model = self.engine.load_version(version)

        def network(rgb: np.ndarray, progress: Callable[[float], None] | None) -> np.ndarray:
            tiles = self.engine.tile_count(model, rgb.shape, tile=settings.INFERENCE_TILE, overlap=settings.INFERENCE_OVERLAP)
            milestones = [done / tiles for done in range(1, tiles + 1)]
            self.writer.begin(speed.network_seconds(key, rgb.shape[0] * rgb.shape[1] / 1e6), milestones, then)
            started = time.monotonic()
            self.began = self.began or started
            output = self.engine.deblur(
                model, rgb, tile=settings.INFERENCE_TILE, overlap=settings.INFERENCE_OVERLAP, progress=progress
            )
            self.version, self.seconds = version, time.monotonic() - started
            self.precision = self.engine.precision_for(version.architecture)
            return output

        return network, version.name


def _kernel_file(job: Restoration, kernel: np.ndarray | None) -> dict:
    if kernel is None:
        return {}
    return {"kernel_image": (job.file_names()["kernel_image"], kernel_png(kernel))}


def _glimpse(job: Restoration, rgb: np.ndarray, networks: _Networks) -> None:
    """A long Best quality job's first look: the network on the centre of the photo at full
    resolution, stored and named on the row at once, for the page to show while the rest runs."""
    if glimpse_seconds(job.photo.megapixels) is None:
        return
    height, width = rgb.shape[:2]
    top, left = max(0, (height - GLIMPSE_SIDE) // 2), max(0, (width - GLIMPSE_SIDE) // 2)
    centre = rgb[top : top + GLIMPSE_SIDE, left : left + GLIMPSE_SIDE]
    network, _ = networks(Choice.BEST, then=speed.network_seconds(Choice.BEST, job.photo.megapixels))
    name = job.file_names()["result_glimpse"]
    job.result_glimpse.save(name, ContentFile(encode_jpeg(Image.fromarray(network(centre, None)))), save=False)
    if not reconnecting(lambda: _still_claimed(job).update(result_glimpse=name)):
        raise JobCancelled()


def process(job: Restoration) -> None:
    """Run a claimed job to the end and record the outcome on its row."""
    # Imported here so that TensorFlow loads in workers only, never in web processes.
    from inference import engine

    writer = _ProgressWriter(job)
    networks = _Networks(engine, writer)
    try:
        original = read_stored_image(job.photo.original)
        rgb, alpha = split_alpha(original)
        budget = speed.engine_budget(job.choice)
        if job.choice == Choice.BEST:
            _glimpse(job, rgb, networks)
        else:
            milestones = [kernels.estimation_share(rgb.shape, budget), 1.0]
            writer.begin(speed.engine_seconds(budget, job.photo.megapixels), milestones)
        engine_started = time.monotonic()
        outcome = auto.restore(job.choice, rgb, networks, writer)
        # The kernel engine ran until a network took over, or to the end.
        engine_seconds = (networks.began or time.monotonic()) - engine_started
        figures = _metrics(job, rgb, outcome.output)
        used = {Method.NETWORK: networks.precision, Method.KERNEL: precision.FLOAT32}.get(outcome.method, "")
        now = timezone.now()
        edit, ingredient = Edit(outcome.method, outcome.model_name, used, strength=1.0, when=now), original_of(job.photo)
        # A photo left as it was still has its result files (the input itself), so that its
        # downloads work like any other; its verdict says why.
        files = _results(job, original, alpha, outcome.output, edit, ingredient) | _kernel_file(job, outcome.kernel)
        for field, (name, content) in files.items():
            getattr(job, field).save(name, ContentFile(content), save=False)
    except JobCancelled:
        _drop_glimpse(job)
        return
    except DATABASE_LOST as exc:
        raise DatabaseLost(job.started_at) from exc
    except engine.NoModelInstalled as exc:
        _fail(job, f"Auto needed a network for this photo. {exc}" if job.choice == Choice.AUTO else str(exc))
        return
    except MemoryError:
        log.exception("job %s ran out of memory", job.pk)
        _fail(job, "The worker ran out of memory on this photo. Try a smaller photo or ask an admin for a bigger worker.")
        return
    except Exception as exc:
        log.exception("job %s failed", job.pk)
        _fail(job, f"Deblurring failed ({exc.__class__.__name__}). The error was logged; you can retry.")
        return

    if "kernel_image" not in files:
        # A run before this one (of a job run twice) may have left a kernel that this one did not find.
        delete_quietly([job.file_names()["kernel_image"]])
    # The glimpse served while the job ran; the result replaces it. Blends of an earlier
    # result are out of date.
    fields = {"kernel_image": "", "result_glimpse": "", "blend_strength": None}
    fields |= {field: getattr(job, field).name for field in files}
    fields["bytes_stored"] = sum(len(content) for _, content in files.values())
    fields |= {key: _finite(value) for key, value in figures.items()}
    fields |= {
        "method": outcome.method,
        "verdict": outcome.verdict,
        "verdict_reason": outcome.reason,
        "decision": outcome.decision,
        "precision": used,
        "credentials": summary(ingredient, edit) if is_configured() else {},
        "kernel_size": kernel_extent(outcome.kernel) if outcome.kernel is not None else None,
    }
    # Only a job that ran a network names its model's row (also when its output was not
    # kept: the model judged the photo); the kernel engine has none.
    version = networks.version
    # The model's row as a subquery: NULL rather than a broken reference if it was deleted
    # while the job ran. Its name stays either way.
    model_version = Subquery(ModelVersion.objects.filter(pk=version.pk).values("pk")) if version else None
    updated = _record(
        job,
        lambda: _still_claimed(job).update(
            status=Status.SUCCEEDED,
            progress=1.0,
            model_version=model_version,
            model_name=outcome.model_name,
            finished_at=now,
            heartbeat_at=now,
            **fields,
        ),
    )
    if not updated:
        # Cancelled or deleted meanwhile: a cancel is final, and takes the result files with it.
        for name, _ in files.values():
            job.result.storage.delete(name)
        _drop_glimpse(job)
    else:
        if job.result_glimpse:
            delete_quietly([job.result_glimpse.name])
        job.blend_strength = None
        blends.request(job)
    if version is not None:
        speed.record(version, speed.worker_key(networks.precision), networks.seconds, job.photo.megapixels)
    if outcome.method == Method.KERNEL:
        # Only a whole run counts: a photo turned away early took a fraction of the cost.
        speed.record_engine(budget, speed.worker_key(precision.FLOAT32), engine_seconds, job.photo.megapixels)


def _drop_glimpse(job: Restoration) -> None:
    """A cancelled job keeps nothing: its glimpse goes too (unless it was run again since)."""
    if job.result_glimpse and Restoration.objects.filter(pk=job.pk, status=Status.CANCELLED).update(result_glimpse=""):
        delete_quietly([job.result_glimpse.name])


def _record(job: Restoration, update: Callable[[], int]) -> int:
    """Write a job's outcome, reconnecting once; DatabaseLost if the database stays away."""
    try:
        return reconnecting(update)
    except DATABASE_LOST as exc:
        raise DatabaseLost(job.started_at) from exc


def _fail(job: Restoration, reason: str) -> None:
    _record(
        job,
        lambda: Restoration.objects.filter(pk=job.pk).update(
            status=Status.FAILED, error=reason, finished_at=timezone.now()
        ),
    )


def run(restoration_id: int, takeover: datetime | None = None) -> None:
    """Claim the job and run it. DatabaseLost when the database could not be reached to
    claim it or to record its outcome."""
    try:
        job = reconnecting(lambda: claim(restoration_id, takeover))
    except DATABASE_LOST as exc:
        raise DatabaseLost(takeover) from exc
    if job is not None:
        # It left its queue's line: the next job of its owner or address may join the line.
        queueing.release(job.queue)
        process(job)


def cancel(job: Restoration) -> bool:
    """Stop a queued or running job; False when it had already finished. A queued job's
    message finds it done and is dropped (claim); a running job's worker stops at its next
    tile (_ProgressWriter) and keeps nothing. The photo and its original stay."""
    cancelled = Restoration.objects.filter(pk=job.pk, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.CANCELLED, progress=0.0, finished_at=timezone.now()
    )
    if cancelled:
        # A released job gave up its place in the line.
        queueing.release(job.queue)
    return bool(cancelled)


def delete_quietly(names: Sequence[str]) -> None:
    """Delete these files of the media store, logging rather than raising what fails."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            log.exception("could not delete %s", name)


def retry(job: Restoration) -> bool:
    """Send a failed job round again, with a fresh count of attempts; False when it had not failed."""
    queued = Restoration.objects.filter(pk=job.pk, status=Status.FAILED).update(
        status=Status.QUEUED, progress=0.0, error="", attempts=0, started_at=None, finished_at=None,
        enqueued_at=None, heartbeat_at=None,
    )  # fmt: skip
    if queued:
        transaction.on_commit(lambda: enqueue(job.pk), robust=True)
    return bool(queued)


def rerun_refusal(choice: str) -> str | None:
    """Why a photo cannot run again with this choice, or None: no model serves a learned
    choice. Auto and Camera shake need none (Auto falls back to Best quality's network for
    some photos; without one, such a photo's job fails saying so)."""
    if choice in ServingChoice.Key.values and ModelVersion.serving(choice) is None:
        return f'No model serves "{Choice(choice).label}" yet.'
    return None


def requeue_stale() -> list[int]:
    """The ids of the jobs sent: send again the jobs whose worker died (no heartbeat for JOB_STALE_SECONDS) and the
    released jobs whose message may have been lost (sent that long ago and not started: a
    second message is harmless, claim drops it), at most once per JOB_STALE_SECONDS each;
    and release the held jobs that a lost release left behind."""
    stale = _stale_before()
    sent_long_ago = Q(heartbeat_at__isnull=True, enqueued_at__lt=stale) | Q(heartbeat_at__lt=stale)
    jobs = list(
        Restoration.objects.filter(
            Q(status=Status.RUNNING, heartbeat_at__lt=stale) | (Q(status=Status.QUEUED, enqueued_at__isnull=False) & sent_long_ago)
        ).values_list("pk", "queue")
    )
    for restoration_id, queue in jobs:
        log.warning("re-sending job %s", restoration_id)
        # A queued job's heartbeat says when its message was last sent.
        Restoration.objects.filter(pk=restoration_id, status=Status.QUEUED).update(heartbeat_at=timezone.now())
        send(restoration_id, queue)
    released = [restoration_id for queue in queueing.QUEUES for restoration_id in queueing.release(queue)]
    return [restoration_id for restoration_id, _ in jobs] + released
