"""'Try it': a sharp photo blurred by the site, kept as the photo's reference, and queued."""

import io

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from gallery import try_it
from gallery.models import Photo, Restoration
from inference.metrics import psnr

from .conftest import photo_bytes, upload

TRY_IT = reverse("gallery:try-it")


def stored(name: str) -> np.ndarray:
    with default_storage.open(name) as f:
        return np.asarray(Image.open(f).convert("RGB"))


def sharp_photo(size=(160, 120)) -> Image.Image:
    return Image.open(io.BytesIO(photo_bytes(size=size, fmt="PNG", seed=7)))


def test_try_it_stores_the_blurred_photo_with_the_sharp_one_as_reference_and_queues_it(alice_client, alice, media_storage):
    sharp = photo_bytes(size=(160, 120), fmt="PNG", seed=7)

    response = alice_client.post(TRY_IT, {"image": upload("garden.png", sharp, "image/png"), "kind": "motion", "strength": 60})

    photo = Photo.objects.get(owner=alice)
    assert response.status_code == 302 and response["Location"] == reverse("gallery:detail", args=[photo.pk])
    assert photo.synthetic_blur == {"kind": "motion", "strength": 0.6}
    assert (photo.original_name, photo.width, photo.height) == ("garden.png", 160, 120)
    reference, original = stored(photo.reference.name), stored(photo.original.name)
    assert np.array_equal(reference, np.asarray(Image.open(io.BytesIO(sharp)).convert("RGB")))
    assert psnr(original, reference) < 30  # identical would be infinite
    assert photo.restoration.status == Restoration.Status.QUEUED
    page = alice_client.get(response["Location"]).content.decode()
    assert "garden.png blurred (motion, 60 %) and queued for deblurring." in page
    assert "Try-it photo: the site blurred your sharp photo (motion, 60 %); the figures compare with your original." in page


@pytest.mark.parametrize("kind", try_it.KINDS)
def test_each_kind_blurs_more_as_the_strength_grows_and_the_same_way_each_time(kind):
    sharp = sharp_photo()
    reference = np.asarray(sharp)

    light, strong = (np.asarray(try_it.blurred(sharp, kind, strength)) for strength in (0.2, 1.0))

    assert light.shape == strong.shape == reference.shape
    assert psnr(strong, reference) < psnr(light, reference) < 40
    assert np.array_equal(np.asarray(try_it.blurred(sharp, kind, 1.0)), strong)


def test_the_blur_keeps_greyscale_and_alpha():
    image = sharp_photo().convert("LA")

    blurred = try_it.blurred(image, "defocus", 0.5)

    assert blurred.mode == "LA"
    assert np.array_equal(np.asarray(blurred.getchannel("A")), np.asarray(image.getchannel("A")))


def test_a_large_photo_is_scaled_down_first_and_says_so(alice_client, alice, media_storage, monkeypatch):
    monkeypatch.setattr(try_it, "MAX_PIXELS", 80 * 60)

    alice_client.post(TRY_IT, {"image": upload("big.jpg", photo_bytes(size=(160, 120))), "kind": "shake", "strength": 50})

    photo = Photo.objects.get(owner=alice)
    assert (photo.width, photo.height) == (80, 60)
    assert stored(photo.reference.name).shape == (60, 80, 3)
    assert "Scaled down from 160×120 to 80×60 pixels before blurring" in photo.notes[0]


def test_try_it_refuses_what_an_upload_refuses(alice_client, media_storage):
    tiny_photo = upload("tiny.png", photo_bytes(size=(20, 18), fmt="PNG"))
    tiny = alice_client.post(TRY_IT, {"image": tiny_photo, "kind": "motion", "strength": 50})
    unknown = alice_client.post(TRY_IT, {"image": upload("a.jpg", photo_bytes()), "kind": "swirl", "strength": 50})

    assert tiny.status_code == 400
    assert "The image is 20×18 pixels; photos must be at least 32 pixels on each side." in tiny.content.decode()
    assert unknown.status_code == 400 and "Select a valid choice" in unknown.content.decode()
    assert not Photo.objects.exists()


def test_the_upload_page_and_home_page_link_to_try_it(alice_client, media_storage):
    assert f'href="{TRY_IT}"' in alice_client.get(reverse("gallery:upload")).content.decode()
    assert f'href="{TRY_IT}"' in alice_client.get(reverse("home")).content.decode()
    assert alice_client.get(TRY_IT).status_code == 200


def test_a_try_it_photo_calls_the_blurred_copy_and_the_sharp_original_what_they_are(alice_client, alice, media_storage):
    from gallery import archive

    from .conftest import succeed
    from .test_cancel_and_gallery import zip_entries

    sharp = photo_bytes(size=(160, 120), fmt="PNG", seed=7)
    alice_client.post(TRY_IT, {"image": upload("coffee.png", sharp, "image/png"), "kind": "motion", "strength": 60})
    photo = Photo.objects.get(owner=alice)
    succeed(photo)

    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()
    assert '<span class="viewer-label before" aria-hidden="true">Blurred (input)</span>' in page
    assert 'data-reference="Sharp original"' in page and "> Sharp original</label>" in page
    assert "Download blurred input</a>" in page and "Download sharp original</a>" in page
    assert ">Original<" not in page and "Download original" not in page
    names = {
        kind: alice_client.get(reverse("gallery:file", args=[photo.pk, kind]), {"download": 1})["Content-Disposition"]
        for kind in ("uploaded", "reference")
    }
    assert names == {"uploaded": 'attachment; filename="coffee-blurred.png"', "reference": 'attachment; filename="coffee.png"'}

    made = archive.request(alice, [photo])
    archive.build(str(made.pk))
    entries = zip_entries(made.__class__.objects.get(pk=made.pk))
    assert sorted(entries) == ["coffee-blurred.png", "coffee-deblurred.png", "coffee.png"]
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(entries["coffee.png"])).convert("RGB")), stored(photo.reference.name))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(entries["coffee-blurred.png"])).convert("RGB")), stored(photo.original.name))
