"""Every result kept (issue 22): running a photo again adds a result, its owner compares any
two, picks the current one, which downloads, ZIPs and the API follow, and deletes the others,
files and all; every kept result counts in the quota."""

import zipfile
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from gallery import archive, cleanup, results
from gallery.models import Archive, Photo, Restoration, bytes_used, result_file_names
from inference.images import encode_png

from .conftest import succeed, succeeded_photo

pytestmark = pytest.mark.django_db


def with_second_result(user, name: str = "street.jpg", **figures) -> tuple[Photo, Restoration, Restoration]:
    """A photo with two succeeded results of different pictures, the second current."""
    photo = succeeded_photo(user, name, psnr_before=20.0, psnr_after=24.0, ssim_before=0.6, ssim_after=0.7)
    first = photo.restoration
    results.add_run(photo, "shake")
    succeed(photo, seed=7, psnr_before=20.0, psnr_after=27.5, ssim_before=0.6, ssim_after=0.8, **figures)
    photo.refresh_from_db()
    return photo, first, photo.restoration


def stored_bytes(name: str) -> bytes:
    with default_storage.open(name) as handle:
        return handle.read()


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_running_again_adds_a_result_and_keeps_the_first_with_its_own_files(alice, media_storage):
    photo, first, second = with_second_result(alice)

    assert [job.pk for job in results.listed(photo)] == [first.pk, second.pk]
    assert photo.restoration == second and (second.choice, first.choice) == ("shake", "best")
    # Named from the photo and the result: neither overwrites the other.
    assert first.result.name == f"results/{photo.pk}-{first.pk}.png" != second.result.name
    assert stored_bytes(first.result.name) != stored_bytes(second.result.name)
    assert all(default_storage.exists(file.name) for job in (first, second) for file in job.stored_files())


def test_the_photo_page_lists_every_result_and_the_viewer_compares_any_two(alice_client, alice, bob, media_storage):
    photo, first, second = with_second_result(alice)

    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()

    assert 'id="result-1"' in page and 'id="result-2" class="current" aria-current="true"' in page
    assert "24.00 dB / 0.7000" in page and "27.50 dB / 0.8000" in page
    assert 'aria-label="Make result 1 current"' in page and 'aria-label="Make result 2 current"' not in page
    # Both sides of the split offer the photo's results; the right starts on the current one.
    assert page.count(f'value="{first.pk}" data-name="Result 1"') == 2
    assert f'value="{second.pk}" data-name="Result 2" data-preview=' in page and 'data-current="1" selected' in page
    for job in (first, second):
        for kind, field in (("result-preview", "result_preview"), ("output", "result")):
            url = reverse("gallery:result-file", args=[photo.pk, job.pk, kind])
            assert url in page
            response = alice_client.get(url)
            assert b"".join(response.streaming_content) == stored_bytes(getattr(job, field).name)
    # Another user's photo, another photo's result, and other files are not served.
    other = succeeded_photo(alice, "other.jpg")
    assert alice_client.get(reverse("gallery:result-file", args=[photo.pk, other.restoration.pk, "output"])).status_code == 404
    assert alice_client.get(reverse("gallery:result-file", args=[photo.pk, first.pk, "original"])).status_code == 404
    alice_client.force_login(bob)
    assert alice_client.get(reverse("gallery:result-file", args=[photo.pk, first.pk, "output"])).status_code == 404


def test_a_photo_with_one_result_has_no_list_and_no_compare_menus(alice_client, alice, media_storage):
    photo = succeeded_photo(alice)
    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()
    assert 'id="results"' not in page and 'id="compare-left"' not in page and 'id="result-image"' in page


def test_downloads_the_zip_and_the_api_follow_the_current_result(alice_client, alice, media_storage):
    photo, first, second = with_second_result(alice)
    png = reverse("gallery:file", args=[photo.pk, "result-png"])
    assert b"".join(alice_client.get(png).streaming_content) == stored_bytes(second.result.name)

    response = alice_client.post(reverse("gallery:result-current", args=[photo.pk, first.pk]), follow=True)

    assert "Current result changed" in response.content.decode()
    assert Photo.objects.get(pk=photo.pk).restoration == first
    assert b"".join(alice_client.get(png).streaming_content) == stored_bytes(first.result.name)
    made = archive.request(alice, [Photo.objects.get(pk=photo.pk)])
    archive.build(str(made.pk))
    with default_storage.open(Archive.objects.get(pk=made.pk).file.name) as stored, zipfile.ZipFile(stored) as zipped:
        assert zipped.read("street-deblurred.png") == stored_bytes(first.result.name)
    data = api_as(alice).get(reverse("api:photo-detail", kwargs={"pk": photo.pk})).json()
    assert data["current_result"] == first.pk and data["model"] == "best" and data["metrics"]["psnr_after"] == 24.0
    assert [(row["id"], row["current"], row["model"]) for row in data["results"]] == [
        (first.pk, True, "best"), (second.pk, False, "shake"),
    ]  # fmt: skip


def test_only_a_succeeded_result_becomes_current_and_not_while_a_run_is_in_progress(alice, media_storage):
    photo, first, second = with_second_result(alice)
    Restoration.objects.filter(pk=first.pk).update(status="failed")
    with pytest.raises(results.Refused, match="Only a result that succeeded"):
        results.make_current(photo, first.pk)

    Restoration.objects.filter(pk=first.pk).update(status="succeeded")
    running = results.add_run(photo, "auto")
    with pytest.raises(results.Refused, match="A run is in progress"):
        results.make_current(photo, first.pk)
    with pytest.raises(results.NoSuchResult):
        results.make_current(photo, succeeded_photo(alice, "other.jpg").restoration.pk)
    assert Photo.objects.get(pk=photo.pk).restoration == running


