"""Each result records the precision it was computed in (INFERENCE_PRECISION). Every result
made before this, by a network or by the kernel engine, was computed in float32."""

from django.db import migrations, models


def results_so_far_were_float32(apps, schema_editor):
    Restoration = apps.get_model("gallery", "Restoration")
    Restoration.objects.filter(method__in=["network", "kernel"]).update(precision="float32")


class Migration(migrations.Migration):
    dependencies = [("gallery", "0008_restoration_outcome")]

    operations = [
        migrations.AddField(model_name="restoration", name="precision", field=models.CharField(blank=True, max_length=10)),
        migrations.RunPython(results_so_far_were_float32, migrations.RunPython.noop),
    ]
