"""Cancelling jobs (the worker's per-tile check, the page and the API) and the gallery:
filters, sort orders, the ZIP of several photos and deleting several at once."""

import io
import zipfile
from datetime import date, timedelta

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from gallery import archive, jobs, views
from gallery.media import read_stored_image
from gallery.models import Archive, Photo, Restoration
from gallery.uploads import accept_photo

from .conftest import photo_bytes, succeeded_photo, upload

pytestmark = pytest.mark.django_db


def queued_photo(user, name="photo.jpg", choice="best", size=(64, 48)) -> Photo:
    return accept_photo(user, upload(name, photo_bytes(size=size, blur=1.5)), original_name=name, choice=choice)


def status_of(photo: Photo) -> str:
    return Restoration.objects.get(photo=photo).status


def result_files(media_storage) -> list[str]:
    results = media_storage / "default" / "results"
    return sorted(p.name for p in results.iterdir()) if results.exists() else []


# -- cancelling ------------------------------------------------------------------


def test_a_cancelled_queued_job_is_dropped_when_its_message_arrives(alice, active_model, media_storage):
    photo = queued_photo(alice)

    assert jobs.cancel(photo.restoration)
    jobs.run(photo.restoration.pk)

    job = Restoration.objects.get(photo=photo)
    assert job.status == "cancelled" and job.is_done and job.finished_at is not None and job.attempts == 0
    assert result_files(media_storage) == []
    assert default_storage.exists(photo.original.name)


def test_a_running_job_stops_at_the_tile_after_the_cancel_and_keeps_nothing(alice, active_model, media_storage, settings, monkeypatch):
    settings.INFERENCE_TILE, settings.INFERENCE_OVERLAP = 32, 8
    # Only the first tile writes progress: the later ones notice the cancel by the per-tile read.
    monkeypatch.setattr(jobs, "PROGRESS_WRITE_SECONDS", 3600.0)
    photo = queued_photo(alice, size=(160, 120))
    tiles = []
    per_tile = jobs._ProgressWriter.__call__

    def cancel_after_the_second_tile(self, fraction):
        tiles.append(fraction)
        per_tile(self, fraction)
        if len(tiles) == 2:
            jobs.cancel(self.job)

    monkeypatch.setattr(jobs._ProgressWriter, "__call__", cancel_after_the_second_tile)
    jobs.run(photo.restoration.pk)

    assert len(tiles) == 3 and tiles[-1] < 1.0
    assert status_of(photo) == "cancelled"
    assert result_files(media_storage) == []
    job = Restoration.objects.get(photo=photo)
    assert not job.result and job.psnr_after is None and job.model_name == ""
    assert Photo.objects.filter(pk=photo.pk).exists() and default_storage.exists(photo.original.name)


def test_a_job_that_finishes_after_its_cancel_stays_cancelled_and_leaves_no_files(alice, active_model, media_storage, monkeypatch):
    from inference import engine

    photo = queued_photo(alice)
    original_deblur = engine.deblur

    def deblur_then_cancel(*args, **kwargs):
        output = original_deblur(*args, **kwargs)  # every tile checked: still running
        jobs.cancel(photo.restoration)
        return output

    monkeypatch.setattr(engine, "deblur", deblur_then_cancel)
    jobs.run(photo.restoration.pk)

    job = Restoration.objects.get(photo=photo)
    assert job.status == "cancelled" and not job.result and not job.result_thumbnail and job.progress == 0.0
    assert result_files(media_storage) == []


def test_a_worker_whose_job_was_claimed_again_stops(alice, active_model, media_storage):
    photo = queued_photo(alice)
    first = jobs.claim(photo.restoration.pk)
    writer = jobs._ProgressWriter(first)
    writer(0.1)
    Restoration.objects.filter(pk=first.pk).update(started_at=timezone.now() + timedelta(seconds=1))

    with pytest.raises(jobs.JobCancelled):
        writer(0.2)


