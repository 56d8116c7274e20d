from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def name_the_models_of_results(apps, schema_editor) -> None:
    Restoration = apps.get_model("gallery", "Restoration")
    ModelVersion = apps.get_model("inference", "ModelVersion")
    name = ModelVersion.objects.filter(pk=OuterRef("model_version_id")).values("name")[:1]
    Restoration.objects.filter(model_version__isnull=False).update(model_name=Subquery(name))


class Migration(migrations.Migration):

    dependencies = [
        ("gallery", "0002_restoration_result_webp"),
        ("inference", "0002_serving_choices"),
    ]

    operations = [
        migrations.AddField(
            model_name="restoration",
            name="choice",
            field=models.CharField(
                choices=[("best", "Best quality"), ("fast", "Fast")], default="best", max_length=10
            ),
        ),
        migrations.AddField(
            model_name="restoration",
            name="model_name",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.RunPython(name_the_models_of_results, migrations.RunPython.noop),
    ]
