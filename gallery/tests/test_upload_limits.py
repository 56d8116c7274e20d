"""One upload limit per user, whatever the route (upload form, the upload page's
per-photo posts, try-it, API), in photos and in megapixels an hour (counted in the
cache the settings configure), and a cap on the megapixels waiting in the user's queue."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from gallery.models import Photo, Restoration

from .conftest import photo_bytes, upload
from .test_api import LIST, api_as, post_photo

UPLOAD = reverse("gallery:upload")
TRY_IT = reverse("gallery:try-it")


@pytest.fixture
def storage(media_storage):
    return media_storage


def test_the_web_form_upload_page_try_it_and_api_share_one_limit(alice_client, alice, bob, storage, settings):
    settings.UPLOAD_RATE_PHOTOS = "3/hour"
    assert alice_client.post(UPLOAD, {"images": [upload("form.jpg", photo_bytes())]}).status_code == 302
    posted = alice_client.post(UPLOAD, {"images": [upload("page.jpg", photo_bytes())]}, HTTP_ACCEPT="application/json")
    assert posted.status_code == 201
    tried = alice_client.post(TRY_IT, {"image": upload("try.png", photo_bytes(fmt="PNG")), "kind": "motion", "strength": 50})
    assert tried.status_code == 302

    api = post_photo(api_as(alice))
    form = alice_client.post(UPLOAD, {"images": [upload("form2.jpg", photo_bytes())]})
    page = alice_client.post(UPLOAD, {"images": [upload("page2.jpg", photo_bytes())]}, HTTP_ACCEPT="application/json")
    try_again = alice_client.post(TRY_IT, {"image": upload("try2.png", photo_bytes(fmt="PNG")), "kind": "motion", "strength": 50})

    sentence = "You have reached the upload limit of 3 photos an hour or 1,500 megapixels an hour. Please try again in"
    assert api.status_code == 429 and api.json()["detail"].startswith(sentence)
    assert 0 < int(api["Retry-After"]) <= 3900  # an hour and a twelfth: the window slides in twelfths
    assert form.status_code == 400 and f"form2.jpg: {sentence}" in form.content.decode()
    # The page's card shows the error and offers to send the same photo again: no field is at fault.
    assert page.status_code == 429 and 0 < int(page["Retry-After"]) <= 3900
    assert page.json()["field"] is None and page.json()["code"] == "rate_limited"
    assert page.json()["error"].startswith(sentence)
    assert try_again.status_code == 400 and sentence in try_again.content.decode()
    assert Photo.objects.filter(owner=alice).count() == 3
    # Per user: bob uploads.
    assert post_photo(api_as(bob)).status_code == 201


def test_files_refused_at_decoding_count_against_the_photo_rate(alice, storage, settings):
    # A bomb is refused after seconds of work, or sooner: either way it counts, before the decoding.
    settings.UPLOAD_RATE_PHOTOS = "2/hour"
    alice_api = api_as(alice)
    broken = photo_bytes()[:300]

    assert [post_photo(alice_api, upload("broken.jpg", broken)).status_code for _ in range(2)] == [400, 400]
    refused = post_photo(alice_api, upload("fine.jpg", photo_bytes()))

    assert refused.status_code == 429 and "upload limit of 2 photos an hour" in refused.json()["detail"]
    assert not Photo.objects.filter(owner=alice).exists()


def test_accounts_at_one_address_share_an_address_wide_rate(alice, bob, django_user_model, storage, settings):
    settings.UPLOAD_ADDRESS_RATE_PHOTOS = "3/hour"
    office = {"REMOTE_ADDR": "203.0.113.7"}
    carol = django_user_model.objects.create_user("carol", password="x")

    assert [post_photo(api_as(alice), **office).status_code for _ in range(2)] == [201, 201]
    assert post_photo(api_as(bob), **office).status_code == 201
    refused = post_photo(api_as(carol), **office)
    elsewhere = post_photo(api_as(carol), REMOTE_ADDR="198.51.100.2")

    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 3900
    assert refused.json()["detail"].startswith(
        "Your network address has reached its upload limit of 3 photos an hour or 3,000 megapixels an hour, "
        "over all its accounts. Please try again in"
    )
    assert elsewhere.status_code == 201


def test_uploads_are_counted_in_megapixels_too(alice, storage, settings):
    settings.UPLOAD_RATE_MEGAPIXELS = "1/hour"
    alice_api = api_as(alice)
    large = photo_bytes(size=(1000, 600))  # 0.6 MP

    assert post_photo(alice_api, upload("a.jpg", large)).status_code == 201
    refused = post_photo(alice_api, upload("b.jpg", large))
    assert refused.status_code == 429 and "1 megapixel an hour" in refused.json()["detail"]
    # What was refused was not counted: a small photo still fits in the hour's megapixels.
    assert post_photo(alice_api, upload("c.jpg", photo_bytes(size=(400, 300)))).status_code == 201


def test_twenty_large_black_photos_cannot_all_queue(alice, bob, storage, settings):
    """Each 39.7 MP and 116 KB: cheap to send, about 100 s of work each."""
    assert settings.UPLOAD_QUEUE_MEGAPIXELS == 200
    black = io.BytesIO()
    Image.new("RGB", (7280, 5456)).save(black, "PNG")
    alice_api = api_as(alice)

    answers = [post_photo(alice_api, upload(f"black-{n}.png", black.getvalue(), "image/png")) for n in range(20)]

    assert [answer.status_code for answer in answers] == [201] * 5 + [429] * 15
    assert answers[5].json()["detail"] == (
        "You have 199 MP waiting to be deblurred and this photo is 39.7 MP; at most 200 MP may wait. "
        "Wait for some to finish, or cancel some, then send it again."
    )
    assert int(answers[5]["Retry-After"]) > 0
    assert Restoration.objects.filter(photo__owner=alice, status=Restoration.Status.QUEUED).count() == 5
    # Someone else's queue is their own; and once one job is done, there is room for one more.
    assert post_photo(api_as(bob), upload("black.png", black.getvalue(), "image/png")).status_code == 201
    Restoration.objects.filter(pk=Photo.objects.filter(owner=alice).first().restoration.pk).update(
        status=Restoration.Status.SUCCEEDED
    )
    assert post_photo(alice_api, upload("black-20.png", black.getvalue(), "image/png")).status_code == 201
    assert alice_api.get(LIST).status_code == 200
