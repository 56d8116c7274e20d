import json
from pathlib import Path

from django.core.management.base import BaseCommand

from inference.models import ModelVersion
from inference.registry import register_model

# The trained default generator ships with the code; its card (JSON) names it, carries its
# benchmark figures and lists the earlier shipped defaults it replaces.
DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "weights" / "default.keras"


class Command(BaseCommand):
    help = (
        "Install the shipped default model as the active one when no model is installed, or when "
        "the active one is an earlier shipped default; models that an administrator chose are left alone."
    )

    def handle(self, *args, **options) -> None:
        card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
        active = ModelVersion.active()
        if ModelVersion.objects.filter(name=card["name"]).exists():
            self.stdout.write(f"The default model {card['name']} is installed already; nothing changed.")
            return
        if ModelVersion.objects.exists() and (active is None or active.name not in card.get("replaces", [])):
            self.stdout.write(f"A model is installed already (active: {active.name if active else 'none'}); nothing changed.")
            return
        version = register_model(
            DEFAULT_WEIGHTS, name=card["name"], activate=True, notes=card.get("notes", ""), metrics=card.get("metrics", {})
        )
        replaced = f", replacing {active.name}" if active else ""
        self.stdout.write(f"Installed the default model {version.name} ({version.parameter_count:,} parameters){replaced}.")
