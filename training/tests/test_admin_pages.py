"""The staff pages for training data: who may see them, starting each kind of
ingestion from the form, following a job, and managing a dataset."""

import io
import zipfile

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from training.ingestion import jobs as ingest
from training.models import Dataset, DatasetImage, IngestJob


def photo_file(seed: int, size=(320, 288)) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1] // 16, size[0] // 16, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").resize(size, Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@pytest.fixture
def photo_folder(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for seed in range(3):
        (folder / f"p{seed}.jpg").write_bytes(photo_file(seed))
    (folder / "notes.txt").write_text("not a photo")
    return folder


@pytest.fixture
def pair_folder(tmp_path):
    for kind in ("blur", "sharp"):
        (tmp_path / "pairs" / "scene" / kind).mkdir(parents=True)
        (tmp_path / "pairs" / "scene" / kind / "0001.jpg").write_bytes(photo_file(7))
    (tmp_path / "pairs" / "scene" / "sharp" / "0002.jpg").write_bytes(photo_file(8))
    return tmp_path / "pairs"


def start(client, **fields):
    return client.post(reverse("training:ingest"), fields)


PAGES = ["training:datasets", "training:ingest"]


@pytest.mark.parametrize("page", PAGES)
def test_pages_are_for_staff_only(client, alice, page):
    assert client.get(reverse(page)).status_code == 302  # anonymous: log in first
    client.force_login(alice)
    assert client.get(reverse(page)).status_code == 403


def test_non_staff_cannot_start_or_see_anything(client, alice, datasets, photo_folder):
    client.force_login(alice)
    response = start(client, source="folder", dataset="x", path=str(photo_folder), licence="CC0")
    assert response.status_code == 403
    assert not IngestJob.objects.exists()


def test_folder_ingestion_from_the_form(staff_client, datasets, photo_folder, settings, django_capture_on_commit_callbacks, enqueued):
    settings.INGEST_FOLDER_ROOTS = [str(photo_folder.parent)]
    with django_capture_on_commit_callbacks(execute=True):
        response = start(staff_client, source="folder", dataset="mine", path=str(photo_folder), licence="CC0")

    job = IngestJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("training:job", args=[job.pk])
    assert enqueued == [(job.pk, None)]
    ingest.run(job.pk)

    page = staff_client.get(reverse("training:dataset", args=["mine"])).content.decode()
    assert page.count('class="badge succeeded">trainable') == 3
    assert "Not an accepted image type" in page and "notes.txt" in page
    status = staff_client.get(reverse("training:job-status", args=[job.pk])).json()
    assert (status["status"], status["kept"], status["rejected"], status["total"]) == ("succeeded", 3, 1, 4)
    assert "Rejected notes.txt" in status["log"]


def test_folders_outside_the_allowed_roots_are_refused(staff_client, datasets, photo_folder, settings):
    settings.INGEST_FOLDER_ROOTS = [str(photo_folder / "elsewhere")]
    response = start(staff_client, source="folder", dataset="mine", path=str(photo_folder), licence="CC0")
    assert response.status_code == 400
    assert "Folders can be imported from" in response.content.decode()
    assert not Dataset.objects.exists()


def test_zip_upload_ingestion(staff_client, datasets, django_capture_on_commit_callbacks, enqueued):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.jpg", photo_file(1))
        z.writestr("b.jpg", photo_file(2))
    upload = SimpleUploadedFile("photos.zip", archive.getvalue(), content_type="application/zip")
    with django_capture_on_commit_callbacks(execute=True):
        start(staff_client, source="upload", dataset="zipped", archive=upload, licence="CC-BY 4.0")

    job = ingest.run(IngestJob.objects.get().pk)
    assert (job.status, job.kept) == ("succeeded", 2)
    assert set(DatasetImage.objects.values_list("source_id", flat=True)) == {"a.jpg", "b.jpg"}


def test_pairs_ingestion_lists_files_without_partner(staff_client, datasets, pair_folder, settings, enqueued):
    settings.INGEST_FOLDER_ROOTS = [str(pair_folder)]
    start(staff_client, source="pairs", dataset="pairs", path=str(pair_folder))
    job = ingest.run(IngestJob.objects.get().pk)

    assert Dataset.objects.get(name="pairs").kind == Dataset.Kind.PAIRS
    assert (job.kept, job.rejected) == (1, 1)
    page = staff_client.get(reverse("training:dataset", args=["pairs"])).content.decode()
    assert "No blurred partner for scene/0002.jpg." in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"source": "folder", "licence": "CC0"}, "path", "Needed for this source."),
        ({"source": "upload", "licence": "CC0"}, "archive", "Needed for this source."),
        ({"source": "unsplash", "count": 5}, "source", "UNSPLASH_ACCESS_KEY"),
        ({"source": "folder", "path": "/nonexistent/folder", "licence": "CC0"}, "path", "no such folder"),
    ],
)
def test_form_says_what_is_missing(staff_client, datasets, settings, fields, field, message):
    settings.UNSPLASH_ACCESS_KEY = ""
    settings.INGEST_FOLDER_ROOTS = ["/"]
    response = start(staff_client, dataset="d", **fields)
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])


