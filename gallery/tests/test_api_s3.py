"""The photo API on S3 (a moto server on loopback): downloads and links are
presigned S3 URLs fetched over HTTP, and a dead store refuses cleanly."""

import time
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import requests
from django.core.cache import caches

from conftest import free_port, s3_options
from gallery import blends, jobs, media
from gallery.models import Photo
from inference.registry import register_model

from .conftest import photo_bytes, upload
from .test_api import RESULT_FORMATS, api_as, detail_url, image_of, post_photo, result_url
from .test_s3 import keys


def presigned_query(url: str, endpoint: str, bucket: str, key: str, lives: int = 300) -> dict[str, list[str]]:
    """The query of a presigned URL of the object, checked to live `lives` seconds."""
    assert url.startswith(f"{endpoint}/{bucket}/{key}?"), url
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == [str(lives)]
    assert "X-Amz-Signature" in query
    return query


def stored(s3_storage, key: str) -> bytes:
    client, buckets = s3_storage
    return client.get_object(Bucket=buckets["default"], Key=key)["Body"].read()


def kill_the_store(settings, bucket: str) -> None:
    """The default storage points at a port where nothing listens."""
    dead = s3_options(f"http://127.0.0.1:{free_port()}", bucket)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": dead}}


@pytest.fixture
def alice_api(alice):
    return api_as(alice)


@pytest.fixture
def s3_finished(alice_api, s3_storage, tiny_model_file) -> Photo:
    """Alice's photo uploaded through the API onto S3, deblurred by a model stored on S3."""
    register_model(tiny_model_file, name="tiny-s3", serve=["best"])
    response = post_photo(
        alice_api, upload("street.jpg", photo_bytes(blur=2)), reference=upload("sharp.png", photo_bytes(fmt="PNG"))
    )
    assert response.status_code == 201, response.content
    photo = Photo.objects.get(pk=response.json()["id"])
    jobs.run(photo.restoration.pk)
    photo = Photo.objects.select_related("restoration").get(pk=photo.pk)
    assert photo.restoration.status == "succeeded", photo.restoration.error
    return photo


