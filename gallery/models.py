import functools
import uuid
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Sum
from django.utils import timezone

from inference.images import FORMAT_FILES, Metadata
from inference.models import Choice, Method, ModelVersion, Verdict

from . import timing


# The folders of the media store that hold photos' files, every name in them made from the
# photo's id (photo_file_names): the storage sweep (gallery.cleanup) looks here only.
PHOTO_FOLDERS = ("originals", "thumbnails", "previews", "results")
# ZIPs of several photos (Archive), kept ARCHIVE_KEEP_HOURS.
ARCHIVE_FOLDER = "archives"


def photo_file_names(photo_id: uuid.UUID | str) -> dict[str, str]:
    """The name of every file of a photo's own, by the field that records it, made from the
    photo's id alone: its files are found and deleted whether or not its rows recorded them
    (a write whose store died part-way records nothing). Its results' are result_file_names."""
    return {
        "original": f"originals/{photo_id}.png",
        "given": f"originals/{photo_id}-given",
        "reference": f"originals/{photo_id}-reference.png",
        "thumbnail": f"thumbnails/{photo_id}.jpg",
        "preview": f"previews/{photo_id}.jpg",
    }


# The name of each file of a result after results/<photo id>-<result id>, by its field.
RESULT_SUFFIXES = {
    "result": ".png",
    "result_jpeg": ".jpg",
    "result_webp": ".webp",
    "result_preview": "-preview.jpg",
    "result_thumbnail": "-thumbnail.jpg",
    "kernel_image": "-kernel.png",
    "result_glimpse": "-glimpse.jpg",
    "blend_png": "-blend.png",
    "blend_jpeg": "-blend.jpg",
    "blend_webp": "-blend.webp",
}


def result_file_names(photo_id: uuid.UUID | str, result_id: int | None) -> dict[str, str]:
    """The name of every file a photo's result can own, by field, from the photo's id and the
    result's: one photo keeps several results. `result_id` None gives the names results had
    when a photo kept one only (results/<photo id>.png), which the sweep still knows."""
    stem = f"results/{photo_id}" if result_id is None else f"results/{photo_id}-{result_id}"
    return {field: stem + suffix for field, suffix in RESULT_SUFFIXES.items()}


