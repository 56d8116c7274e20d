"""Clear answers instead of 500s and Django's bare pages: a form Django refuses to read says
why, on the site's own page or as JSON; a cache (Redis) out of reach does not break sign-in
or uploads."""

import io
import logging
import socket

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from conftest import PASSWORD
from deblursite.bad_requests import FILE_NAME_TOO_LONG
from gallery.models import Photo
from gallery.tests.conftest import photo_bytes, upload

pytestmark = pytest.mark.django_db

LONG_NAME = "a" * 1000 + ".jpg"


def named(name: str, content: bytes) -> io.BytesIO:
    """A file for the test client under any name (SimpleUploadedFile cuts names to 255)."""
    file = io.BytesIO(content)
    file.name = name
    return file


def too_many_files() -> list:
    return [upload(f"p{index}.jpg", photo_bytes()) for index in range(41)]


def test_the_upload_page_says_why_a_form_was_refused(alice_client, media_storage):
    many = alice_client.post(reverse("gallery:upload"), {"images": too_many_files()})
    long_name = alice_client.post(reverse("gallery:upload"), {"images": [named(LONG_NAME, photo_bytes())]})
    scripted = alice_client.post(
        reverse("gallery:upload"), {"images": [named(LONG_NAME, photo_bytes())]}, headers={"Accept": "application/json"}
    )

    assert many.status_code == long_name.status_code == 400
    for page in (many, long_name):
        assert 'class="card narrow error-page"' in page.content.decode() and "Bad request" in page.content.decode()
    assert "At most 40 files in one upload: 20 photos, each with its sharp reference." in many.content.decode()
    assert FILE_NAME_TOO_LONG in long_name.content.decode()
    assert scripted.json() == {"field": "image", "error": FILE_NAME_TOO_LONG}
    assert not Photo.objects.exists()


def test_the_api_says_why_a_form_was_refused_in_json(alice, media_storage):
    client = APIClient()
    client.force_authenticate(alice)

    many = client.post("/api/v1/photos/", {"image": too_many_files()}, format="multipart")
    long_name = client.post("/api/v1/photos/", {"image": named(LONG_NAME, photo_bytes())}, format="multipart")

    assert (many.status_code, many["Content-Type"]) == (400, "application/json")
    assert many.json() == {"detail": "At most 40 files in one upload: 20 photos, each with its sharp reference."}
    assert (long_name.status_code, long_name.json()) == (400, {"detail": FILE_NAME_TOO_LONG})


@pytest.fixture
def cache_down(settings):
    """The cache on a port where nothing listens, as when Redis is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis_cache = "django.core.cache.backends.redis.RedisCache"
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": redis_cache, "LOCATION": f"redis://127.0.0.1:{port}/0"}}


def test_with_the_cache_down_sign_in_and_uploads_still_work_and_it_is_logged(
    alice, media_storage, active_model, cache_down, caplog
):
    client = APIClient()
    with caplog.at_level(logging.ERROR):
        sign_in = {"username": "alice", "password": PASSWORD, "device_name": "phone"}
        signed_in = client.post("/api/v1/auth/token/", sign_in, format="json")
        client.credentials(HTTP_AUTHORIZATION=f"Token {signed_in.json()['token']}")
        uploaded = client.post("/api/v1/photos/", {"image": upload("a.jpg", photo_bytes())}, format="multipart")

    assert signed_in.status_code == 201
    assert uploaded.status_code == 201 and Photo.objects.filter(owner=alice).count() == 1
    assert "letting the request through" in caplog.text
