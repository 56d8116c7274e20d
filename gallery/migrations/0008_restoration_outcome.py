"""Auto and Camera shake (inference.auto): the choices become auto, best, fast and shake,
Auto the default of new jobs, and a result records what happened to its photo: the method
that made it, a verdict and its reason, Auto's decision, and the blur kernel the kernel
engine found. Every result made before this was made by a network."""

from django.db import migrations, models


def results_so_far_came_from_networks(apps, schema_editor):
    Restoration = apps.get_model("gallery", "Restoration")
    Restoration.objects.filter(status="succeeded").update(method="network")


class Migration(migrations.Migration):
    dependencies = [("gallery", "0007_idempotency_keys")]

    operations = [
        migrations.AddField(
            model_name="restoration",
            name="method",
            field=models.CharField(
                blank=True,
                choices=[("kernel", "Kernel estimation and deconvolution"), ("network", "Deblurring network"), ("none", "Left as it was")],
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="restoration",
            name="verdict",
            field=models.CharField(
                blank=True,
                choices=[("sharper", "Sharper"), ("little-change", "Little change"), ("not-improved", "Could not improve")],
                max_length=15,
            ),
        ),
        migrations.AddField(model_name="restoration", name="verdict_reason", field=models.TextField(blank=True)),
        migrations.AddField(
            model_name="restoration",
            name="decision",
            field=models.TextField(blank=True, help_text="Auto's choice of method and why."),
        ),
        migrations.AddField(
            model_name="restoration",
            name="kernel_image",
            field=models.FileField(blank=True, max_length=255, upload_to=""),
        ),
        migrations.AddField(
            model_name="restoration",
            name="kernel_size",
            field=models.PositiveIntegerField(blank=True, help_text="The kernel's extent in pixels.", null=True),
        ),
        migrations.AlterField(
            model_name="restoration",
            name="choice",
            field=models.CharField(
                choices=[("auto", "Auto"), ("best", "Best quality"), ("fast", "Fast"), ("shake", "Camera shake")],
                default="auto",
                max_length=10,
            ),
        ),
        migrations.RunPython(results_so_far_came_from_networks, migrations.RunPython.noop),
    ]
