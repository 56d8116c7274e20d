from django.db import models, transaction
from django.db.models import Q

from deblursite.storage import get_models_storage


class ModelVersion(models.Model):
    """A trained generator in the models storage. At most one is active, and the
    active one is what new jobs use."""

    class Architecture(models.TextChoices):
        NAFNET = "nafnet", "NAFNet-style U-Net"
        DEBLURGAN = "deblurgan", "DeblurGAN ResNet"

    name = models.SlugField(max_length=100, unique=True)
    file = models.FileField(storage=get_models_storage, upload_to="models/", max_length=255)
    architecture = models.CharField(max_length=20, choices=Architecture.choices)
    parameter_count = models.PositiveBigIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_model"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def active(cls) -> "ModelVersion | None":
        return cls.objects.filter(is_active=True).first()

    def activate(self) -> None:
        with transaction.atomic():
            ModelVersion.objects.select_for_update().filter(is_active=True).exclude(pk=self.pk).update(is_active=False)
            self.is_active = True
            self.save(update_fields=["is_active"])
