from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone

from deblursite.storage import get_datasets_storage
from inference.models import ModelVersion


class Dataset(models.Model):
    """A named set of images for training (sharp photos) or benchmarking (blur/sharp pairs)."""

    class Kind(models.TextChoices):
        PHOTOS = "photos", "Sharp photos"
        PAIRS = "pairs", "Blurred/sharp pairs"

    name = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PHOTOS)
    description = models.TextField(blank=True)
    is_benchmark = models.BooleanField(default=False, help_text="Offered to `evaluate` as a benchmark.")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def counts(self) -> dict:
        kept = Q(images__status=DatasetImage.Status.KEPT)
        return Dataset.objects.filter(pk=self.pk).aggregate(
            kept=Count("images", filter=kept),
            trainable=Count("images", filter=kept & Q(images__trainable=True)),
            benchmark=Count("images", filter=kept & ~Q(images__benchmark_match="")),
            rejected=Count("images", filter=Q(images__status=DatasetImage.Status.REJECTED)),
        )

    def rejections(self) -> dict[str, int]:
        rows = self.images.filter(status=DatasetImage.Status.REJECTED).values("rejection_reason")
        return dict(rows.annotate(n=Count("id")).values_list("rejection_reason", "n").order_by("rejection_reason"))


class DatasetImage(models.Model):
    """One manifest row: an image (or a blur/sharp pair) that an ingestion looked at,
    where it came from, under which licence, and whether it was kept."""

    class Status(models.TextChoices):
        KEPT = "kept"
        REJECTED = "rejected"

    class Reason(models.TextChoices):
        CORRUPT = "corrupt", "Damaged or not an image"
        UNSUPPORTED = "unsupported_type", "Not an accepted image type"
        TOO_LARGE = "too_large", "File or pixel count over the limit"
        TOO_SMALL = "too_small", "Smaller than the minimum size"
        DUPLICATE = "duplicate", "Exact duplicate (SHA-256)"
        NEAR_DUPLICATE = "near_duplicate", "Near duplicate (perceptual hash)"
        NO_PARTNER = "no_partner", "Blurred or sharp partner missing"
        SIZE_MISMATCH = "size_mismatch", "Blurred and sharp sizes differ"
        DOWNLOAD_FAILED = "download_failed", "Download failed"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="images")
    source = models.CharField(max_length=20, help_text="unsplash, folder, upload or pairs")
    source_id = models.CharField(max_length=255, help_text="The source's id, or the path inside the folder.")
    status = models.CharField(max_length=10, choices=Status.choices)
    rejection_reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    rejection_detail = models.TextField(blank=True)
    checksum = models.CharField(max_length=64, blank=True, db_index=True, help_text="SHA-256 of the raw file.")
    phash = models.CharField(max_length=16, blank=True, help_text="Perceptual hash of the processed image.")
    blur_phash = models.CharField(max_length=16, blank=True, help_text="Pairs: perceptual hash of the blurred image.")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    bytes = models.PositiveBigIntegerField(default=0)
    licence = models.CharField(max_length=255, blank=True)
    trainable = models.BooleanField(default=False)
    benchmark_match = models.CharField(
        max_length=255,
        blank=True,
        help_text="The benchmark image this one is, or looks the same as (SHA-256 or pHash): never trained on.",
    )
    attribution = models.JSONField(default=dict, blank=True, help_text="Photographer and links, for credits.")
    raw = models.FileField(storage=get_datasets_storage, max_length=255, blank=True)
    processed = models.FileField(storage=get_datasets_storage, max_length=255, blank=True)
    thumbnail = models.FileField(storage=get_datasets_storage, max_length=255, blank=True)
    # Paired datasets: the blurred partner of the sharp image above.
    raw_blur = models.FileField(storage=get_datasets_storage, max_length=255, blank=True)
    processed_blur = models.FileField(storage=get_datasets_storage, max_length=255, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            # Re-running an ingestion skips what it already looked at.
            models.UniqueConstraint(fields=["dataset", "source", "source_id"], name="one_row_per_source_item"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset}/{self.source_id}"

    def stored_files(self) -> list:
        return [f for f in (self.raw, self.processed, self.thumbnail, self.raw_blur, self.processed_blur) if f]


class BackgroundWork(models.Model):
    """What an ingestion job and a training run both record: a log, the error that ended it,
    and when it was created, started, last heard from and finished."""

    error = models.TextField(blank=True)
    log = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created"]


class IngestJob(BackgroundWork):
    """An ingestion run: a source, what it has done so far, and a log. It can be
    stopped and started again; it picks up where it was."""

    class Source(models.TextChoices):
        UNSPLASH = "unsplash", "Unsplash search"
        FOLDER = "folder", "Folder of photos on the server"
        UPLOAD = "upload", "Uploaded zip of photos"
        PAIRS = "pairs", "Paired blur/sharp folder on the server"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        PAUSED = "paused", "Paused (API budget spent)"
        STOPPED = "stopped"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="jobs")
    source = models.CharField(max_length=10, choices=Source.choices)
    query = models.CharField(max_length=200, blank=True)
    path = models.CharField(max_length=500, blank=True, help_text="Folder, or the stored zip for uploads.")
    count = models.PositiveIntegerField(default=0, help_text="Unsplash: how many photos to keep.")
    licence = models.CharField(max_length=255, blank=True)
    licence_basis = models.TextField(
        blank=True, help_text="Unsplash: the permission that allows training on these photos. Empty: not trainable."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    seen = models.PositiveIntegerField(default=0)
    kept = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True, help_text="Items to look at, when known.")
    cursor = models.JSONField(default=dict, blank=True, help_text="Where the source stopped (e.g. the search page).")
    resume_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_source_display()} -> {self.dataset} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING, self.Status.PAUSED)


