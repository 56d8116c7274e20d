"""A photo keeps every result (one per run) and points at its current one; each result
counts what its files hold. A photo's one result so far becomes its current, and its files'
sizes are read from the store (a file the store cannot find counts 0)."""

import django.db.models.deletion
from django.core.files.storage import default_storage
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

RESULT_FIELDS = ("result", "result_jpeg", "result_webp", "result_preview", "result_thumbnail", "kernel_image")


def _size(name: str) -> int:
    try:
        return default_storage.size(name)
    except Exception:
        return 0


def current_and_sizes(apps, schema_editor):
    Photo, Restoration = apps.get_model("gallery", "Photo"), apps.get_model("gallery", "Restoration")
    first = Restoration.objects.filter(photo=OuterRef("pk")).order_by("created", "pk").values("pk")[:1]
    Photo.objects.update(restoration=Subquery(first))
    for result in Restoration.objects.exclude(result=""):
        names = [getattr(result, field).name for field in RESULT_FIELDS]
        Restoration.objects.filter(pk=result.pk).update(bytes_stored=sum(_size(name) for name in names if name))


def back(apps, schema_editor):
    # A photo goes back to one result: its current one.
    Photo, Restoration = apps.get_model("gallery", "Photo"), apps.get_model("gallery", "Restoration")
    Restoration.objects.exclude(pk__in=Photo.objects.exclude(restoration=None).values("restoration")).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0014_content_credentials"),
    ]

    operations = [
        migrations.AlterField(
            model_name="restoration",
            name="photo",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="results", to="gallery.photo"),
        ),
        migrations.AddField(
            model_name="photo",
            name="restoration",
            field=models.OneToOneField(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="current_of",
                to="gallery.restoration",
            ),
        ),
        migrations.AddField(
            model_name="restoration",
            name="bytes_stored",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.RunPython(current_and_sizes, back),
    ]
