import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

# `make run` passes the address it serves (BIND), so that the links printed are the site's.
DEFAULT_SITE_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Create the superuser 'admin' with a random password, unless a superuser already exists."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--site-url", default=DEFAULT_SITE_URL, help="where the site is served, for the links printed")

    def handle(self, *args, site_url: str, **options) -> None:
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            self.stdout.write("A superuser already exists; nothing changed.")
            return
        if users.filter(username="admin").exists():
            raise CommandError("A user named 'admin' exists but is not a superuser; run `manage.py createsuperuser`.")

        base_url = site_url.rstrip("/")
        password = secrets.token_urlsafe(12)
        users.create_superuser("admin", "admin@localhost", password)
        self.stdout.write(
            self.style.SUCCESS("Created the superuser 'admin'.")
            + f"\n  Admin:    {base_url}{reverse('admin:index')}"
            + f"\n  Site:     {base_url}{reverse('login')}"
            + "\n  Username: admin"
            + f"\n  Password: {password}"
            + "\nThis password is shown only once: change it after logging in (Profile → Change password)."
        )
