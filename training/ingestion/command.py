"""What the three ingestion commands share: make or find the dataset, create the
job, and run it here with a progress bar."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from training.ingestion import jobs as ingest
from training.models import Dataset, IngestJob


class IngestCommand(BaseCommand):
    source: str
    kind: str = Dataset.Kind.PHOTOS

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dataset", required=True, help="dataset name (a slug); created if new")

    def dataset(self, name: str) -> Dataset:
        dataset, created = Dataset.objects.get_or_create(name=name, defaults={"kind": self.kind})
        if dataset.kind != self.kind:
            raise CommandError(f"Dataset {name} holds {dataset.get_kind_display().lower()}, not {self.kind}.")
        if created:
            self.stdout.write(f"Created dataset {name}.")
        return dataset

    def run_job(self, dataset: Dataset, **fields) -> IngestJob:
        job = IngestJob.objects.create(dataset=dataset, source=self.source, **fields)
        with tqdm(desc=dataset.name, unit="image", total=job.total) as bar:

            def progress(job: IngestJob) -> None:
                bar.total = job.total
                bar.set_postfix(kept=job.kept, rejected=job.rejected)
                bar.update(1)

            job = ingest.run(job.pk, progress)
        self.report(job)
        return job

    def report(self, job: IngestJob) -> None:
        self.stdout.write(f"{job.kept} kept, {job.rejected} rejected (job {job.pk}, {job.status}).")
        for reason, n in job.dataset.rejections().items():
            self.stdout.write(f"  rejected as {reason}: {n}")
        if job.status == IngestJob.Status.PAUSED:
            self.stdout.write(f"Paused until {job.resume_at:%H:%M} UTC: the etl worker continues it then.")
        elif job.status == IngestJob.Status.FAILED:
            raise CommandError(job.error)
