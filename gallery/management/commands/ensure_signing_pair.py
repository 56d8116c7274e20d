from django.conf import settings
from django.core.management.base import BaseCommand

from gallery import credentials


class Command(BaseCommand):
    help = "Make a development key and certificate for Content Credentials where the settings look for them, unless they are there."

    def handle(self, *args, **options) -> None:
        if credentials.ensure_dev_pair():
            self.stdout.write(f"Made a development signing pair for Content Credentials: {settings.C2PA_CERT_FILE}.")
        else:
            self.stdout.write("Content Credentials: the signing pair is there.")