class ApiBudget(models.Model):
    """Requests made to a rate-limited API in the current hour, shared by every worker."""

    api = models.CharField(max_length=50, unique=True)
    window_start = models.DateTimeField()
    used = models.PositiveIntegerField(default=0)


class TrainingRun(BackgroundWork):
    """A training run started from the staff pages: what it trains (the trainer's config),
    how far it is, and where its files live (`runs/<id>/` in the models storage)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        STOPPING = "stopping"
        STOPPED = "stopped"
        FAILED = "failed"
        SUCCEEDED = "succeeded"

    label = models.CharField(max_length=200, blank=True, help_text="What this run tries, in a few words.")
    datasets = models.ManyToManyField(Dataset, related_name="runs")
    architecture = models.CharField(max_length=20, choices=ModelVersion.Architecture.choices)
    init_model = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fine_tuning_runs",
        help_text="Start from this model's weights instead of a random initialisation.",
    )
    config = models.JSONField(default=dict, help_text="training.trainer.TrainConfig, without its paths.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0.0, help_text="Training time so far, over every session of the run.")
    seconds_per_step = models.FloatField(null=True, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True)
    history = models.JSONField(
        default=dict, blank=True, help_text="Chart series: name -> [[step, value], ...] from the run's CSV logs."
    )
    best_psnr = models.FloatField(null=True, blank=True)
    best_ssim = models.FloatField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    auto_resumes = models.PositiveSmallIntegerField(
        default=0, help_text="Times beat resumed the run after its worker stopped answering."
    )
    model = models.OneToOneField(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="training_run"
    )

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.get_architecture_display()}, {self.status})"

    @property
    def prefix(self) -> str:
        """Where the run's checkpoints, logs and samples live in the models storage."""
        return f"runs/{self.pk}/"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING, self.Status.STOPPING)

    @property
    def time_left(self) -> float | None:
        """The ETA of a run that is training: a queued, stopping or stopped one has none."""
        return self.eta_seconds if self.status == self.Status.RUNNING else None

    @property
    def can_resume(self) -> bool:
        return self.status in (self.Status.STOPPED, self.Status.FAILED) and self.step > 0