def test_a_finished_job_cannot_be_cancelled(alice, media_storage):
    photo = succeeded_photo(alice)

    assert not jobs.cancel(photo.restoration)
    assert status_of(photo) == "succeeded"


def test_cancel_from_the_photo_page_and_from_the_gallery(alice_client, alice, media_storage):
    on_page, on_card = queued_photo(alice, "page.jpg"), queued_photo(alice, "card.jpg")
    Restoration.objects.filter(photo=on_page).update(status="running", started_at=timezone.now())
    detail = reverse("gallery:detail", args=[on_page.pk])
    assert 'id="cancel-job"' in alice_client.get(detail).content.decode()

    response = alice_client.post(reverse("gallery:cancel", args=[on_page.pk]))
    assert response.status_code == 302 and response.url == detail
    page = alice_client.get(detail).content.decode()
    assert status_of(on_page) == "cancelled"
    assert 'id="job-cancelled"' in page and 'id="result-image"' not in page and 'id="cancel-job"' not in page

    gallery = reverse("gallery:history") + "?status=queued"
    response = alice_client.post(reverse("gallery:cancel", args=[on_card.pk]), {"next": gallery}, follow=True)
    assert response.redirect_chain == [(gallery, 302)]
    assert status_of(on_card) == "cancelled"
    assert "Cancelled card.jpg; the original stays." in response.content.decode()


def test_cancel_of_a_finished_job_is_refused_and_another_users_is_404(alice_client, alice, bob, media_storage):
    done = succeeded_photo(alice)
    response = alice_client.post(reverse("gallery:cancel", args=[done.pk]), follow=True)
    assert "had already finished" in response.content.decode()
    assert status_of(done) == "succeeded"

    theirs = queued_photo(bob)
    assert alice_client.post(reverse("gallery:cancel", args=[theirs.pk])).status_code == 404
    assert alice_client.post(reverse("gallery:cancel", args=[theirs.pk]), {"next": "https://evil.example/"}).status_code == 404
    assert status_of(theirs) == "queued"


def test_cancel_sends_back_to_this_site_only(alice_client, alice, media_storage):
    photo = queued_photo(alice)
    response = alice_client.post(reverse("gallery:cancel", args=[photo.pk]), {"next": "https://evil.example/photos/"})
    assert response.url == reverse("gallery:detail", args=[photo.pk])


def test_a_failed_jobs_reason_is_shown_once(alice_client, alice, media_storage):
    photo = queued_photo(alice)
    jobs.run(photo.restoration.pk)  # no model is installed: it fails saying so

    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()

    assert 'id="job-error"' in page and page.count("No model serves") == 1
    assert "No deblurring model is installed" not in page


def test_api_cancel(alice, bob, media_storage):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(alice)
    photo = queued_photo(alice)
    url = f"/api/v1/photos/{photo.pk}/cancel/"

    response = api.post(url)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = api.post(url)
    assert again.status_code == 409
    assert again.json()["detail"] == "Only a queued or running job can be cancelled; this one is cancelled."
    assert api.post(f"/api/v1/photos/{queued_photo(bob).pk}/cancel/").status_code == 404


# -- the gallery's cards, filters and sort orders ------------------------------------


def names_on(client, query: str = "") -> list[str]:
    page = client.get(reverse("gallery:history") + query).context["page"]
    return [photo.original_name for photo in page.object_list]


