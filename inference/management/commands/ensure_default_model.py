import json

from django.core.management.base import BaseCommand

from inference.models import ModelVersion, ServingChoice
from inference.registry import DEFAULT_WEIGHTS, register_model


class Command(BaseCommand):
    help = (
        "Install the shipped default model for the choices that no model serves, or that an earlier "
        "shipped default serves; choices that an administrator set are left alone."
    )

    def handle(self, *args, **options) -> None:
        card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
        if ModelVersion.objects.filter(name=card["name"]).exists():
            self.stdout.write(f"The default model {card['name']} is installed already; nothing changed.")
            return
        serving = ServingChoice.models_by_key()
        earlier = card.get("replaces", [])
        replaced = {version.name for version in serving.values() if version and version.name in earlier}
        # A choice takes the shipped model while no model serves it or an earlier shipped default
        # does; never over a model an administrator chose.
        serve = [
            key
            for key in (ServingChoice.Key.FAST, ServingChoice.Key.BEST)
            if serving[key] is None or serving[key].name in replaced
        ]
        if not serve:
            chosen = ", ".join(f"{ServingChoice.Key(key).label}: {version.name}" for key, version in serving.items())
            self.stdout.write(f"Every choice has a model already ({chosen}); nothing changed.")
            return
        version = register_model(
            DEFAULT_WEIGHTS,
            name=card["name"],
            serve=serve,
            notes=card.get("notes", ""),
            metrics=card.get("metrics", {}),
            provenance=card.get("provenance", {}),
        )
        served = " and ".join(ServingChoice.Key(key).label for key in serve)
        replacing = f", replacing {', '.join(sorted(replaced))}" if replaced else ""
        self.stdout.write(
            f"Installed the default model {version.name} ({version.parameter_count:,} parameters), "
            f"serving {served}{replacing}."
        )
