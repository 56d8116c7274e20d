from training.ingestion.command import IngestCommand
from training.models import IngestJob


class Command(IngestCommand):
    help = (
        "Search Unsplash and ingest the photos found, with attribution, within the hourly request budget. "
        "Unsplash photos are not trainable unless --licence-basis records the permission that allows it."
    )
    source = IngestJob.Source.UNSPLASH

    def add_arguments(self, parser) -> None:
        parser.add_argument("--query", required=True)
        parser.add_argument("--count", type=int, required=True, help="how many photos to keep")
        super().add_arguments(parser)
        parser.add_argument("--licence-basis", default="", help="the permission to train on these photos")

    def handle(self, *args, query: str, count: int, dataset: str, licence_basis: str, **options) -> None:
        self.run_job(self.dataset(dataset), query=query, count=count, licence_basis=licence_basis)
