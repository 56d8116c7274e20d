from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from deblursite.storage import get_models_storage


class NoModelInstalled(RuntimeError):
    """No model serves the choice asked for. Here rather than in inference.engine so that code
    without TensorFlow (inference.auto) can catch it. The message is its only argument, so
    that the exception survives pickling (Celery results), which re-creates it from its args."""


class ModelVersion(models.Model):
    """A trained generator in the models storage. What new jobs use is decided per user-facing
    choice (ServingChoice): "Best quality" and "Fast" each name the model that serves them."""

    class Architecture(models.TextChoices):
        NAFNET = "nafnet", "NAFNet-style U-Net"
        DEBLURGAN = "deblurgan", "DeblurGAN ResNet"
        SRN = "srn", "SRN-DeblurNet"

    name = models.SlugField(max_length=100, unique=True)
    file = models.FileField(storage=get_models_storage, upload_to="models/", max_length=255)
    architecture = models.CharField(max_length=20, choices=Architecture.choices)
    parameter_count = models.PositiveBigIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    provenance = models.JSONField(
        default=dict,
        blank=True,
        help_text="Where the weights come from: source and its hash, licence, notice, paper, training data and "
        "its terms, a one-line summary, and seen_in_training (benchmark names).",
    )
    speed = models.JSONField(
        default=dict, blank=True, help_text="Measured seconds per megapixel by worker kind (inference.speed)."
    )
    created = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.name

    @property
    def summary(self) -> str:
        """What the model is and what it is good at, in a line: the provenance's summary,
        else the first sentence of the notes."""
        first, stop, _ = self.notes.partition(". ")
        return self.provenance.get("summary") or (first + stop).strip()

    @property
    def seen_in_training(self) -> list[str]:
        return self.provenance.get("seen_in_training", [])

    @classmethod
    def serving(cls, choice: str) -> "ModelVersion | None":
        return cls.objects.filter(serves__key=choice).first()

    def promote(self, choice: str, by=None) -> None:
        """Make this model serve the choice; new jobs of that choice use it from now on.
        Each change is recorded, so that it can be rolled back."""
        check_choice(choice)
        with transaction.atomic():
            # Locking this row first orders a promotion against a retirement of the same model.
            if ModelVersion.objects.select_for_update().get(pk=self.pk).retired_at is not None:
                raise ValueError(f"{self.name} is retired and cannot serve a choice.")
            serving, _ = ServingChoice.objects.select_for_update().get_or_create(key=choice)
            if serving.model_id == self.pk:
                return
            ServingChange.objects.create(
                choice=choice, model=self, model_name=self.name, previous_name=serving.model.name if serving.model else "", by=by
            )
            serving.model = self
            serving.save()

    def retire(self) -> None:
        """Keep the model registered, and out of the choices for good."""
        with transaction.atomic():
            locked = ModelVersion.objects.select_for_update().get(pk=self.pk)
            served = [ServingChoice.Key(key).label for key in self.serves.values_list("key", flat=True)]
            if served:
                raise ValueError(f"{self.name} serves {' and '.join(served)}; choose another model for it first.")
            self.retired_at = locked.retired_at or timezone.now()
            self.save(update_fields=["retired_at"])


class Choice(models.TextChoices):
    """What a person picks when they upload (inference.auto): Auto decides per photo between
    the kernel engine and a network; the learned choices are served by a ModelVersion
    (ServingChoice); Camera shake is the kernel engine."""

    AUTO = "auto", "Auto"
    BEST = "best", "Best quality"
    FAST = "fast", "Fast"
    SHAKE = "shake", "Camera shake"


class Method(models.TextChoices):
    """What made a result."""

    KERNEL = "kernel", "Kernel estimation and deconvolution"
    NETWORK = "network", "Deblurring network"
    NONE = "none", "Left as it was"


class Verdict(models.TextChoices):
    """How a result compares with its input, judged without a reference."""

    SHARPER = "sharper", "Sharper"
    LITTLE_CHANGE = "little-change", "Little change"
    NOT_IMPROVED = "not-improved", "Could not improve"


class ServingChoice(models.Model):
    """A choice that users pick when they upload, and the model that an administrator set to serve it."""

    class Key(models.TextChoices):
        BEST = "best", "Best quality"
        FAST = "fast", "Fast"

    key = models.CharField(max_length=10, primary_key=True, choices=Key.choices)
    # PROTECT: the model that serves a choice cannot be deleted.
    model = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="serves")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.get_key_display()

    @classmethod
    def models_by_key(cls) -> dict[str, ModelVersion | None]:
        """The model serving each choice, None where none does, in one query."""
        served = {row.key: row.model for row in cls.objects.select_related("model")}
        return {key: served.get(key) for key in cls.Key.values}


class ServingChange(models.Model):
    """A model set to serve a choice: the history that a rollback walks back."""

    choice = models.CharField(max_length=10, choices=ServingChoice.Key.choices)
    model = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, related_name="serving_changes")
    model_name = models.CharField(max_length=100, help_text="Kept when the model is deleted.")
    previous_name = models.CharField(max_length=100, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_choice_display()}: {self.previous_name or 'none'} -> {self.model_name}"


def previous_model(choice: str) -> ModelVersion | None:
    """The model that served the choice before the current one, if it can serve again."""
    latest = ServingChange.objects.filter(choice=choice).first()
    if latest is None or not latest.previous_name:
        return None
    return ModelVersion.objects.filter(name=latest.previous_name, retired_at=None).first()


def rollback(choice: str, by=None) -> ModelVersion:
    """Serve the choice with the model that served it before; a ValueError when there is none."""
    previous = previous_model(choice)
    if previous is None:
        raise ValueError(f"{ServingChoice.Key(choice).label} has no earlier model to go back to.")
    previous.promote(choice, by=by)
    return previous


def check_choice(choice: str) -> None:
    """A ValueError that says what the choices are, for anything else."""
    if choice not in ServingChoice.Key.values:
        raise ValueError(f"No choice {choice!r}: choose one of {', '.join(ServingChoice.Key.values)}.")


class EngineSpeed(models.Model):
    """How fast the kernel engine runs on this site's workers, for one budget (kernels.Budget):
    its measured time over the cost the budget models, by worker kind (inference.speed)."""

    budget = models.CharField(max_length=10, primary_key=True)
    speed = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"kernel engine, {self.budget} budget"
