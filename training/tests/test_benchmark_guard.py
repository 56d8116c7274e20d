"""Benchmark images stay out of training by what they are, not by the folder they sit in:
the same gopro-real frames in a zip, re-encoded or resized copies, images of a dataset marked
as a benchmark after the fact, and a benchmark frame copied into a plain photo folder."""

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image

from deblursite.storage import datasets_storage
from inference.tests.image_files import encode
from training.ingestion import benchmark_guard
from training.ingestion import etl
from training.ingestion.datasets import training_photos
from training.models import Dataset, DatasetImage, IngestJob
from training.tests.fake_unsplash import photo_jpeg
from training.tests.test_etl import candidate, folder_job, run

SHARED = Path(django_settings.BENCHMARKS_DIR)
SHARP, BLUR = "gopro-real/sharp/000100.png", "gopro-real/blur/000101.png"  # frames that do not look alike


@pytest.fixture(autouse=True)
def benchmarks(datasets, enqueued, settings, tmp_path) -> Path:
    """Two frames of gopro-real as BENCHMARKS_DIR: hashing all of the shared ones takes seconds."""
    root = tmp_path / "benchmarks"
    for name in (SHARP, BLUR):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED / name, root / name)
    settings.BENCHMARKS_DIR = root
    return root


@pytest.fixture
def photos(db) -> Dataset:
    return Dataset.objects.create(name="photos")


def frame(name: str) -> bytes:
    return (SHARED / name).read_bytes()


def reencoded(raw: bytes, scale: float = 1.0, **params) -> bytes:
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    size = (round(image.width * scale), round(image.height * scale))
    return encode(image.resize(size, Image.Resampling.LANCZOS), "JPEG", **params)


def test_benchmark_frames_in_a_zip_are_kept_but_not_trainable_and_say_which_they_are(photos, staff_client):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("frames/sharp.png", frame(SHARP))
        zf.writestr("frames/blurred.png", frame(BLUR))
        zf.writestr("holiday.jpg", photo_jpeg(0))
    stored_zip = datasets_storage.save("uploads/frames.zip", ContentFile(archive.getvalue()))

    job = run(folder_job(photos, stored_zip, source=IngestJob.Source.UPLOAD))

    assert (job.kept, job.rejected) == (3, 0)
    rows = {row.source_id: (row.trainable, row.benchmark_match) for row in photos.images.all()}
    assert rows == {"frames/sharp.png": (False, SHARP), "frames/blurred.png": (False, BLUR), "holiday.jpg": (True, "")}
    assert f"Kept frames/sharp.png, not trainable: it is benchmark image {SHARP}." in job.log
    assert f"Kept frames/blurred.png, not trainable: it is benchmark image {BLUR}." in job.log
    assert photos.counts() == {"kept": 3, "trainable": 1, "benchmark": 2, "rejected": 0}
    page = staff_client.get(reverse("training:dataset", args=["photos"])).content.decode()
    assert f"Is benchmark image {SHARP}: never trained on." in page
    assert "2 benchmark images left out" in page


@pytest.mark.parametrize("scale, quality", [(1.0, 90), (0.98, 95)])
def test_a_reencoded_or_resized_copy_is_caught_by_its_phash(photos, scale, quality):
    row, _ = etl.ingest(photos, candidate(reencoded(frame(SHARP), scale, quality=quality), "copy.jpg"))

    assert (row.status, row.trainable, row.benchmark_match) == ("kept", False, SHARP)


def test_a_dataset_marked_as_a_benchmark_later_is_left_out_of_training_then(photos):
    bench = Dataset.objects.create(name="bench-photos")
    etl.ingest(bench, candidate(photo_jpeg(5), "p5.jpg"))
    for index, raw in enumerate([reencoded(photo_jpeg(5), quality=90), photo_jpeg(6)]):
        row, _ = etl.ingest(photos, candidate(raw, f"p{index}.jpg"))
        assert row.trainable, "not a benchmark yet"

    bench.is_benchmark = True
    bench.save()
    chosen = training_photos("photos")

    assert chosen.used == 1
    assert "1 image(s) of photos are left out: they are benchmark images (p0.jpg is dataset bench-photos/p5.jpg)" in (
        chosen.left_out
    )
    assert "licence" not in chosen.left_out
    left_out = photos.images.get(source_id="p0.jpg")
    assert (left_out.trainable, left_out.benchmark_match) == (False, "dataset bench-photos/p5.jpg")


def test_the_blurred_partner_of_a_benchmark_pair_counts_too(photos):
    pairs = Dataset.objects.create(name="pairs", kind=Dataset.Kind.PAIRS, is_benchmark=True)
    pair, _ = etl.ingest(pairs, candidate(photo_jpeg(1), "scene/1.png", raw_blur=photo_jpeg(2)))
    assert pair.blur_phash
    # As if ingested before the blurred image's pHash was recorded: it is worked out again.
    DatasetImage.objects.filter(pk=pair.pk).update(blur_phash="")

    row, _ = etl.ingest(photos, candidate(reencoded(photo_jpeg(2), quality=90), "copy.jpg"))

    assert (row.trainable, row.benchmark_match) == (False, "dataset pairs/scene/1.png (blurred)")
    pair.refresh_from_db()
    assert pair.blur_phash


def test_an_unrelated_photo_in_a_benchmark_dataset_leaves_other_photos_trainable(photos):
    bench = Dataset.objects.create(name="bench-photos", is_benchmark=True)
    etl.ingest(bench, candidate(photo_jpeg(5), "p5.jpg"))

    row, _ = etl.ingest(photos, candidate(photo_jpeg(6), "p6.jpg"))

    assert (row.trainable, row.benchmark_match) == (True, "")
    assert training_photos("photos").left_out == ""


def test_train_refuses_a_benchmark_frame_copied_into_a_plain_folder(tmp_path):
    folder = tmp_path / "my-photos"
    folder.mkdir()
    for index in range(5):
        (folder / f"photo_{index}.jpg").write_bytes(photo_jpeg(index))
    (folder / "nice.png").write_bytes(frame(BLUR))

    with pytest.raises(CommandError, match=f"nice.png is benchmark image {BLUR}"):
        call_command("train", photos=str(folder), out=str(tmp_path / "run"))


def test_shared_hashes_are_cached_and_a_changed_file_is_hashed_again(benchmarks, monkeypatch):
    first = benchmark_guard.shared_fingerprints()
    hashed = []
    real = benchmark_guard.file_fingerprint

    def counted(path: Path):
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(benchmark_guard, "file_fingerprint", counted)

    assert benchmark_guard.shared_fingerprints() == first
    assert hashed == []

    (benchmarks / SHARP).write_bytes(reencoded(frame(SHARP), quality=80))
    again = benchmark_guard.shared_fingerprints()

    assert hashed == ["000100.png"]
    assert {f.label for f in again} == {SHARP, BLUR}
    assert [f for f in again if f.label == SHARP] != [f for f in first if f.label == SHARP]
