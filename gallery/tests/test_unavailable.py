"""With the file store or the database down, downloads, blends and API reads answer 503 with a
sentence and Retry-After (the site's page on the web, `{"detail": ...}` in the API), or never
needed the store (presigned links, blends being rendered). S3 runs on the moto server; "down"
is a port where nothing listens; the database is down when its connection is closed and the
port it reconnects to is dead."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from django.db import connection
from django.urls import reverse

from accounts.tokens import issue_token
from conftest import free_port
from deblursite import unavailable
from deblursite.tests.test_site_pages import is_site_page
from gallery import blends
from gallery.downloads import save_strength
from gallery.models import Restoration

from .conftest import succeeded_photo
from .test_api import LIST, api_as, detail_url, local_path, result_url
from .test_api_s3 import kill_the_store

STORE_DOWN = "The file store is unavailable right now. Please try again in a minute."
DATABASE_DOWN = "The database is unavailable right now. Please try again in a minute."


def download(photo, kind: str = "result-png") -> str:
    return reverse("gallery:file", args=[photo.pk, kind]) + "?download=1"


def assert_page_503(response, sentence: str) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert is_site_page(response) and "Temporarily unavailable" in page and sentence in page


def assert_api_503(response, sentence: str) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"detail": sentence}


@pytest.fixture
def on_s3(alice, s3_storage):
    """Alice's finished photo on S3, its downloads at 40 %: a blend the downloads worker renders."""
    photo = succeeded_photo(alice, "street.jpg")
    save_strength(photo.restoration, 0.4)
    return photo


def test_with_s3_down_a_blend_waits_for_its_worker_whose_render_fails_and_lets_go_for_a_retry(
    alice, alice_client, on_s3, s3_storage, settings
):
    api = api_as(alice)
    link = local_path(api.get(detail_url(on_s3)).json()["result_url"])
    kill_the_store(settings, s3_storage[1]["default"])

    # No web request reads the store for a blend: they say it is being prepared.
    assert alice_client.get(download(on_s3)).status_code == 202
    assert api.get(result_url(on_s3), {"format": "webp"}).status_code == 202
    assert api_as().get(link).status_code == 202
    # The worker's render fails (Celery retries the task) and lets go of the photo.
    with pytest.raises(EndpointConnectionError):
        blends.render(on_s3.restoration.pk)
    job = Restoration.objects.get(pk=on_s3.restoration.pk)
    assert job.blend_claimed_at is None and job.blend_strength is None


def test_with_s3_down_what_needs_no_store_still_answers(alice, alice_client, on_s3, s3_storage, settings):
    """Links and full-strength downloads are presigned here, with no request to S3."""
    kill_the_store(settings, s3_storage[1]["default"])
    api = api_as(alice)

    listed, read = api.get(LIST), api.get(detail_url(on_s3))
    save_strength(on_s3.restoration, 1.0)
    full = alice_client.get(download(on_s3))

    assert listed.status_code == 200 and listed.json()["results"][0]["id"] == str(on_s3.pk)
    assert read.status_code == 200 and read.json()["original_url"].startswith("http://127.0.0.1:")
    assert full.status_code == 302 and "X-Amz-Signature" in full["Location"]


def test_a_failing_filesystem_store_is_503_and_a_missing_file_still_404(alice, alice_client, media_storage, settings, tmp_path):
    photo = succeeded_photo(alice, "street.jpg")
    photo.restoration.result.storage.delete(photo.restoration.result.name)
    missing = alice_client.get(download(photo))
    # The store's folder is not a folder any more: a mount gone wrong.
    (tmp_path / "gone").write_bytes(b"")
    broken = {"location": str(tmp_path / "gone" / "media"), "base_url": None, "allow_overwrite": True}
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": broken}}

    full = alice_client.get(download(photo, "result-jpeg"))
    save_strength(photo.restoration, 0.5)
    # Rendered by the worker before the store failed.
    rendered = {"blend_png": "results/x-blend.png", "blend_webp": "results/x-blend.webp"}
    Restoration.objects.filter(pk=photo.restoration.pk).update(blend_strength=0.5, **rendered)
    blended = alice_client.get(download(photo, "result-webp"))
    api_blend = api_as(alice).get(result_url(photo), {"format": "png"})

    assert missing.status_code == 404
    assert_page_503(full, STORE_DOWN)
    assert_page_503(blended, STORE_DOWN)
    assert_api_503(api_blend, STORE_DOWN)


@pytest.fixture
def database_down(transactional_db):
    """Call it to take the database away: the open connection closed, and the address it
    reconnects to a port where nothing listens. Back afterwards, for the flush."""
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}

    def down() -> None:
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))

    yield down
    connection.close()
    connection.settings_dict.update(saved)


def test_with_the_database_down_downloads_blends_and_api_reads_are_503(alice, alice_client, media_storage, database_down):
    full, blended = succeeded_photo(alice, "full.jpg", seed=1), succeeded_photo(alice, "half.jpg", seed=2)
    save_strength(blended.restoration, 0.5)
    _, token = issue_token(alice, "Pixel 8")
    phone = api_as()
    phone.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    database_down()

    assert_page_503(alice_client.get(download(full)), DATABASE_DOWN)
    assert_page_503(alice_client.get(download(blended)), DATABASE_DOWN)
    assert_api_503(phone.get(LIST), DATABASE_DOWN)
    assert_api_503(phone.get(detail_url(full)), DATABASE_DOWN)
    assert_api_503(phone.get(result_url(blended)), DATABASE_DOWN)
    # The pages' scripts ask for JSON, and show its `error`.
    polled = alice_client.get(reverse("gallery:status", args=[full.pk]), HTTP_ACCEPT="application/json")
    assert polled.status_code == 503 and polled.json() == {"field": None, "error": DATABASE_DOWN}


@pytest.mark.parametrize(
    "exception, sentence",
    [
        (ClientError({"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "GetObject"), STORE_DOWN),
        (ClientError({"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "GetObject"), STORE_DOWN),
        # The site's own mistakes, and files that do not decode, stay server errors.
        (ClientError({"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetObject"), None),
        (OSError("image file is truncated"), None),
        (ValueError("a bug"), None),
    ],
)
def test_only_a_service_down_is_unavailable(exception, sentence):
    assert unavailable.reason(exception) == sentence
