"""Samples anyone may look at without an account: made once from the photos shipped in the
repository, deblurred by the ordinary job queue, shown in the same viewer as one's own."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from conftest import SHOTS
from gallery import samples
from gallery.models import Photo

from .conftest import succeed

SLUGS = [sample.slug for sample in samples.SAMPLES]


def made_and_deblurred() -> dict[str, Photo]:
    for photo in samples.ensure():
        succeed(photo, psnr_before=24.0, psnr_after=27.5, ssim_before=0.7, ssim_after=0.8, verdict="sharper", method="kernel")
    return samples.photos()


def test_each_sample_is_made_once_as_a_blurred_photo_with_its_sharp_reference(media_storage, db):
    made = samples.ensure()

    assert sorted(photo.original_name for photo in made) == sorted(f"{slug}.jpg" for slug in SLUGS)
    for photo in made:
        assert photo.reference and photo.synthetic_blur["kind"] in ("motion", "shake", "defocus")
        assert photo.restoration.choice == "auto" and photo.restoration.status == "queued"
    owner = get_user_model().objects.get(username=samples.SAMPLES_USERNAME)
    assert not owner.is_active and not owner.has_usable_password()
    assert samples.ensure() == []


def test_a_sample_whose_job_failed_is_made_again(media_storage, db):
    first = {photo.original_name: photo for photo in samples.ensure()}
    failed = first["chelsea.jpg"].restoration
    failed.status = "failed"
    failed.save()

    again = samples.ensure()

    assert [photo.original_name for photo in again] == ["chelsea.jpg"]
    assert not Photo.all_objects.filter(pk=first["chelsea.jpg"].pk).exists()
    assert Photo.objects.filter(owner__username=samples.SAMPLES_USERNAME).count() == len(SLUGS)


def test_a_visitor_without_an_account_sees_the_samples_and_their_figures(client, media_storage, db):
    assert 'id="samples"' not in client.get(reverse("home")).content.decode()
    made_and_deblurred()

    home = client.get(reverse("home")).content.decode()
    page = client.get(reverse("gallery:sample", args=["chelsea"]))

    assert 'id="samples"' in home and all(reverse("gallery:sample", args=[slug]) in home for slug in SLUGS)
    assert "24.0 → 27.5 dB" in home
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="viewer"' in text and "24.00 dB" in text and "27.50 dB" in text
    assert "Stefan van der Walt, CC0" in text
    # Looking, not changing: no strength to save, no downloads, no delete.
    assert 'id="strength-form"' not in text and 'id="delete-form"' not in text and "Download" not in text


def test_a_sample_serves_its_viewers_pictures_to_anyone_and_nothing_else(client, alice, media_storage, db):
    made_and_deblurred()
    mine = Photo.objects.get(pk=made_and_deblurred()["coffee"].pk)

    assert client.get(reverse("gallery:sample-file", args=["coffee", "preview"])).status_code == 200
    assert client.get(reverse("gallery:sample-file", args=["coffee", "output"])).status_code == 200
    for kind in ("uploaded", "result-png", "thumbnail"):
        assert client.get(reverse("gallery:sample-file", args=["coffee", kind])).status_code == 404, kind
    assert client.get(reverse("gallery:sample", args=["not-a-sample"])).status_code == 404
    # The samples' own photos only: a user's photo has no slug, and the owner's routes stay closed.
    assert client.get(reverse("gallery:detail", args=[mine.pk])).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_a_visitor_compares_a_samples_before_and_after_in_chromium(live_server, browser_page, media_storage):
    made_and_deblurred()
    page = browser_page

    page.goto(live_server.url + "/")
    page.click("#samples a >> nth=1")

    expect(page.locator("h1")).to_have_text("Sample: Camera shake")
    for image in ("#original-image", "#result-image"):
        expect(page.locator(image)).to_have_js_property("complete", True)
        assert page.locator(image).evaluate("image => image.naturalWidth") > 0
    expect(page.locator("#viewer-divider")).to_be_visible()
    page.screenshot(path=SHOTS / "sample-camera-shake.png", full_page=True)
