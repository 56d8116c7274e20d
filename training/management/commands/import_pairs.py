from pathlib import Path

from django.core.management.base import CommandError

from training.ingestion.command import IngestCommand
from training.models import Dataset, DatasetImage, IngestJob


class Command(IngestCommand):
    help = (
        "Import a paired blur/sharp dataset: GoPro's layout (<scene>/blur, <scene>/sharp) or a flat blur/ + sharp/. "
        "Files with no partner are listed and skipped."
    )
    source = IngestJob.Source.PAIRS
    kind = Dataset.Kind.PAIRS

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder", type=Path)
        super().add_arguments(parser)
        parser.add_argument("--licence", default="", help="licence of the pairs; without one they are not trainable")
        parser.add_argument("--benchmark", action="store_true", help="offer the dataset to `evaluate` as a benchmark")

    def handle(self, *args, folder: Path, dataset: str, licence: str, benchmark: bool, **options) -> None:
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        target = self.dataset(dataset)
        if benchmark and not target.is_benchmark:
            target.is_benchmark = True
            target.save(update_fields=["is_benchmark"])
        self.run_job(target, path=str(folder.resolve()), licence=licence)
        for row in target.images.filter(rejection_reason=DatasetImage.Reason.NO_PARTNER):
            self.stdout.write(f"  no partner: {row.source_id}")
