from django.core.management.base import BaseCommand

from gallery import samples


class Command(BaseCommand):
    help = "Make the sample photos that visitors see without an account, where they are missing; the workers deblur them."

    def handle(self, *args, **options) -> None:
        made = samples.ensure()
        names = ", ".join(photo.original_name for photo in made)
        self.stdout.write(f"Sample photos queued for deblurring: {names}." if made else "Sample photos: all there.")