def test_cards_show_both_thumbnails_and_the_figures(alice_client, alice, media_storage):
    with_reference = succeeded_photo(alice, "pair.jpg", psnr_before=24.12, psnr_after=27.56, ssim_before=0.71, ssim_after=0.83)
    alone = succeeded_photo(alice, "alone.jpg", blur_before=0.62, blur_after=0.31)
    waiting = queued_photo(alice, "waiting.jpg")

    page = alice_client.get(reverse("gallery:history")).content.decode()

    assert "PSNR 24.1 → 27.6 dB · SSIM 0.710 → 0.830" in page
    assert "Blur 0.62 → 0.31" in page
    for photo in (with_reference, alone):
        assert reverse("gallery:file", args=[photo.pk, "result-thumbnail"]) in page
    assert reverse("gallery:file", args=[waiting.pk, "result-thumbnail"]) not in page
    assert reverse("gallery:cancel", args=[waiting.pk]) in page and "0 photos ahead" in page
    thumbnail = alice_client.get(reverse("gallery:file", args=[alone.pk, "result-thumbnail"]))
    assert thumbnail.status_code == 200 and b"".join(thumbnail.streaming_content)[:2] == b"\xff\xd8"
    card = alice_client.get(reverse("gallery:card", args=[alone.pk])).content.decode()
    assert card.strip().startswith(f'<li class="card photo-card" id="card-{alone.pk}"') and "Blur 0.62" in card


def test_filters_and_sort_orders(alice_client, alice, bob, media_storage):
    succeeded_photo(alice, "b-low-gain.jpg", psnr_before=20.0, psnr_after=21.0)
    succeeded_photo(alice, "c-no-reference.jpg")
    succeeded_photo(alice, "A-high-gain.jpg", psnr_before=20.0, psnr_after=26.0)
    queued_photo(alice, "d-fast.jpg", choice="fast")
    queued_photo(bob, "bobs.jpg")

    assert names_on(alice_client) == ["d-fast.jpg", "A-high-gain.jpg", "c-no-reference.jpg", "b-low-gain.jpg"]
    assert names_on(alice_client, "?sort=oldest") == ["b-low-gain.jpg", "c-no-reference.jpg", "A-high-gain.jpg", "d-fast.jpg"]
    assert names_on(alice_client, "?sort=name") == ["A-high-gain.jpg", "b-low-gain.jpg", "c-no-reference.jpg", "d-fast.jpg"]
    assert names_on(alice_client, "?sort=psnr-gain&status=succeeded") == ["A-high-gain.jpg", "b-low-gain.jpg", "c-no-reference.jpg"]
    assert names_on(alice_client, "?model=fast") == ["d-fast.jpg"]
    assert names_on(alice_client, "?status=queued&model=best") == []
    assert "No photos match these filters" in alice_client.get(reverse("gallery:history") + "?status=failed").content.decode()
    # An unknown value is ignored rather than an error.
    assert names_on(alice_client, "?status=nonsense&sort=nonsense") == names_on(alice_client)


def test_the_psnr_sort_is_offered_only_with_references(alice_client, alice, media_storage):
    succeeded_photo(alice, "alone.jpg")
    assert 'value="psnr-gain"' not in alice_client.get(reverse("gallery:history")).content.decode()
    succeeded_photo(alice, "pair.jpg", psnr_before=20.0, psnr_after=22.0)
    assert 'value="psnr-gain"' in alice_client.get(reverse("gallery:history")).content.decode()