def test_a_photo_dataset_cannot_take_pairs(staff_client, datasets, pair_folder, settings):
    Dataset.objects.create(name="photos", kind=Dataset.Kind.PHOTOS)
    settings.INGEST_FOLDER_ROOTS = ["/"]
    response = start(staff_client, source="pairs", dataset="photos", path=str(pair_folder))
    assert response.status_code == 400
    assert "pick another dataset" in response.context["form"].errors["dataset"][0]


def test_stop_and_start_again(staff_client, datasets, photo_folder, enqueued, django_capture_on_commit_callbacks):
    dataset = Dataset.objects.create(name="d")
    job = IngestJob.objects.create(dataset=dataset, source="folder", path=str(photo_folder), licence="CC0")

    staff_client.post(reverse("training:job-stop", args=[job.pk]))
    assert ingest.run(job.pk) is None  # a stopped job is not picked up
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("training:job-resume", args=[job.pk]))

    assert enqueued == [(job.pk, None)]
    assert ingest.run(job.pk).status == "succeeded"


def test_benchmark_flag_and_delete_removes_every_file(staff_client, datasets, photo_folder, enqueued):
    dataset = Dataset.objects.create(name="d")
    job = IngestJob.objects.create(dataset=dataset, source="folder", path=str(photo_folder), licence="CC0")
    ingest.run(job.pk)
    assert [p for p in datasets.rglob("*") if p.is_file()]

    staff_client.post(reverse("training:benchmark", args=["d"]))
    assert Dataset.objects.get(name="d").is_benchmark
    response = staff_client.post(reverse("training:delete", args=["d"]))

    assert response.status_code == 302
    assert not Dataset.objects.exists() and not DatasetImage.objects.exists()
    assert not [p for p in datasets.rglob("*") if p.is_file()]


def test_thumbnails_and_files_are_served_to_staff_only(staff_client, client, alice, datasets, photo_folder, enqueued):
    job = IngestJob.objects.create(dataset=Dataset.objects.create(name="d"), source="folder", path=str(photo_folder), licence="CC0")
    ingest.run(job.pk)
    row = DatasetImage.objects.filter(status="kept").first()

    response = staff_client.get(reverse("training:image-file", args=[row.pk, "thumbnail"]))
    assert response.status_code == 200
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).format == "JPEG"
    client.force_login(alice)
    assert client.get(reverse("training:image-file", args=[row.pk, "thumbnail"])).status_code == 403


def test_make_runs_roots_are_var_incoming_so_etc_is_refused(staff_client, datasets, settings):
    from deblursite import settings as defaults

    # Nothing sets INGEST_FOLDER_ROOTS here or under `make run`: the default holds.
    assert defaults.INGEST_FOLDER_ROOTS == [str(defaults.VAR_DIR / "incoming")]
    settings.INGEST_FOLDER_ROOTS = defaults.INGEST_FOLDER_ROOTS
    response = start(staff_client, source="folder", dataset="mine", path="/etc", licence="CC0")
    assert response.status_code == 400
    assert "Folders can be imported from" in response.content.decode()
    assert not IngestJob.objects.exists()


def test_the_sites_own_storage_folders_are_never_imported(staff_client, datasets, media_storage, settings):
    settings.INGEST_FOLDER_ROOTS = ["/"]
    (media_storage / "default" / "originals").mkdir(parents=True)
    for folder in (media_storage / "default" / "originals", media_storage / "datasets", media_storage):
        response = start(staff_client, source="folder", dataset="mine", path=str(folder), licence="CC0")
        assert response.status_code == 400, folder
        assert "holds the site&#x27;s own files" in response.content.decode()
    assert not IngestJob.objects.exists()


def test_a_path_through_a_link_is_refused(staff_client, datasets, photo_folder, tmp_path, settings):
    settings.INGEST_FOLDER_ROOTS = [str(tmp_path / "incoming")]
    (tmp_path / "incoming").mkdir()
    (tmp_path / "incoming" / "linked").symlink_to(photo_folder)
    response = start(staff_client, source="folder", dataset="mine", path=str(tmp_path / "incoming" / "linked"), licence="CC0")
    assert response.status_code == 400
    assert "links are not followed" in response.content.decode()


def test_links_inside_an_imported_folder_are_not_followed(staff_client, datasets, photo_folder, tmp_path, settings, enqueued):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "private.jpg").write_bytes(photo_file(9))
    (photo_folder / "private.jpg").symlink_to(secret / "private.jpg")
    (photo_folder / "elsewhere").symlink_to(secret)
    settings.INGEST_FOLDER_ROOTS = [str(photo_folder)]

    start(staff_client, source="folder", dataset="mine", path=str(photo_folder), licence="CC0")
    job = ingest.run(IngestJob.objects.get().pk)

    assert (job.total, job.kept) == (4, 3)  # three photos and notes.txt; neither link
    assert not DatasetImage.objects.filter(source_id__contains="private").exists()