@pytest.mark.parametrize("chosen", RESULT_FORMATS)
def test_result_redirects_to_a_presigned_download(alice_api, s3_finished, s3_storage, s3_endpoint, chosen):
    _, buckets = s3_storage
    content_type, image_format, extension = RESULT_FORMATS[chosen]
    key = f"results/{s3_finished.pk}-{s3_finished.restoration.pk}.{extension}"

    response = alice_api.get(result_url(s3_finished), {"format": chosen}, HTTP_ACCEPT="image/png")

    assert response.status_code == 302
    query = presigned_query(response["Location"], s3_endpoint, buckets["default"], key)
    disposition = f'attachment; filename="street-deblurred.{extension}"'
    assert query["response-content-disposition"] == [disposition]
    fetched = requests.get(response["Location"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Disposition"] == disposition
    assert fetched.headers["Content-Type"] == content_type
    assert fetched.content == stored(s3_storage, key)
    assert image_of(fetched.content).format == image_format


def test_below_full_strength_the_result_and_its_link_are_stored_blends_presigned(
    alice_api, s3_finished, s3_storage, s3_endpoint, render_requests
):
    pk, rk = s3_finished.pk, f"{s3_finished.pk}-{s3_finished.restoration.pk}"
    _, buckets = s3_storage
    assert alice_api.patch(detail_url(s3_finished), {"strength": 0.5}, format="json").status_code == 200
    assert alice_api.get(result_url(s3_finished), {"format": "png"}).status_code == 202  # being rendered

    blends.render(s3_finished.restoration.pk)  # the downloads worker
    response = alice_api.get(result_url(s3_finished), {"format": "png"})

    # Served as every stored file is on S3: a presigned URL of the blend the worker stored.
    assert response.status_code == 302
    presigned_query(response["Location"], s3_endpoint, buckets["default"], f"results/{rk}-blend.png")
    before = np.asarray(image_of(stored(s3_storage, f"originals/{pk}.png"))).astype(float)
    full = np.asarray(image_of(stored(s3_storage, f"results/{rk}.png")))
    blended = np.asarray(image_of(requests.get(response["Location"], timeout=10).content))
    assert np.abs(blended - np.rint(before + 0.5 * (full - before))).max() <= 1
    link = alice_api.get(detail_url(s3_finished)).json()["result_url"]
    presigned_query(link, s3_endpoint, buckets["default"], f"results/{rk}-blend.png", lives=330)


def test_result_on_s3_is_still_owner_only(s3_finished, bob):
    assert api_as(bob).get(result_url(s3_finished)).status_code == 404
    assert api_as().get(result_url(s3_finished)).status_code == 401


def test_detail_links_are_presigned_s3_urls_handed_out_again_for_a_tenth_of_their_life(
    alice_api, s3_finished, s3_storage, s3_endpoint
):
    _, buckets = s3_storage
    pk, rk = s3_finished.pk, f"{s3_finished.pk}-{s3_finished.restoration.pk}"

    data = alice_api.get(detail_url(s3_finished)).json()
    again = alice_api.get(detail_url(s3_finished)).json()

    for name, key in [
        ("result_url", f"results/{rk}.png"),
        ("result_preview_url", f"results/{rk}-preview.jpg"),
        ("normalised_url", f"originals/{pk}.png"),
        ("reference_url", f"originals/{pk}-reference.png"),
        ("thumbnail_url", f"thumbnails/{pk}.jpg"),
        ("original_url", f"originals/{pk}-given"),
    ]:
        # Signed for 330 s and handed out for 30: each link lives at least urls_expire_in.
        query = presigned_query(data[name], s3_endpoint, buckets["default"], key, lives=330)
        # The original as uploaded downloads under its own name; the pictures show inline.
        downloaded = query.get("response-content-disposition")
        assert downloaded == (['attachment; filename="street.jpg"'] if name == "original_url" else None), name
        assert again[name] == data[name], name
    assert data["urls_expire_in"] == 300
    fetched = requests.get(data["result_url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == stored(s3_storage, f"results/{rk}.png")
    assert image_of(fetched.content).size == (96, 64)


def test_a_link_is_signed_again_once_a_tenth_of_its_life_has_passed(alice_api, bob, s3_finished, monkeypatch):
    signed = []
    sign = media._presigned_url
    monkeypatch.setattr(media, "_presigned_url", lambda *args, **kwargs: signed.append(args[1]) or sign(*args, **kwargs))
    caches["local"].clear()  # the links the upload's answer made

    alice_api.get(detail_url(s3_finished))
    first = list(signed)
    alice_api.get(detail_url(s3_finished))
    assert signed == first and len(first) >= 5
    assert api_as(bob).get(detail_url(s3_finished)).status_code == 404 and signed == first
    later = time.time() + 31
    monkeypatch.setattr(time, "time", lambda: later)
    alice_api.get(detail_url(s3_finished))
    assert signed == first + first


def test_delete_removes_every_object(alice_api, s3_finished, s3_storage):
    client, buckets = s3_storage
    assert len(keys(client, buckets["default"])) == 10  # with the original as uploaded

    response = alice_api.delete(detail_url(s3_finished))

    assert response.status_code == 204
    assert keys(client, buckets["default"]) == []
    assert not Photo.objects.exists()


def test_delete_with_the_store_down_is_202_and_the_photo_is_gone_until_the_sweep_removes_its_files(
    alice_api, s3_finished, s3_storage, settings
):
    client, buckets = s3_storage
    objects = keys(client, buckets["default"])
    kill_the_store(settings, buckets["default"])

    response = alice_api.delete(detail_url(s3_finished))

    assert response.status_code == 202
    assert response.json() == {"detail": "The photo is being deleted; its remaining files will be removed shortly."}
    assert alice_api.get(detail_url(s3_finished)).status_code == 404
    assert Photo.all_objects.get(pk=s3_finished.pk).deleting_since is not None
    assert keys(client, buckets["default"]) == objects


def test_upload_with_the_store_down_is_503_and_keeps_nothing(alice_api, s3_storage, settings):
    client, buckets = s3_storage
    kill_the_store(settings, buckets["default"])

    response = post_photo(alice_api)

    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response.json() == {
        "detail": "The file store is unavailable right now, so the photo was not saved. Please try again."
    }
    assert not Photo.objects.exists()
    assert keys(client, buckets["default"]) == []
