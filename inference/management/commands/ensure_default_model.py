import json
from pathlib import Path

from django.core.management.base import BaseCommand

from inference.models import ModelVersion
from inference.registry import register_model

# The trained default generator ships with the code; its card (JSON) names it and
# carries its benchmark figures.
DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "weights" / "default.keras"


class Command(BaseCommand):
    help = "Install the shipped default model as the active one, unless a model is installed already."

    def handle(self, *args, **options) -> None:
        installed = ModelVersion.objects.first()
        if installed is not None:
            active = ModelVersion.active()
            self.stdout.write(f"A model is installed already (active: {active.name if active else 'none'}); nothing changed.")
            return
        card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
        version = register_model(
            DEFAULT_WEIGHTS, name=card["name"], activate=True, notes=card.get("notes", ""), metrics=card.get("metrics", {})
        )
        self.stdout.write(f"Installed the default model {version.name} ({version.parameter_count:,} parameters).")