class VisiblePhotos(models.Manager):
    """Photos as their owner sees them: a photo being deleted is gone at once."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(deleting_since__isnull=True)


class Photo(models.Model):
    """An uploaded blurred photo: the file as it was given, byte for byte, and the normalised
    copy the worker and the viewer read (upright, sRGB, metadata stripped), under generated
    names; with an optional sharp reference, and the metadata its results carry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="photos")
    # The normalised copy, PNG.
    original = models.FileField(max_length=255)
    # The uploaded file as it was given, with its media type; empty for a "Try it" photo
    # (the site made its blurred copy) and for photos from before it was kept.
    given = models.FileField(max_length=255, blank=True)
    given_type = models.CharField(max_length=20, blank=True)
    # What of the given file's metadata the results carry (inference.images.Metadata).
    exif = models.BinaryField(blank=True, default=b"")
    icc_profile = models.BinaryField(blank=True, default=b"")
    reference = models.FileField(max_length=255, blank=True)
    thumbnail = models.FileField(max_length=255, blank=True)
    preview = models.FileField(max_length=255, blank=True, help_text="Screen-sized JPEG for the comparison page.")
    original_name = models.CharField(max_length=255, help_text="The uploaded file's name, for display only.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    mode = models.CharField(max_length=8, help_text="Pillow mode of the stored original: RGB, RGBA, L or LA.")
    bytes_stored = models.PositiveBigIntegerField(default=0)
    notes = models.JSONField(default=list, blank=True, help_text="What validation changed, in words.")
    # "Try it" photos: the blur the site made from the uploaded sharp photo (kept as the
    # reference), e.g. {"kind": "motion", "strength": 0.5}; empty for a real blurred upload.
    synthetic_blur = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    # The current one of its results (gallery.results): what its page shows first, and what
    # downloads, ZIPs and the API's result follow. Null only between the photo's row and its
    # first job's, made in one transaction.
    restoration = models.OneToOneField(
        "Restoration", null=True, blank=True, on_delete=models.SET_NULL, related_name="current_of"
    )
    # Set when a delete could not remove every file: the photo is gone for its owner, and
    # the sweep (gallery.cleanup) removes the rest of its files, then the rows.
    deleting_since = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = VisiblePhotos()
    # Every row, those being deleted included: for the sweep, and for related lookups.
    all_objects = models.Manager()

    class Meta:
        ordering = ["-created"]
        # A user's photos newest first (the gallery's pages, the API's cursor): without it, a
        # page walks everyone's newer photos, or sorts all of the user's.
        indexes = [models.Index(fields=["owner", "-created"], name="photo_owner_newest")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    @property
    def metadata(self) -> Metadata:
        # PostgreSQL hands binary columns back as memoryviews.
        return Metadata(exif=bytes(self.exif), icc_profile=bytes(self.icc_profile))

    @property
    def given_name(self) -> str:
        """The name the given file downloads as: the uploaded name, with a suffix of its type
        (a PNG sent as photo.jpg downloads as photo.png)."""
        name = PurePath(self.original_name)
        suffixes = next(suffixes for media_type, suffixes in FORMAT_FILES.values() if media_type == self.given_type)
        return self.original_name if name.suffix.lower() in suffixes else f"{name.stem or 'photo'}{suffixes[0]}"

    def stored_files(self) -> list[models.fields.files.FieldFile]:
        """The files its rows record, its results' included."""
        files = [self.original, self.given, self.reference, self.thumbnail, self.preview]
        return [f for f in files if f] + [f for result in self.results.all() for f in result.stored_files()]


def bytes_used(user) -> int:
    """What the user's photos and every result they keep hold in the store: their quota's measure."""
    photos = Photo.objects.filter(owner=user).aggregate(total=Sum("bytes_stored"))["total"] or 0
    visible = {"photo__owner": user, "photo__deleting_since__isnull": True}
    results = Restoration.objects.filter(**visible).aggregate(total=Sum("bytes_stored"))["total"] or 0
    return photos + results


class Restoration(models.Model):
    """One run of the deblurring job on a photo and, once it succeeds, its result and
    metrics: a photo keeps one per run (gallery.results), and one of them is its current."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="results")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    strength = models.FloatField(default=1.0)
    attempts = models.PositiveSmallIntegerField(default=0)
    choice = models.CharField(max_length=10, choices=Choice.choices, default=Choice.AUTO)
    # The model that made the result: the row, while it exists, and its name for good.
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL)
    model_name = models.CharField(max_length=100, blank=True)
    result = models.FileField(max_length=255, blank=True)
    result_jpeg = models.FileField(max_length=255, blank=True)
    result_webp = models.FileField(max_length=255, blank=True)
    result_preview = models.FileField(max_length=255, blank=True)
    result_thumbnail = models.FileField(max_length=255, blank=True, help_text="The gallery card's image.")
    # A long Best quality job's first look (jobs.GLIMPSE_SIDE): the centre of the photo at full
    # resolution, deblurred before the rest.
    result_glimpse = models.FileField(max_length=255, blank=True)
    # The result at the saved strength, when under full, rendered once by a worker
    # (gallery.blends) so that downloads serve stored files. blend_strength is the strength
    # they hold: they serve only while it is the saved one.
    blend_png = models.FileField(max_length=255, blank=True)
    blend_jpeg = models.FileField(max_length=255, blank=True)
    blend_webp = models.FileField(max_length=255, blank=True)
    blend_strength = models.FloatField(null=True, blank=True)
    # Set while a worker renders the blends: one render a photo at a time.
    blend_claimed_at = models.DateTimeField(null=True, blank=True)
    # What happened to the photo (inference.auto.Outcome): the method that made the result,
    # how it compares with the input, judged without a reference, and why, in words for the
    # person; for Auto, which method it chose and why. Blank until the job succeeds.
    method = models.CharField(max_length=10, choices=Method.choices, blank=True)
    verdict = models.CharField(max_length=15, choices=Verdict.choices, blank=True)
    verdict_reason = models.TextField(blank=True)
    decision = models.TextField(blank=True, help_text="Auto's choice of method and why.")
    # The arithmetic behind the result (inference.precision): a network's float32 or
    # bfloat16 as INFERENCE_PRECISION gave it on the worker's CPU, the kernel engine's
    # float32; blank when the photo was left as it was.
    precision = models.CharField(max_length=10, blank=True)
    # What the downloads' Content Credentials say (gallery.credentials.summary); empty when unsigned.
    credentials = models.JSONField(default=dict, blank=True)
    # The blur kernel the kernel engine estimated, drawn as the camera's path
    # (inference.kernels.drawing), and its extent in pixels at the photo's full size.
    kernel_image = models.FileField(max_length=255, blank=True)
    kernel_size = models.PositiveIntegerField(null=True, blank=True, help_text="The kernel's extent in pixels.")
    # What the job's files hold in the store, for the owner's quota; blends, a cache of the
    # saved strength rendered again on demand, are not counted.
    bytes_stored = models.PositiveBigIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    # The Celery queue its expected time sends it to (gallery.queueing), and the address that
    # asked for it: a queue releases one job per user and per address at a time.
    queue = models.CharField(max_length=20, default="deblur")
    submitted_from = models.GenericIPAddressField(null=True, blank=True)
    # Set when the job is released to its queue (queueing.release); null while it is held back
    # so that other people's jobs go first.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # How long the whole job should take, from the measured speeds (inference.speed): while
    # queued, for the waits of the jobs behind it; while running, for its progress between
    # tiles and its time left (gallery.timing). `progress_cap` is where the current tile ends.
    expected_seconds = models.FloatField(null=True, blank=True)
    progress_cap = models.FloatField(default=0.0)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Full-reference metrics, against the sharp reference when one was uploaded.
    psnr_before = models.FloatField(null=True, blank=True)
    psnr_after = models.FloatField(null=True, blank=True)
    ssim_before = models.FloatField(null=True, blank=True)
    ssim_after = models.FloatField(null=True, blank=True)
    # No-reference blur (inference.metrics.blur, 0 sharp to 1 blurred), always computed.
    blur_before = models.FloatField(null=True, blank=True)
    blur_after = models.FloatField(null=True, blank=True)

    class Meta:
        # Whether a user has any PSNR figures (the gallery's sort by PSNR gain) without reading
        # every job of the site: few jobs have a reference.
        indexes = [
            models.Index(fields=["photo"], condition=models.Q(psnr_after__isnull=False), name="restoration_with_psnr")
        ]

    def __str__(self) -> str:
        return f"{self.photo} ({self.status})"

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED)

    def file_names(self) -> dict[str, str]:
        return result_file_names(self.photo_id, self.pk)

    def stored_files(self) -> list[models.fields.files.FieldFile]:
        """The files its row records."""
        return [f for f in (getattr(self, field) for field in RESULT_SUFFIXES) if f]

    def every_file_name(self) -> list[str]:
        """Every name its files can have, for deleting them: made from its ids, whether or not
        its row recorded them, and as its row recorded them, in case one was stored under
        another name once."""
        return list(dict.fromkeys([*self.file_names().values(), *(file.name for file in self.stored_files())]))

    @property
    def processing_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def run(self) -> "timing.Run | None":
        """A running job's pace, as its row says it."""
        if self.status != self.Status.RUNNING or not self.started_at:
            return None
        return timing.Run(self.started_at, self.heartbeat_at or self.started_at, self.progress, self.progress_cap, self.expected_seconds)

    @property
    def live_progress(self) -> float:
        """The progress to show: for a running job, moved on at its expected pace since the
        worker last wrote it (gallery.timing)."""
        run = self.run()
        return timing.progress_at(run, timezone.now()) if run else self.progress

    @functools.cached_property
    def standing(self) -> "queueing.Standing | None":
        """While queued: the jobs really ahead of this one on its queue, and the wait."""
        from . import queueing

        return queueing.standing(self) if self.status == self.Status.QUEUED else None

    @property
    def queue_position(self) -> int | None:
        return self.standing.ahead if self.standing else None

    @property
    def wait_seconds(self) -> float | None:
        """While queued: about how long until it starts."""
        return self.standing.wait_seconds if self.standing else None

    @property
    def eta_seconds(self) -> float | None:
        """About how long until the result is ready: while queued, the wait and the job's own
        expected time; while running, the time left."""
        if self.standing:
            return None if self.expected_seconds is None else self.standing.wait_seconds + self.expected_seconds
        run = self.run()
        return timing.seconds_left(run, timezone.now()) if run else None


class Archive(models.Model):
    """A ZIP of several of a user's photos, built by a worker into the media store
    (gallery.archive) and downloaded from there: a download of any size is a stored file.
    It holds copies of the photos, so deleting any of them deletes it (cleanup)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being built"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="archives")
    photos = models.ManyToManyField(Photo, related_name="archives")
    name = models.CharField(max_length=100, help_text="The download's file name.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    file = models.FileField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.name

    @property
    def file_name(self) -> str:
        """Where it is stored: named from its id, as a photo's files are."""
        return f"{ARCHIVE_FOLDER}/{self.pk}.zip"

    @property
    def expires(self):
        return self.created + timedelta(hours=settings.ARCHIVE_KEEP_HOURS)


class IdempotencyKey(models.Model):
    """An API upload's Idempotency-Key (gallery.idempotency): made before the upload's work,
    so that a second request with the key finds it, and holding the first answer once there
    is one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of what the request sent: a key sent again with other content is refused.
    fingerprint = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    # Null while the first request is still at work.
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True, encoder=DjangoJSONEncoder)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]
