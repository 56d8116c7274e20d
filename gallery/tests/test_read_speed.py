"""Read speed (issue 21): the pages people keep open (a job's status, the gallery, the API's
list) read the database a fixed number of times however many photos and queued jobs there
are, and what the site keeps to answer them faster is only ever shown to its owner and never
outlives a change of the rows it was made from."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tokens import issue_token
from gallery.models import Photo, Restoration, photo_file_names

pytestmark = pytest.mark.django_db

GALLERY = reverse("gallery:history")
API_LIST = reverse("api:photo-list")
# What each page reads: the session and the user (the site) or the token and the user's other
# tokens (the API, knox); the photos; the queue's running and queued jobs, once for the page.
# The gallery also reads whether the user has PSNR figures, the number of photos for its pages,
# whether a model serves the learned choices and the user's newest ZIPs; the API list, every
# kept result of the page's photos, in one query.
MOST_QUERIES = {"status": 5, "gallery": 9, "API list": 6}


def add_photos(user, count: int, status: str = "succeeded", **job) -> list[Photo]:
    """Photos whose rows are as the worker leaves them, without files: the pages read rows."""
    photos = []
    for n in range(count):
        photo = Photo(owner=user, width=640, height=480, mode="RGB", original_name=f"{user.username}-{n}.jpg")
        names = photo_file_names(photo.pk)
        photo.original, photo.thumbnail, photo.preview = names["original"], names["thumbnail"], names["preview"]
        photo.save()
        fields = {"expected_seconds": 5.0, "submitted_from": "198.51.100.1"} | job
        photo.restoration = made = Restoration.objects.create(photo=photo, status=status, **fields)
        if status == "succeeded":
            result = made.file_names()
            done = {"result": result["result"], "result_thumbnail": result["result_thumbnail"], "finished_at": timezone.now()}
            done |= {"method": "kernel", "verdict": "sharper", "verdict_reason": "Sharper.", "blur_before": 0.5, "blur_after": 0.4}
            Restoration.objects.filter(pk=made.pk).update(**done)
        photo.save(update_fields=["restoration"])
        photos.append(photo)
    return photos


def queue_behind(*users) -> None:
    """A job of each user on the queue, one released and the rest held, and one running."""
    for index, user in enumerate(users):
        released = {"enqueued_at": timezone.now()} if index == 0 else {}
        add_photos(user, 1, status="queued", submitted_from=f"198.51.100.{10 + index}", **released)
    add_photos(users[0], 1, status="running", started_at=timezone.now(), heartbeat_at=timezone.now(), progress=0.2)


def web_as(client, user):
    client.force_login(user)
    return client


def api_with_token(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user, 'phone')[1]}")
    return api


def queries(client, url: str) -> int:
    client.get(url)  # a first request may fill what Django keeps per process
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.fixture
def endpoints(client, alice):
    """Each page as alice reads it, with the URL of her newest queued photo's status."""
    web, api = web_as(client, alice), api_with_token(alice)
    return lambda newest: {
        "status": (web, reverse("gallery:status", args=[newest.pk])),
        "gallery": (web, GALLERY),
        "API list": (api, API_LIST),
    }


@pytest.mark.parametrize("page", MOST_QUERIES)
def test_each_page_reads_the_database_as_often_for_a_hundred_photos_as_for_a_few(
    page, endpoints, alice, bob, django_user_model
):
    add_photos(alice, 2)
    queue_behind(bob)
    mine = add_photos(alice, 1, status="queued")[0]
    client, url = endpoints(mine)[page]
    few = queries(client, url)

    others = [django_user_model.objects.create_user(f"user{n}") for n in range(8)]
    add_photos(alice, 80)
    queue_behind(bob, *others)
    add_photos(alice, 10, status="queued")
    mine = add_photos(alice, 1, status="queued")[0]
    client, url = endpoints(mine)[page]
    many = queries(client, url)

    assert many == few <= MOST_QUERIES[page]


def test_a_finished_card_is_kept_for_its_own_photo_only_and_made_again_when_its_job_changes(client, alice, bob):
    (mine,) = add_photos(alice, 1)
    (theirs,) = add_photos(bob, 1)
    Photo.objects.filter(pk__in=[mine.pk, theirs.pk]).update(original_name="street.jpg")  # the same card but the photo

    alices = web_as(client, alice).get(GALLERY).content.decode()
    bobs = web_as(client, bob).get(GALLERY).content.decode()

    assert str(mine.pk) in alices and str(theirs.pk) not in alices
    assert str(theirs.pk) in bobs and str(mine.pk) not in bobs
    # The worker and the job functions write rows with update(): no signal tells the cache.
    Restoration.objects.filter(photo=mine).update(status="failed", error="Deblurring failed.")
    assert "badge failed" in web_as(client, alice).get(GALLERY).content.decode()
    Restoration.objects.filter(photo=mine).update(status="succeeded", verdict="little-change")
    page = client.get(GALLERY).content.decode()
    assert "badge succeeded" in page and "Little change" in page and "badge failed" not in page
    Photo.objects.filter(pk=mine.pk).update(created=timezone.now() - timedelta(days=3))
    assert "3\xa0days ago" in client.get(GALLERY).content.decode()


def test_a_queued_jobs_place_moves_as_soon_as_a_job_ahead_of_it_changes(client, alice, bob):
    (theirs,) = add_photos(bob, 1, status="queued", enqueued_at=timezone.now())
    (mine,) = add_photos(alice, 1, status="queued", submitted_from="198.51.100.2")
    status = reverse("gallery:status", args=[mine.pk])
    web = web_as(client, alice)
    assert web.get(status).json()["queue_position"] == 1

    now = timezone.now()
    Restoration.objects.filter(photo=theirs).update(status="running", started_at=now, heartbeat_at=now)
    assert web.get(status).json()["queue_position"] == 1  # it runs, still ahead
    Restoration.objects.filter(photo=theirs).update(status="succeeded", finished_at=now)
    assert web.get(status).json()["queue_position"] == 0
    (again,) = add_photos(bob, 1, status="queued", enqueued_at=now)  # released before alice's
    assert web.get(status).json()["queue_position"] == 1
    Restoration.objects.filter(photo=again).update(status="cancelled")
    assert web.get(status).json()["queue_position"] == 0
    # Bob reads his own job's place, and never alice's photo.
    assert web_as(client, bob).get(status).status_code == 404
