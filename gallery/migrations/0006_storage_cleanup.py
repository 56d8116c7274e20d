"""A photo whose delete could not remove every file is marked, hidden from its owner, and
finished by the storage sweep (gallery.cleanup)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("gallery", "0005_stored_results_are_full_strength")]

    operations = [
        migrations.AddField(
            model_name="photo",
            name="deleting_since",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
    ]
