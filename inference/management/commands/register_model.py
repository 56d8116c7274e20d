from django.core.management.base import BaseCommand, CommandError

from inference.registry import register_model


class Command(BaseCommand):
    help = "Register a trained generator (.keras file) as a model version, and make it active."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="the .keras file")
        parser.add_argument("--name", required=True, help="a unique slug, e.g. nafnet-2025-06")
        parser.add_argument("--notes", default="", help="free text shown in the admin")
        parser.add_argument("--no-activate", action="store_true", help="register it without making it active")

    def handle(self, *args, path: str, name: str, notes: str, no_activate: bool, **options) -> None:
        try:
            version = register_model(path, name=name, activate=not no_activate, notes=notes)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        state = "active" if version.is_active else "not active"
        self.stdout.write(
            self.style.SUCCESS(f"Registered {version.name}")
            + f": {version.get_architecture_display()}, {version.parameter_count:,} parameters, {state}."
        )
