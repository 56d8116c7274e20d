from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from training import data


class Command(BaseCommand):
    help = (
        "Write the project's synthetic held-out benchmark (blur/ + sharp/) from the photos "
        "that training holds out; deterministic, so every machine writes the same pairs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--photos", required=True, help="the folder of sharp photos training uses")
        parser.add_argument("--out", required=True, help="where to write blur/, sharp/ and manifest.json")

    def handle(self, *args, **options) -> None:
        photos = Path(options["photos"])
        if not photos.is_dir():
            raise CommandError(f"{photos} is not a folder.")
        _, holdout = data.split_holdout(data.list_photos(photos))
        if not holdout:
            raise CommandError(f"{photos} holds no photos.")
        names = data.write_holdout(data.PhotoBank(holdout), Path(options["out"]))
        self.stdout.write(f"Wrote {len(names)} pairs from {', '.join(p.name for p in holdout)} to {options['out']}.")