def test_pagination_keeps_the_filters(alice_client, alice, media_storage, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        queued_photo(alice, name)

    first = alice_client.get(reverse("gallery:history") + "?status=queued&sort=name").content.decode()
    assert 'href="?status=queued&amp;sort=name&amp;page=2"' in first
    assert names_on(alice_client, "?status=queued&sort=name&page=2") == ["c.jpg"]


# -- several photos at once -------------------------------------------------------


@pytest.fixture
def archive_requests(monkeypatch) -> list[str]:
    """The ZIPs sent to the downloads worker, by id; a test runs the worker's part itself."""
    sent: list[str] = []
    monkeypatch.setattr("gallery.tasks.build_archive.delay", lambda archive_id: sent.append(archive_id))
    return sent


def zip_entries(archive_row: Archive) -> dict[str, bytes]:
    with default_storage.open(archive_row.file.name) as stored, zipfile.ZipFile(stored) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def test_a_zip_of_the_selected_photos_is_built_by_a_worker_and_downloaded_when_ready(
    alice_client, alice, bob, media_storage, archive_requests, django_capture_on_commit_callbacks
):
    first = succeeded_photo(alice, "street.jpg", seed=1)
    second = succeeded_photo(alice, "street.png", seed=2)  # the same stem: de-duplicated
    waiting = queued_photo(alice, "waiting.jpg")
    theirs = succeeded_photo(bob, "bobs.jpg")
    ids = [first.pk, second.pk, waiting.pk, theirs.pk, "not-an-id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("gallery:download-many"), {"ids": ids})

    made = Archive.objects.get(owner=alice)
    assert response.status_code == 302 and response["Location"] == reverse("gallery:archive", args=[made.pk])
    assert archive_requests == [str(made.pk)]
    building = alice_client.get(response["Location"]).content.decode()
    assert "ZIP of 3 photos" in building and "Waiting for a worker" in building and 'http-equiv="refresh"' in building
    # Not ready: the file's address leads back to the page.
    assert alice_client.get(reverse("gallery:archive-file", args=[made.pk]))["Location"] == response["Location"]

    archive.build(str(made.pk))  # the downloads worker

    made.refresh_from_db()
    today = timezone.localdate().isoformat()
    assert made.status == Archive.Status.READY and made.progress == 1.0 and made.name == f"deblur-{today}-3-photos.zip"
    ready = alice_client.get(response["Location"]).content.decode()
    assert "Your ZIP is ready" in ready and 'http-equiv="refresh"' not in ready
    assert made.name in alice_client.get(reverse("gallery:history")).content.decode()  # the gallery links to it
    download = alice_client.get(reverse("gallery:archive-file", args=[made.pk]))
    assert download["Content-Disposition"] == f'attachment; filename="{made.name}"'
    entries = zip_entries(made)
    assert made.size == default_storage.size(made.file.name) and b"".join(download.streaming_content)[:2] == b"PK"
    # Newest first, as in the gallery: no result for the queued one, nothing of Bob's. The
    # originals are the files uploaded, JPEGs (street.png's name said otherwise).
    assert list(entries) == [
        "waiting.jpg", "street-deblurred.png", "street.jpg", "street-2-deblurred.png", "street-2.jpg",
    ]  # fmt: skip
    with default_storage.open(second.restoration.result.name) as stored:
        assert entries["street-deblurred.png"] == stored.read()
    with default_storage.open(first.given.name) as stored:
        assert entries["street-2.jpg"] == stored.read()
    # Only its owner sees it.
    alice_client.force_login(bob)
    assert alice_client.get(response["Location"]).status_code == 404
    assert alice_client.get(reverse("gallery:archive-file", args=[made.pk])).status_code == 404


def test_zip_results_are_at_the_saved_strength_rendered_or_not(alice, media_storage, archive_requests):
    from gallery import blends, downloads

    rendered, unrendered = succeeded_photo(alice, "rendered.jpg", seed=1), succeeded_photo(alice, "later.jpg", seed=2)
    for photo in (rendered, unrendered):
        downloads.save_strength(photo.restoration, 0.5)
    blends.render(rendered.restoration.pk)

    made = archive.request(alice, [rendered, unrendered])
    archive.build(str(made.pk))

    entries = zip_entries(Archive.objects.get(pk=made.pk))
    for photo, stem in ((rendered, "rendered"), (unrendered, "later")):
        job = Restoration.objects.get(photo=photo)
        expected = blends.blend(read_stored_image(photo.original), read_stored_image(job.result), 0.5)
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(entries[f"{stem}-deblurred.png"]))), np.asarray(expected))