def test_deleting_a_result_removes_its_files_and_the_current_hands_over(alice_client, alice, media_storage, django_capture_on_commit_callbacks):
    photo, first, second = with_second_result(alice)
    names = [file.name for file in second.stored_files()]

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("gallery:result-delete", args=[photo.pk, second.pk]), follow=True)

    assert "Result deleted, with its files." in response.content.decode()
    assert not Restoration.objects.filter(pk=second.pk).exists()
    assert not any(default_storage.exists(name) for name in names)
    assert Photo.objects.get(pk=photo.pk).restoration == first and default_storage.exists(first.result.name)
    # The last result stays: deleting the photo removes it all.
    refused = alice_client.post(reverse("gallery:result-delete", args=[photo.pk, first.pk]), follow=True)
    assert "A photo keeps one result at least" in refused.content.decode()
    assert Restoration.objects.filter(pk=first.pk).exists()


def test_a_result_being_made_is_not_deleted_and_another_users_results_are_not_found(alice_client, alice, bob, media_storage):
    photo, first, second = with_second_result(alice)
    running = results.add_run(photo, "auto")
    with pytest.raises(results.Refused, match="cancel it instead"):
        results.delete(photo, running.pk)
    # Another photo's result is none of this photo's.
    other = succeeded_photo(alice, "other.jpg").restoration
    assert alice_client.post(reverse("gallery:result-delete", args=[photo.pk, other.pk])).status_code == 404

    alice_client.force_login(bob)
    for route in ("gallery:result-delete", "gallery:result-current"):
        assert alice_client.post(reverse(route, args=[photo.pk, first.pk])).status_code == 404
    assert Restoration.objects.filter(photo=photo).count() == 3 and Restoration.objects.filter(pk=other.pk).exists()


def test_cancelling_a_new_run_gives_back_the_result_before_it(alice_client, alice, media_storage):
    photo, first, second = with_second_result(alice)
    running = results.add_run(photo, "auto")

    response = alice_client.post(reverse("gallery:cancel", args=[photo.pk]), follow=True)

    assert "its earlier result is current again" in response.content.decode()
    assert Photo.objects.get(pk=photo.pk).restoration == second
    assert not Restoration.objects.filter(pk=running.pk).exists()
    # A photo's first run cancelled stays, as it was: there is nothing to go back to.
    lone = succeeded_photo(alice, "lone.jpg")
    Restoration.objects.filter(pk=lone.restoration.pk).update(status="queued")
    assert results.cancel(lone) and Restoration.objects.get(pk=lone.restoration.pk).status == "cancelled"


def test_every_kept_result_counts_in_the_quota_and_a_full_quota_refuses_another_run(alice, media_storage, settings):
    photo, first, second = with_second_result(alice)
    assert first.bytes_stored > 0 and second.bytes_stored > 0
    assert bytes_used(alice) == photo.bytes_stored + first.bytes_stored + second.bytes_stored

    settings.USER_QUOTA_BYTES = bytes_used(alice)
    with pytest.raises(results.Refused, match="quota .* is full"):
        results.add_run(photo, "auto")
    results.delete(photo, second.pk)
    assert bytes_used(alice) == photo.bytes_stored + first.bytes_stored
    assert results.add_run(photo, "auto").status == "queued"


def test_the_api_lists_chooses_and_deletes_results(alice, bob, media_storage, django_capture_on_commit_callbacks):
    photo, first, second = with_second_result(alice)
    api = api_as(alice)
    current = reverse("api:photo-current", kwargs={"pk": photo.pk, "result_id": first.pk})
    deleting = reverse("api:photo-delete-result", kwargs={"pk": photo.pk, "result_id": second.pk})

    listed = api.get(reverse("api:photo-list")).json()["results"][0]["results"]
    assert [row["id"] for row in listed] == [first.pk, second.pk]
    row = listed[1]
    assert (row["status"], row["model"], row["model_name"], row["metrics"]["psnr_after"]) == ("succeeded", "shake", "tiny-test", 27.5)
    assert row["full_strength_url"] and row["preview_url"] and row["bytes_stored"] == second.bytes_stored
    assert api_as(bob).post(current).status_code == 404

    chosen = api.post(current)
    assert chosen.status_code == 200 and chosen.json()["current_result"] == first.pk
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(deleting).status_code == 204
    assert api.delete(deleting).status_code == 404
    last = api.delete(reverse("api:photo-delete-result", kwargs={"pk": photo.pk, "result_id": first.pk}))
    assert last.status_code == 409 and "one result at least" in last.json()["detail"]
    assert not default_storage.exists(second.result.name)


def test_the_sweep_removes_the_files_of_a_result_whose_row_is_gone_and_keeps_the_rest(alice, media_storage):
    photo, first, second = with_second_result(alice)
    # A result deleted while the store was failing: its row went, one of its files stayed.
    stranded = second.result.name
    Photo.objects.filter(pk=photo.pk).update(restoration=first)
    Restoration.objects.filter(pk=second.pk).delete()
    # A photo's result from when it kept one only is still its own.
    legacy = result_file_names(photo.pk, None)["result"]
    default_storage.save(legacy, ContentFile(encode_png(Image.new("RGB", (4, 4)))))

    removed = cleanup.remove_unreferenced(grace=timedelta(seconds=-1))

    assert stranded in removed and not default_storage.exists(stranded)
    assert default_storage.exists(legacy) and all(default_storage.exists(file.name) for file in first.stored_files())
    # Deleting the photo takes every result's files, the old name's too.
    assert cleanup.delete_photos([Photo.objects.get(pk=photo.pk)])
    assert not default_storage.exists(legacy) and not list((media_storage / "default" / "results").iterdir())
