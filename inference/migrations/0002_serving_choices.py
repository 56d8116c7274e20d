import django.db.models.deletion
from django.db import migrations, models

CHOICES = ["best", "fast"]


def serve_the_active_model(apps, schema_editor) -> None:
    """Both choices, served by the model that was active (if any)."""
    ModelVersion = apps.get_model("inference", "ModelVersion")
    ServingChoice = apps.get_model("inference", "ServingChoice")
    active = ModelVersion.objects.filter(is_active=True).first()
    for key in CHOICES:
        ServingChoice.objects.update_or_create(key=key, defaults={"model": active})


def activate_the_best_model(apps, schema_editor) -> None:
    ModelVersion = apps.get_model("inference", "ModelVersion")
    ServingChoice = apps.get_model("inference", "ServingChoice")
    best = ServingChoice.objects.filter(key="best").first()
    if best is not None and best.model_id is not None:
        ModelVersion.objects.filter(pk=best.model_id).update(is_active=True)


class Migration(migrations.Migration):

    dependencies = [
        ("inference", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ServingChoice",
            fields=[
                (
                    "key",
                    models.CharField(
                        choices=[("best", "Best quality"), ("fast", "Fast")],
                        max_length=10,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("updated", models.DateTimeField(auto_now=True)),
                (
                    "model",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="serves",
                        to="inference.modelversion",
                    ),
                ),
            ],
            options={
                "ordering": ["key"],
            },
        ),
        migrations.AddField(
            model_name="modelversion",
            name="provenance",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Where the weights come from: source and its hash, licence, notice, paper, training data "
                "and its terms, a one-line summary, and seen_in_training (benchmark names).",
            ),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="speed",
            field=models.JSONField(
                blank=True, default=dict, help_text="Measured seconds per megapixel by worker kind (inference.speed)."
            ),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="retired_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="modelversion",
            name="architecture",
            field=models.CharField(
                choices=[("nafnet", "NAFNet-style U-Net"), ("deblurgan", "DeblurGAN ResNet"), ("srn", "SRN-DeblurNet")],
                max_length=20,
            ),
        ),
        migrations.RunPython(serve_the_active_model, activate_the_best_model),
        migrations.RemoveConstraint(
            model_name="modelversion",
            name="one_active_model",
        ),
        migrations.RemoveField(
            model_name="modelversion",
            name="is_active",
        ),
    ]