def test_deleting_a_photo_deletes_the_zips_that_hold_it_and_old_zips_expire(alice, media_storage, settings):
    from gallery import cleanup
    from gallery.uploads import delete_photo

    kept, deleted = succeeded_photo(alice, "kept.jpg", seed=1), succeeded_photo(alice, "deleted.jpg", seed=2)
    with_both, with_kept = archive.request(alice, [kept, deleted]), archive.request(alice, [kept])
    for made in (with_both, with_kept):
        archive.build(str(made.pk))
    names = [Archive.objects.get(pk=made.pk).file.name for made in (with_both, with_kept)]

    assert delete_photo(Photo.objects.get(pk=deleted.pk))

    assert not default_storage.exists(names[0]) and not Archive.objects.filter(pk=with_both.pk).exists()
    assert default_storage.exists(names[1])
    Archive.objects.filter(pk=with_kept.pk).update(created=timezone.now() - timedelta(hours=settings.ARCHIVE_KEEP_HOURS, minutes=1))
    assert cleanup.sweep().expired_archives == 1
    assert not default_storage.exists(names[1]) and not Archive.objects.exists()


def test_a_user_keeps_a_few_zips_at_once_and_deletes_them_even_while_built(
    alice_client, alice, media_storage, archive_requests, settings
):
    settings.ARCHIVE_MAX_PER_USER = 2
    photo = succeeded_photo(alice, "street.jpg")
    asked = [alice_client.post(reverse("gallery:download-many"), {"ids": [photo.pk]}, follow=True) for _ in range(3)]

    assert Archive.objects.filter(owner=alice).count() == 2
    assert "You have 2 ZIPs kept for download, the most at once." in asked[2].content.decode()
    building = Archive.objects.filter(owner=alice).first()
    deleted = alice_client.post(reverse("gallery:archive-delete", args=[building.pk]), follow=True)
    assert f"Deleted {building.name}." in deleted.content.decode()
    archive.build(str(building.pk))  # its message, taken by a worker afterwards, builds nothing
    assert not Archive.objects.filter(pk=building.pk).exists() and not default_storage.exists(building.file_name)
    assert alice_client.post(reverse("gallery:download-many"), {"ids": [photo.pk]}).status_code == 302


def test_entry_names_never_collide():
    assert archive.entry_stems(["a.jpg", "a-deblurred.png", "a.png", "../x/a.jpg", "", "C:\\b.jpg"]) == [
        "a", "a-deblurred-2", "a-2", "a-3", "photo", "b",
    ]  # fmt: skip
    assert archive.archive_name(1, date(2026, 12, 1)) == "deblur-2026-12-01-1-photo.zip"


def test_zip_with_none_of_ones_own_photos_says_so(alice_client, bob, media_storage):
    response = alice_client.post(reverse("gallery:download-many"), {"ids": [succeeded_photo(bob).pk]}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("gallery:history")
    assert "Select at least one photo to download." in response.content.decode()


def test_delete_several_photos(alice_client, alice, bob, media_storage):
    mine = [succeeded_photo(alice, "one.jpg"), queued_photo(alice, "two.jpg")]
    kept = queued_photo(alice, "kept.jpg")
    theirs = succeeded_photo(bob, "bobs.jpg")
    files = [file.name for photo in mine for file in photo.stored_files()]
    back = reverse("gallery:history") + "?sort=name"

    response = alice_client.post(
        reverse("gallery:delete-many"), {"ids": [photo.pk for photo in mine] + [theirs.pk], "next": back}, follow=True
    )

    assert response.redirect_chain == [(back, 302)]
    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["Deleted 2 photos and their files."]
    assert list(Photo.objects.filter(owner=alice)) == [kept]
    assert Photo.objects.filter(pk=theirs.pk).exists()
    assert files and not any(default_storage.exists(name) for name in files)


def test_bulk_actions_need_a_post(alice_client):
    assert alice_client.get(reverse("gallery:download-many")).status_code == 405
    assert alice_client.get(reverse("gallery:delete-many")).status_code == 405
