"""A store that dies part-way leaves nothing behind: uploads, jobs and deletes against the
S3 server through a proxy that drops every request once the store has "died"
(deblursite.tests.faults), then the storage sweep once it is back."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from conftest import s3_options
from deblursite.tests.faults import FaultProxy
from gallery import cleanup, jobs
from gallery.models import Photo

from .conftest import succeeded_photo
from .test_api import LIST, api_as, detail_url, post_photo
from .test_s3 import keys, s3_model  # noqa: F401 (a fixture)

DELETE_PENDING = "The photo is being deleted; its remaining files will be removed shortly."


@pytest.fixture
def store(settings, s3_storage, s3_endpoint):
    """The media storage speaks to the S3 server through a FaultProxy; the other storages
    and s3_storage's client speak to it directly."""
    _, buckets = s3_storage
    with FaultProxy(s3_endpoint) as proxy:
        options = s3_options(proxy.url, buckets["default"])
        settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}}
        yield proxy


def media_keys(s3_storage) -> list[str]:
    client, buckets = s3_storage
    return keys(client, buckets["default"])


@pytest.mark.parametrize("writes", [1, 2])
def test_upload_whose_store_dies_part_way_is_503_and_the_sweep_removes_what_it_wrote(alice, s3_storage, store, writes):
    store.die_after("PUT", writes)

    response = post_photo(api_as(alice))

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The file store is unavailable right now, so the photo was not saved. Please try again."
    }
    assert not Photo.all_objects.exists()
    # Its own cleanup could not reach the dead store either.
    written = media_keys(s3_storage)
    assert len(written) == writes and store.dropped
    store.revive()
    # Within the grace period the files may be an upload whose row is not written yet.
    assert cleanup.sweep().removed == []
    assert sorted(cleanup.sweep(timedelta(0)).removed) == written
    assert media_keys(s3_storage) == []


def test_job_whose_store_dies_after_its_first_result_leaves_nothing_once_the_photo_is_deleted(alice, s3_storage, store, s3_model):
    api = api_as(alice)
    photo = Photo.objects.get(pk=post_photo(api).json()["id"])
    store.die_after("PUT", 1)

    jobs.run(photo.restoration.pk)

    photo.restoration.refresh_from_db()
    assert photo.restoration.status == "failed" and not photo.restoration.result
    assert f"results/{photo.pk}-{photo.restoration.pk}.png" in media_keys(s3_storage)
    store.revive()
    assert api.delete(detail_url(photo)).status_code == 204
    assert media_keys(s3_storage) == []


def test_delete_whose_store_dies_part_way_hides_the_photo_says_so_and_the_sweep_finishes_it(
    alice, alice_client, s3_storage, store
):
    by_api, by_page = succeeded_photo(alice, "by-api.jpg", seed=1), succeeded_photo(alice, "by-page.jpg", seed=2)
    api = api_as(alice)
    store.die_after("DELETE", 2)

    response = api.delete(detail_url(by_api))
    page = alice_client.post(reverse("gallery:delete", args=[by_page.pk]), follow=True)

    assert response.status_code == 202
    assert response.json() == {"detail": DELETE_PENDING}
    assert [str(m) for m in page.context["messages"]] == [f"by-page.jpg: {DELETE_PENDING}"]
    # Gone for their owner at once, on the pages and in the API.
    assert page.context["page"].paginator.count == 0 and "by-api.jpg" not in page.content.decode()
    assert api.get(detail_url(by_page)).status_code == 404
    assert api.get(LIST).json()["results"] == []
    assert alice_client.get(reverse("gallery:detail", args=[by_api.pk])).status_code == 404
    left = media_keys(s3_storage)
    assert f"originals/{by_api.pk}.png" not in left and f"thumbnails/{by_api.pk}.jpg" in left
    assert f"originals/{by_page.pk}.png" in left
    assert Photo.all_objects.filter(deleting_since__isnull=False).count() == 2

    store.revive()
    call_command("sweep_storage")

    assert media_keys(s3_storage) == []
    assert not Photo.all_objects.exists()


def test_sweep_leaves_other_files_and_owned_ones_alone(alice, s3_storage, store):
    client, buckets = s3_storage
    kept = succeeded_photo(alice)
    # A dataset's thumbnail, in the same bucket when DATASETS_BUCKET_NAME is not set.
    client.put_object(Bucket=buckets["default"], Key="thumbnails/street-set/abc.jpg", Body=b"x")
    client.put_object(Bucket=buckets["default"], Key="originals/notes.txt", Body=b"x")
    before = media_keys(s3_storage)

    swept = cleanup.sweep(timedelta(0))

    assert swept.finished_deletes == 0 and swept.removed == []
    assert media_keys(s3_storage) == before
    assert Photo.objects.filter(pk=kept.pk).exists()
