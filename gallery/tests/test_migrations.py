"""The migration to Auto and Camera shake (0008), run back and forth on the test database."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("gallery", "0007_idempotency_keys")]
AFTER = [("gallery", "0008_restoration_outcome")]


def test_results_made_before_are_marked_as_a_networks_and_new_jobs_default_to_auto(migrate):
    apps = migrate(BEFORE)
    owner = apps.get_model("auth", "User").objects.create(username="alice")
    Photo, Restoration = apps.get_model("gallery", "Photo"), apps.get_model("gallery", "Restoration")
    for name, status in (("done.png", "succeeded"), ("waiting.png", "queued"), ("broken.png", "failed")):
        photo = Photo.objects.create(owner=owner, original=name, original_name=name, width=1, height=1, mode="RGB")
        Restoration.objects.create(photo=photo, status=status, choice="fast", model_name="tiny" if status == "succeeded" else "")

    apps = migrate(AFTER)

    Restoration, Photo = apps.get_model("gallery", "Restoration"), apps.get_model("gallery", "Photo")
    rows = Restoration.objects.order_by("photo__original_name")
    assert [(r.photo.original_name, r.choice, r.method, r.verdict, r.kernel_image.name, r.kernel_size) for r in rows] == [
        ("broken.png", "fast", "", "", "", None),
        ("done.png", "fast", "network", "", "", None),
        ("waiting.png", "fast", "", "", "", None),
    ]
    photo = Photo.objects.create(owner_id=rows[0].photo.owner_id, original="new.png", original_name="new.png", width=1, height=1, mode="RGB")
    assert Restoration.objects.create(photo=photo).choice == "auto"

    migrate(BEFORE)  # and back


def test_a_photos_one_result_becomes_its_current_and_counts_its_files(migrate, media_storage):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    apps = migrate([("gallery", "0014_content_credentials")])
    owner = apps.get_model("auth", "User").objects.create(username="alice")
    Photo, Restoration = apps.get_model("gallery", "Photo"), apps.get_model("gallery", "Restoration")
    made = {}
    for name, status in (("done.png", "succeeded"), ("waiting.png", "queued")):
        photo = Photo.objects.create(owner=owner, original=name, original_name=name, width=1, height=1, mode="RGB")
        files = {}
        if status == "succeeded":
            files = {"result": f"results/{photo.pk}.png", "result_preview": f"results/{photo.pk}-preview.jpg"}
            for stored, size in zip(files.values(), (300, 40)):
                default_storage.save(stored, ContentFile(b"x" * size))
        made[name] = Restoration.objects.create(photo=photo, status=status, **files).pk

    apps = migrate([("gallery", "0015_every_result_kept")])

    Photo = apps.get_model("gallery", "Photo")
    rows = {photo.original_name: photo.restoration for photo in Photo.objects.select_related("restoration")}
    assert {name: row.pk for name, row in rows.items()} == made
    assert (rows["done.png"].bytes_stored, rows["waiting.png"].bytes_stored) == (340, 0)

    migrate([("gallery", "0014_content_credentials")])  # and back
