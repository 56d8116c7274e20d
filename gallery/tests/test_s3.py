"""Storage on S3: django-storages and boto3 talk over HTTP to a moto server on loopback."""

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.urls import reverse

from gallery import jobs
from gallery.models import Photo
from inference.registry import register_model

from .conftest import photo_bytes, upload


def keys(client, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


@pytest.fixture
def s3_model(s3_storage, tiny_model_file, db):
    return register_model(tiny_model_file, name="tiny-s3", serve=["best"])


@pytest.fixture
def processed(alice_client, alice, s3_storage, s3_model):
    alice_client.post(
        reverse("gallery:upload"),
        {"images": [upload("street.jpg", photo_bytes(blur=2))], "reference_0": upload("sharp.png", photo_bytes(fmt="PNG"))},
    )
    photo = Photo.objects.get(owner=alice)
    jobs.run(photo.restoration.pk)
    photo.refresh_from_db()
    photo.restoration.refresh_from_db()
    return photo


def test_model_lives_in_the_models_bucket(s3_storage, s3_model):
    client, buckets = s3_storage
    assert keys(client, buckets["models"]) == ["models/tiny-s3.keras"]


def test_upload_and_result_are_private_objects_in_the_media_bucket(processed, s3_storage):
    client, buckets = s3_storage
    pk, result = processed.pk, processed.restoration.pk

    assert processed.restoration.status == "succeeded"
    assert keys(client, buckets["default"]) == sorted(
        [
            f"originals/{pk}.png",
            f"originals/{pk}-given",
            f"originals/{pk}-reference.png",
            f"thumbnails/{pk}.jpg",
            f"previews/{pk}.jpg",
            f"results/{pk}-{result}.png",
            f"results/{pk}-{result}.jpg",
            f"results/{pk}-{result}.webp",
            f"results/{pk}-{result}-preview.jpg",
            f"results/{pk}-{result}-thumbnail.jpg",
        ]
    )
    grants = client.get_object_acl(Bucket=buckets["default"], Key=f"originals/{pk}.png")["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI", "").endswith("AllUsers")]


def test_files_are_served_by_short_lived_presigned_urls(alice_client, processed, s3_storage, s3_endpoint):
    client, buckets = s3_storage

    response = alice_client.get(reverse("gallery:file", args=[processed.pk, "result-png"]))

    assert response.status_code == 302
    url = response["Location"]
    key = processed.restoration.file_names()["result"]
    assert url.startswith(f"{s3_endpoint}/{buckets['default']}/{key}")
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    fetched = requests.get(url, timeout=10)
    stored = client.get_object(Bucket=buckets["default"], Key=key)["Body"].read()
    assert fetched.status_code == 200 and fetched.content == stored


def test_download_link_names_the_file(alice_client, processed):
    response = alice_client.get(reverse("gallery:file", args=[processed.pk, "result-jpeg"]), {"download": 1})

    fetched = requests.get(response["Location"], timeout=10)
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="street-deblurred.jpg"'


def test_other_users_get_no_presigned_url(client, bob, processed):
    client.force_login(bob)
    response = client.get(reverse("gallery:file", args=[processed.pk, "original"]))
    assert response.status_code == 404


def test_delete_removes_the_objects(alice_client, processed, s3_storage):
    client, buckets = s3_storage

    alice_client.post(reverse("gallery:delete", args=[processed.pk]))

    assert keys(client, buckets["default"]) == []
    assert not Photo.objects.exists()


def test_store_down_at_upload_keeps_nothing_and_says_so(alice_client, settings, s3_storage, tmp_path):
    client, buckets = s3_storage
    from conftest import free_port, s3_options

    dead = s3_options(f"http://127.0.0.1:{free_port()}", buckets["default"])
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": dead}}

    response = alice_client.post(reverse("gallery:upload"), {"images": [upload("a.jpg", photo_bytes())]})

    assert response.status_code == 400
    assert "The file store is unavailable right now, so the photo was not saved." in response.content.decode()
    assert not Photo.objects.exists()
    assert keys(client, buckets["default"]) == []
