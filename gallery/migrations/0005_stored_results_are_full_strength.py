"""Results used to be stored blended at the job's strength; now they are stored at full
strength and downloads blend on the way out. A result made before this change already
holds its blend, so its strength becomes 1 rather than being applied a second time."""

from django.db import migrations


def mark_blended_results_full(apps, schema_editor):
    Restoration = apps.get_model("gallery", "Restoration")
    Restoration.objects.filter(status="succeeded").exclude(strength=1.0).update(strength=1.0)


class Migration(migrations.Migration):
    dependencies = [("gallery", "0004_blur_cancel_try_it")]

    operations = [migrations.RunPython(mark_blended_results_full, migrations.RunPython.noop)]
