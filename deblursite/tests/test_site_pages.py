"""The site's own error pages (never Django's debug page), the favicon, and messages as
live regions."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.tokens import issue_token
from deblursite.urls import handler500

ROOT = Path(__file__).resolve().parents[2]


def is_site_page(response) -> bool:
    body = response.content.decode()
    return 'class="skip-link"' in body and "css/site.css" in body and "Traceback" not in body


def test_an_unknown_address_gets_the_site_404(client, db):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert is_site_page(response) and "Not found" in response.content.decode()


def test_a_bad_host_gets_the_site_400(client, db):
    response = client.get("/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert is_site_page(response) and "Bad request" in response.content.decode()


def test_an_expired_form_gets_the_site_403(db):
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "a", "password": "b"})

    assert response.status_code == 403
    assert is_site_page(response) and "This form has expired" in response.content.decode()


def test_the_500_page_renders_without_context_or_static_manifest(settings, tmp_path):
    """Static files not collected is one way a server error happens: the page must not fail too."""
    settings.STATIC_ROOT = tmp_path
    manifest = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": manifest}
    request = RequestFactory().get("/photos/")

    response = handler500(request)

    assert response.status_code == 500
    assert is_site_page(response) and "Something went wrong" in response.content.decode()
    assert 'href="/static/css/site.css"' in response.content.decode()


def test_favicon(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 302 and response["Location"] == "/static/favicon.svg"
    assert finders.find("favicon.svg")
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/").content.decode()


def test_messages_are_live_regions_errors_assertive(alice_client, alice):
    device, _ = issue_token(alice, "Pixel 8")

    revoked = alice_client.post(reverse("revoke-device", kwargs={"pk": device.public_id}), follow=True)
    missing = alice_client.post(reverse("revoke-device", kwargs={"pk": uuid4()}), follow=True)

    assert '<p class="message success" role="status">Signed out that device' in revoked.content.decode()
    assert '<p class="message error" role="alert">That device was already signed out' in missing.content.decode()


def make_run_environment() -> dict[str, str]:
    """The variables the Makefile's `run` recipe sets for honcho (the Procfile's web and workers)."""
    recipe = re.search(r"^\t(.*honcho start.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1)
    words = shlex.split(recipe)
    return dict(word.split("=", 1) for word in words[: next(i for i, w in enumerate(words) if "=" not in w)])


def test_make_run_serves_plain_http_without_debug(tmp_path):
    """`make run` shows the site's error pages (no DEBUG) and works at http://127.0.0.1:8000:
    no redirect to HTTPS, no HTTPS-only cookies."""
    env = {k: v for k, v in os.environ.items() if k not in {"SECURE_SSL_REDIRECT", "DEBUG"}}
    env |= {"VAR_DIR": str(tmp_path), **make_run_environment()}
    script = (
        "from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, '127.0.0.1' in s.ALLOWED_HOSTS)"
    )
    command = [sys.executable, "manage.py", "shell", "--no-imports", "-c", script]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert result.stdout.split() == ["False", "False", "False", "False", "0", "True"], result.stderr
