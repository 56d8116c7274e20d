"""The photo page, its status and the history: what they say about the model choice,
the model that made a result and the wait of a queued job."""

import pytest
from django.urls import reverse

from gallery import jobs
from gallery.models import Photo, Restoration
from gallery.uploads import accept_photo
from inference import speed

from .conftest import photo_bytes, upload


def new_photo(user, choice: str = "best", size=(96, 64)) -> Photo:
    return accept_photo(user, upload("street.jpg", photo_bytes(size=size)), original_name="street.jpg", choice=choice)


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: None)


def test_a_queued_photo_says_how_many_start_first_and_when_it_will_start_and_be_ready(alice_client, alice, bob, two_models):
    speed.record(two_models["best"], "cpu-float32", seconds=40.0, megapixels=1.0)
    for user in (bob, bob):  # 0.006 MP each
        jobs.enqueue(new_photo(user).restoration.pk)
    photo = new_photo(alice, size=(1000, 1000))
    jobs.enqueue(photo.restoration.pk)
    bobs_first = Restoration.objects.filter(photo__owner=bob).earliest("created")

    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()
    status = alice_client.get(reverse("gallery:status", args=[photo.pk])).json()

    # Bob's second photo waits for Alice's first: people take turns.
    own = 40.0 + speed.FINISHING_SECONDS_PER_MEGAPIXEL + jobs.glimpse_seconds(1.0)  # a 40 s job: a glimpse first
    assert status["queue_position"] == 1 and status["wait_seconds"] == pytest.approx(bobs_first.expected_seconds)
    assert status["eta_seconds"] == pytest.approx(bobs_first.expected_seconds + own)
    assert "Waiting for a worker: 1 photo ahead of it" in page
    assert f"starts in about {status['wait_seconds']:.0f} s · ready in about {status['eta_seconds']:.0f} s" in page
    assert '<dd id="model">Best quality</dd>' in page


def test_a_result_names_its_model_and_choice_on_its_page_and_in_the_history(alice_client, alice, two_models):
    # Best quality runs its network whatever the photo (Fast tries the kernel engine first).
    photo = new_photo(alice, choice="best")
    jobs.run(photo.restoration.pk)
    assert Restoration.objects.get(photo=photo).status == "succeeded"

    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()
    history = alice_client.get(reverse("gallery:history")).content.decode()

    assert '<dd id="model">Best quality: tiny-best</dd>' in page
    assert "Best quality: tiny-best" in history


def test_the_no_model_banner_shows_only_when_neither_choice_has_a_model(alice_client, media_storage, tiny_model_file):
    from inference.registry import register_model

    banner = "No deblurring network is installed yet. Auto and Camera shake work without one"
    assert banner in alice_client.get(reverse("gallery:history")).content.decode()

    register_model(tiny_model_file, name="fast-only", serve=["fast"])

    assert banner not in alice_client.get(reverse("gallery:history")).content.decode()
    assert banner not in alice_client.get(reverse("gallery:upload")).content.decode()
