"""Deleting an account deletes every file of its photos and ZIPs at once, on the
filesystem and on S3, from the profile's page, the API and the admin alike."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.deletion import CONFIRM_RATE
from accounts.tokens import issue_token
from conftest import PASSWORD, s3_options
from deblursite.tests.faults import FaultProxy
from gallery import archive, cleanup
from gallery.models import ARCHIVE_FOLDER, PHOTO_FOLDERS, Photo
from gallery.tests.conftest import succeeded_photo

DELETE_PAGE = reverse("delete-account")
ME = reverse("api:me")


@pytest.fixture(params=["filesystem", "s3"])
def storage(request):
    """Each test on the filesystem and on the S3 server."""
    return request.getfixturevalue("media_storage" if request.param == "filesystem" else "s3_storage")


def stored_names() -> set[str]:
    """Every file of the photo and ZIP folders, whatever the storage."""
    names = set()
    for folder in (*PHOTO_FOLDERS, ARCHIVE_FOLDER):
        try:
            names |= {f"{folder}/{name}" for name in default_storage.listdir(folder)[1]}
        except FileNotFoundError:  # a folder nothing was written to, on the filesystem
            pass
    return names


def holdings(user) -> set[str]:
    """Two finished photos and a ready ZIP of them; the names of their files."""
    before = stored_names()
    photos = [succeeded_photo(user, f"{user.username}-{n}.jpg", seed=n) for n in range(2)]
    made = archive.request(user, photos)
    archive.build(str(made.pk))
    return stored_names() - before


def token_client(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user, 'phone')[1]}")
    return api


def test_the_page_lists_what_will_go(alice_client, alice, media_storage):
    holdings(alice)
    issue_token(alice, "phone")

    page = alice_client.get(DELETE_PAGE).content.decode()

    assert "2 photos with 2 deblurred results" in page
    assert "1 ZIP download;" in page and "1 signed-in device:" in page
    assert "alice@example.com" in page
    assert DELETE_PAGE in alice_client.get(reverse("profile")).content.decode()


def test_a_wrong_password_deletes_nothing(alice_client, alice, media_storage):
    files = holdings(alice)

    response = alice_client.post(DELETE_PAGE, {"password": "not my password"})

    assert response.status_code == 200
    assert "That is not your password." in response.content.decode()
    assert get_user_model().objects.filter(pk=alice.pk).exists()
    assert files <= stored_names()


def test_deleting_my_account_removes_its_files_at_once_and_no_one_elses(alice_client, alice, bob, storage):
    alices, bobs = holdings(alice), holdings(bob)
    assert alices and bobs

    response = alice_client.post(DELETE_PAGE, {"password": PASSWORD}, follow=True)

    assert response.redirect_chain == [(reverse("home"), 302)]
    assert [str(m) for m in response.context["messages"]] == ["Your account and all its photos were deleted."]
    assert not get_user_model().objects.filter(pk=alice.pk).exists()
    assert not Photo.all_objects.filter(owner_id=alice.pk).exists()
    assert stored_names() == bobs
    # Signed out: the old session is no one's.
    assert alice_client.get(reverse("gallery:history")).status_code == 302


def test_the_api_deletes_the_account_once_the_password_confirms_it(alice, storage):
    files = holdings(alice)
    api = token_client(alice)

    missing, wrong = api.delete(ME), api.delete(ME, {"password": "guess"}, format="json")
    assert (missing.status_code, wrong.status_code) == (400, 400)
    assert wrong.json() == {"password": ["That is not your password."]}
    assert files <= stored_names()

    assert api.delete(ME, {"password": PASSWORD}, format="json").status_code == 204
    assert stored_names() == set()
    assert api.get(ME).status_code == 401


def test_tries_at_the_password_are_limited(alice, media_storage):
    api = token_client(alice)
    for _ in range(CONFIRM_RATE.limit):
        assert api.delete(ME, {"password": "guess"}, format="json").status_code == 400

    refused = api.delete(ME, {"password": PASSWORD}, format="json")

    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert get_user_model().objects.filter(pk=alice.pk).exists()


def test_deleting_a_user_in_the_admin_removes_their_files_at_once(admin_client, alice, bob, storage):
    holdings(alice)
    bobs = holdings(bob)

    response = admin_client.post(reverse("admin:auth_user_delete", args=[alice.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=alice.pk).exists()
    assert stored_names() == bobs


def test_deleting_photos_in_the_admin_removes_their_files_at_once(admin_client, alice, media_storage):
    one, two, kept = (succeeded_photo(alice, f"{n}.jpg", seed=n) for n in range(3))
    files_of_kept = {name for name in stored_names() if str(kept.pk) in name}

    admin_client.post(reverse("admin:gallery_photo_delete", args=[one.pk]), {"post": "yes"})
    admin_client.post(
        reverse("admin:gallery_photo_changelist"), {"action": "delete_selected", "_selected_action": [two.pk], "post": "yes"}
    )

    assert list(Photo.all_objects.all()) == [kept]
    assert stored_names() == files_of_kept


def test_a_store_that_fails_part_way_still_deletes_the_account_and_the_sweep_finishes(settings, alice, s3_storage, s3_endpoint):
    _, buckets = s3_storage
    holdings(alice)
    with FaultProxy(s3_endpoint) as store:
        settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_options(store.url, buckets["default"])}}
        store.die_after("DELETE", 2)

        response = token_client(alice).delete(ME, {"password": PASSWORD}, format="json")

        assert response.status_code == 202
        assert "remaining files will be removed shortly" in response.json()["detail"]
        assert not get_user_model().objects.filter(pk=alice.pk).exists()
        store.revive()
        assert stored_names()
        cleanup.sweep(timedelta(0))
        assert stored_names() == set()
