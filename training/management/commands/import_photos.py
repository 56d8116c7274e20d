from pathlib import Path

from django.core.management.base import CommandError

from training.ingestion.command import IngestCommand
from training.models import IngestJob


class Command(IngestCommand):
    help = "Import a folder of sharp photos into a dataset through the checked pipeline."
    source = IngestJob.Source.FOLDER

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder", type=Path)
        super().add_arguments(parser)
        parser.add_argument("--licence", required=True, help="the licence the photos are under, recorded per image")

    def handle(self, *args, folder: Path, dataset: str, licence: str, **options) -> None:
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        self.run_job(self.dataset(dataset), path=str(folder.resolve()), licence=licence)
