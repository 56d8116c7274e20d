from django.core.management.base import BaseCommand, CommandError

from inference.models import ServingChoice
from inference.registry import register_model


class Command(BaseCommand):
    help = "Register a trained generator (.keras file) as a model version, optionally serving choices."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="the .keras file")
        parser.add_argument("--name", required=True, help="a unique slug, e.g. nafnet-2025-06")
        parser.add_argument("--notes", default="", help="free text shown in the admin")
        parser.add_argument(
            "--serve",
            action="append",
            default=[],
            choices=ServingChoice.Key.values,
            help="a choice it serves from now on; repeat for both (default: none, an administrator chooses later)",
        )

    def handle(self, *args, path: str, name: str, notes: str, serve: list[str], **options) -> None:
        try:
            version = register_model(path, name=name, serve=serve, notes=notes)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        served = " and ".join(ServingChoice.Key(choice).label for choice in serve)
        self.stdout.write(
            self.style.SUCCESS(f"Registered {version.name}")
            + f": {version.get_architecture_display()}, {version.parameter_count:,} parameters, "
            + (f"serving {served}." if served else "serving no choice yet.")
        )
