from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from gallery import cleanup


class Command(BaseCommand):
    help = (
        "Finish the deletes of photos whose file store failed part-way, and remove the files of "
        "the photo folders that no photo owns (what beat's sweep-storage does every 10 minutes)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--grace-seconds",
            type=int,
            default=settings.STORAGE_SWEEP_GRACE_SECONDS,
            help="Only remove unowned files older than this (default STORAGE_SWEEP_GRACE_SECONDS, %(default)s).",
        )

    def handle(self, *args, grace_seconds: int, **options) -> None:
        swept = cleanup.sweep(timedelta(seconds=grace_seconds))
        self.stdout.write(
            f"Finished {swept.finished_deletes} half-done delete(s); removed {len(swept.removed)} file(s) no photo owns."
        )
        for name in swept.removed:
            self.stdout.write(f"  {name}")
