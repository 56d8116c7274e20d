"""Idempotency-Key on API uploads, against the real PostgreSQL: a retried upload gets the
first answer again, and no second photo or job, even when both requests arrive at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from gallery import api
from gallery.models import IdempotencyKey, Photo, Restoration

from .conftest import photo_bytes, upload

URL = "/api/v1/photos/"


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(client: APIClient, key: str | None = "upload-1", seed: int = 0, **fields):
    headers = {"Idempotency-Key": key} if key is not None else {}
    data = {"image": upload("street.jpg", photo_bytes(seed=seed)), **fields}
    return client.post(URL, data, format="multipart", headers=headers)


@pytest.mark.django_db
def test_the_same_key_answers_the_first_answer_again_and_makes_nothing(alice, media_storage, active_model):
    client = client_of(alice)
    first = post(client, strength="0.5")
    again = post(client, strength="0.5")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Photo.objects.count() == Restoration.objects.count() == 1
    # Another key, or none, is another upload.
    assert post(client, key="upload-2").json()["id"] != first.json()["id"]
    post(client, key=None)
    assert Photo.objects.count() == 3


@pytest.mark.django_db
def test_a_key_is_each_users_own(alice, bob, media_storage, active_model):
    alices = post(client_of(alice))
    bobs = post(client_of(bob))

    assert alices.status_code == bobs.status_code == 201
    assert alices.json()["id"] != bobs.json()["id"]
    assert Photo.objects.get(pk=bobs.json()["id"]).owner == bob


@pytest.mark.django_db
def test_the_same_key_with_another_request_is_refused(alice, media_storage, active_model):
    client = client_of(alice)
    post(client)

    other_photo = post(client, seed=1)
    other_field = post(client, strength="0.3")

    assert other_photo.status_code == other_field.status_code == 422
    assert "different request" in other_photo.json()["detail"]
    assert Photo.objects.count() == 1


@pytest.mark.django_db
def test_a_refused_upload_frees_its_key_and_bad_keys_are_a_400(alice, media_storage, active_model):
    client = client_of(alice)
    not_an_image = {"image": upload("x.jpg", b"not an image")}
    refused = client.post(URL, not_an_image, format="multipart", headers={"Idempotency-Key": "k"})
    assert refused.status_code == 415 and not IdempotencyKey.objects.exists()

    assert post(client, key="x" * 256).status_code == 400
    assert post(client, key="").status_code == 400
    assert Photo.objects.count() == 0
    assert post(client, key="k").status_code == 201


@pytest.mark.django_db
def test_keys_older_than_a_day_are_ignored_and_swept(alice, bob, media_storage, active_model):
    client = client_of(alice)
    first = post(client)
    IdempotencyKey.objects.update(created=timezone.now() - timedelta(hours=24, seconds=1))

    again = post(client)
    # Any keyed request sweeps everyone's expired keys.
    IdempotencyKey.objects.filter(user=alice).update(created=timezone.now() - timedelta(days=2))
    post(client_of(bob), key="bobs")

    assert again.status_code == 201 and again.json()["id"] != first.json()["id"]
    assert list(IdempotencyKey.objects.values_list("user__username", "key")) == [("bob", "bobs")]


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_with_one_key_make_one_photo(alice, media_storage, active_model, monkeypatch):
    working, second_answered = threading.Event(), threading.Event()
    real_accept = api.accept_photo

    def slow_accept(*args, **kwargs):
        # The first request is at work until the second has had its answer.
        working.set()
        assert second_answered.wait(30)
        return real_accept(*args, **kwargs)

    monkeypatch.setattr(api, "accept_photo", slow_accept)
    answers = {}

    def first_request():
        try:
            answers["first"] = post(client_of(alice))
        finally:
            connection.close()

    thread = threading.Thread(target=first_request)
    thread.start()
    assert working.wait(30)
    try:
        answers["second"] = post(client_of(alice))
    finally:
        second_answered.set()
        thread.join(60)

    assert answers["second"].status_code == 409 and "still at work" in answers["second"].json()["detail"]
    assert answers["first"].status_code == 201
    monkeypatch.setattr(api, "accept_photo", real_accept)
    assert post(client_of(alice)).json() == answers["first"].json()
    assert Photo.objects.count() == 1
