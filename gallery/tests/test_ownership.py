import pytest
from django.urls import reverse

from gallery import jobs
from gallery.models import Photo
from gallery.uploads import accept_photo
from gallery.views import KINDS

from .conftest import photo_bytes, upload


@pytest.fixture
def alices_photo(alice, active_model):
    # Camera shake: the kernel engine always leaves its kernel's drawing, so every kind of file is there.
    photo = accept_photo(alice, upload("mine.jpg", photo_bytes(blur=1.5)), original_name="mine.jpg",
                         reference=upload("ref.png", photo_bytes(fmt="PNG")), choice="shake")
    jobs.run(photo.restoration.pk)
    photo.refresh_from_db()
    assert photo.restoration.status == "succeeded"
    return photo


def routes(photo: Photo) -> list[tuple[str, str]]:
    pk = photo.pk
    read = [reverse("gallery:detail", args=[pk]), reverse("gallery:status", args=[pk])]
    read += [reverse("gallery:file", args=[pk, kind]) for kind in KINDS]
    read += [reverse("gallery:file", args=[pk, kind]) + "?download=1" for kind in KINDS]
    write = [reverse("gallery:delete", args=[pk]), reverse("gallery:retry", args=[pk])]
    return [("get", url) for url in read] + [("post", url) for url in write]


def test_owner_reaches_every_file(client, alice, alices_photo):
    client.force_login(alice)
    # A glimpse exists only while a long Best quality job runs (test_queues).
    for kind in set(KINDS) - {"glimpse"}:
        response = client.get(reverse("gallery:file", args=[alices_photo.pk, kind]))
        assert response.status_code == 200, kind
        assert b"".join(response.streaming_content)


def test_another_user_gets_404_on_every_route(client, bob, alices_photo):
    client.force_login(bob)
    for method, url in routes(alices_photo):
        assert getattr(client, method)(url).status_code == 404, url
    assert Photo.objects.filter(pk=alices_photo.pk).exists()


def test_anonymous_is_sent_to_login_on_every_route(client, alices_photo):
    for method, url in routes(alices_photo):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_history_lists_only_own_photos_newest_first(client, alice, bob, media_storage):
    for name in ["old.jpg", "new.jpg"]:
        accept_photo(alice, upload(name, photo_bytes()), original_name=name)
    accept_photo(bob, upload("bobs.jpg", photo_bytes()), original_name="bobs.jpg")
    client.force_login(alice)

    page = client.get(reverse("gallery:history")).context["page"]

    assert [p.original_name for p in page.object_list] == ["new.jpg", "old.jpg"]


def test_history_is_paginated(client, alice, media_storage, monkeypatch):
    monkeypatch.setattr("gallery.views.PAGE_SIZE", 2)
    for i in range(3):
        accept_photo(alice, upload(f"{i}.jpg", photo_bytes(size=(32, 32))), original_name=f"{i}.jpg")
    client.force_login(alice)

    second = client.get(reverse("gallery:history"), {"page": 2}).context["page"]

    assert [p.original_name for p in second.object_list] == ["0.jpg"]
    assert second.paginator.num_pages == 2


def test_unknown_file_kind_is_404(client, alice, alices_photo):
    client.force_login(alice)
    assert client.get(reverse("gallery:file", args=[alices_photo.pk, "secrets"])).status_code == 404


def test_download_names_follow_the_upload(client, alice, alices_photo):
    client.force_login(alice)
    response = client.get(reverse("gallery:file", args=[alices_photo.pk, "result-jpeg"]), {"download": 1})
    assert response["Content-Disposition"] == 'attachment; filename="mine-deblurred.jpg"'
    assert response["Content-Type"] == "image/jpeg"


def test_delete_removes_rows_and_every_stored_file(client, alice, alices_photo, media_storage):
    names = [f.name for f in alices_photo.stored_files()]
    assert len(names) == 11  # the photo's 5 (the file as uploaded among them), the result's 5 and the drawing of its blur kernel
    client.force_login(alice)

    response = client.post(reverse("gallery:delete", args=[alices_photo.pk]))

    assert response.status_code == 302
    assert not Photo.objects.filter(pk=alices_photo.pk).exists()
    assert not [p for p in (media_storage / "default").rglob("*") if p.is_file()]
