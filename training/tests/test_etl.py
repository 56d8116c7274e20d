"""The ingestion pipeline step by step, each rejection reason with a real bad file, the
folder, zip and paired sources, and stopping and resuming a job."""

import hashlib
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageFilter
from skimage import data as skdata

from deblursite.storage import datasets_storage
from inference.tests.image_files import encode, noise, png, swapped_primaries_icc
from training.ingestion import etl
from training.ingestion import jobs as ingest
from training.models import Dataset, DatasetImage, IngestJob
from training.tests.fake_unsplash import photo_jpeg

Reason = DatasetImage.Reason
Status = IngestJob.Status
RED, GREEN = (200, 0, 0), (0, 200, 0)


@pytest.fixture(autouse=True)
def _setup(datasets, enqueued):
    """Every test: the datasets storage in a temp folder, and no message sent to a real queue."""


@pytest.fixture
def photos(db) -> Dataset:
    return Dataset.objects.create(name="photos")


@pytest.fixture
def pairs(db) -> Dataset:
    return Dataset.objects.create(name="pairs", kind=Dataset.Kind.PAIRS)


def photo(index: int = 0) -> bytes:
    """A distinct 400x300 JPEG photo."""
    return photo_jpeg(index)


def as_png(raw: bytes, size: tuple[int, int] | None = None) -> bytes:
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    return encode(image.resize(size) if size else image, "PNG")


def candidate(raw: bytes | None, source_id: str = "a.jpg", **fields) -> etl.Candidate:
    return etl.Candidate("folder", source_id, raw, fields.pop("licence", "CC0 1.0"), fields.pop("trainable", True), **fields)


def ingested(dataset: Dataset, raw: bytes, source_id: str = "a.jpg", **fields) -> DatasetImage:
    row, made = etl.ingest(dataset, candidate(raw, source_id, **fields))
    assert made
    return row


def rejected(dataset: Dataset, raw: bytes | None, source_id: str = "a.jpg", **fields) -> DatasetImage:
    row = ingested(dataset, raw, source_id, **fields)
    assert row.status == DatasetImage.Status.REJECTED, "the file was kept"
    assert not row.stored_files()
    return row


def stored(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def opened(field) -> Image.Image:
    with field.open("rb") as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
        return image


def astronaut(size: int = 512, quality: int = 95) -> bytes:
    image = Image.fromarray(skdata.astronaut())
    if size != 512:
        image = image.resize((size, size), Image.Resampling.BICUBIC)
    return encode(image, "JPEG", quality=quality)


# Rejections, one real bad file each


@pytest.mark.parametrize(
    "raw",
    [photo()[: len(photo()) // 2], photo()[:600] + bytes(range(256)) * 16, b""],
    ids=["truncated-jpeg", "jpeg-garbage-after-header", "empty"],
)
def test_a_damaged_file_is_rejected_as_corrupt(photos, raw):
    row = rejected(photos, raw)
    assert row.rejection_reason == Reason.CORRUPT
    assert row.rejection_detail in ("The file is damaged or incomplete and cannot be read as an image.", "The file is empty.")
    assert row.bytes == len(raw)


@pytest.mark.parametrize(
    "raw",
    [b"Dear diary, today I took no photos.\n", encode(noise(size=(300, 300)), "GIF")],
    ids=["text-named-jpg", "gif"],
)
def test_a_file_of_another_type_is_rejected_naming_the_accepted_types(photos, raw):
    row = rejected(photos, raw, "photo.jpg")
    assert row.rejection_reason == Reason.UNSUPPORTED
    assert "JPEG, PNG, WebP, TIFF or HEIC" in row.rejection_detail


def test_a_file_over_the_byte_limit_is_rejected(photos, settings):
    big = encode(noise(size=(400, 400), seed=3), "JPEG", quality=95)
    settings.DATASET_MAX_BYTES = len(big) - 1

    row = rejected(photos, big)

    assert row.rejection_reason == Reason.TOO_LARGE
    assert "larger than" in row.rejection_detail


def test_a_decompression_bomb_is_rejected_as_too_large_without_decoding(photos):
    bomb = png(100_000, 100_000, 8, 0, [b"\x00" * 100])  # 10 gigapixels in a few bytes
    assert len(bomb) < 200

    row = rejected(photos, bomb)

    assert row.rejection_reason == Reason.TOO_LARGE
    assert "megapixels" in row.rejection_detail


def test_an_image_over_the_pixel_limit_is_rejected(photos, settings):
    settings.DATASET_MAX_PIXELS = 400 * 300 - 1
    row = rejected(photos, photo())
    assert row.rejection_reason == Reason.TOO_LARGE


def test_a_small_image_is_rejected(photos, settings):
    small = encode(Image.open(io.BytesIO(photo())).resize((300, 200)), "JPEG")

    row = rejected(photos, small)

    assert row.rejection_reason == Reason.TOO_SMALL
    assert row.rejection_detail == "300×200 is under the 256 px minimum side."
    settings.DATASET_MIN_SIDE = 200
    assert ingested(photos, small, "b.jpg").status == DatasetImage.Status.KEPT


def test_the_same_file_twice_is_an_exact_duplicate(photos):
    first = ingested(photos, photo(), "holiday/a.jpg")

    row = rejected(photos, photo(), "copy of a.jpg")

    assert first.status == DatasetImage.Status.KEPT
    assert row.rejection_reason == Reason.DUPLICATE
    assert row.rejection_detail == "Same file as holiday/a.jpg."


def test_the_same_photo_resized_and_reencoded_is_a_near_duplicate(photos):
    first = ingested(photos, astronaut(), "astronaut.jpg")
    smaller_and_worse = astronaut(size=470, quality=40)
    assert smaller_and_worse != astronaut()

    row = rejected(photos, smaller_and_worse, "astronaut-small.jpg")

    assert first.status == DatasetImage.Status.KEPT
    assert row.rejection_reason == Reason.NEAR_DUPLICATE
    assert row.rejection_detail == "Looks the same as astronaut.jpg."
    # Another photo is not.
    assert ingested(photos, encode(Image.fromarray(skdata.coffee()), "JPEG"), "coffee.jpg").status == "kept"


def test_check_transform_and_hash_each_work_alone(photos, settings):
    settings.DATASET_MAX_SIDE = 200
    checked = etl.check(photos, candidate(photo()))

    assert checked.checksum == hashlib.sha256(photo()).hexdigest()
    assert (checked.image.mode, checked.image.size, checked.blur) == ("RGB", (400, 300), None)
    assert etl.transform(checked.image).size == (200, 150)
    assert etl.transform(Image.new("RGB", (150, 100))).size == (150, 100)  # never enlarged
    assert etl.near_duplicate_of(photos, etl.perceptual_hash(checked.image)) is None
    with pytest.raises(etl.Rejected) as caught:
        etl.check(photos, candidate(None, failure=(Reason.DOWNLOAD_FAILED, "gone")))
    assert (caught.value.reason, caught.value.detail) == (Reason.DOWNLOAD_FAILED, "gone")


# Transformations


def test_the_exif_orientation_is_applied(photos):
    image = Image.new("RGB", (400, 300), "white")
    image.paste(RED, (0, 0, 60, 60))  # top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned a quarter to the right
    raw = encode(image, "JPEG", quality=95, exif=exif)

    row = ingested(photos, raw)

    processed = opened(row.processed)
    assert (row.width, row.height) == processed.size == (300, 400)
    assert np.abs(np.asarray(processed.getpixel((270, 30))) - RED).max() <= 8  # now top-right
    assert processed.getpixel((30, 30)) == (255, 255, 255)


def test_colours_are_converted_to_srgb_from_the_icc_profile(photos):
    # Tagged with a profile whose red primary is sRGB's green.
    raw = encode(Image.new("RGB", (300, 300), RED), "JPEG", quality=95, icc_profile=swapped_primaries_icc())

    row = ingested(photos, raw)

    processed = opened(row.processed)
    assert np.abs(np.asarray(processed).astype(int) - GREEN).max() <= 4
    assert "icc_profile" not in processed.info
    with row.raw.open("rb") as file:
        assert file.read() == raw  # the raw copy is untouched


def test_a_16_bit_png_becomes_8_bit_rgb(photos):
    values = np.zeros((300, 300, 3), dtype=np.uint16)
    values[..., 0] = np.linspace(0, 65535, 300, dtype=np.uint16)[None, :]
    values[..., 1] = 32896
    raw = png(300, 300, 16, 2, [row.astype(">u2").tobytes() for row in values])

    row = ingested(photos, raw)

    processed = opened(row.processed)
    assert processed.mode == "RGB"
    pixels = np.asarray(processed)
    assert pixels.dtype == np.uint8
    assert tuple(pixels[0, 0]) == (0, 128, 0) and tuple(pixels[0, -1]) == (255, 128, 0)


def test_a_greyscale_photo_becomes_rgb(photos):
    raw = encode(Image.open(io.BytesIO(photo())).convert("L"), "PNG")
    assert opened(ingested(photos, raw).processed).mode == "RGB"


def test_the_long_side_is_capped(photos, settings):
    settings.DATASET_MAX_SIDE = 320
    raw = encode(Image.open(io.BytesIO(photo(5))).resize((640, 400)), "PNG")

    row = ingested(photos, raw)

    assert (row.width, row.height) == (320, 200)
    assert opened(row.processed).size == (320, 200)
    assert opened(row.raw).size == (640, 400)


# Load: the stored copies and the manifest row


def test_raw_and_processed_copies_are_stored_and_the_manifest_row_filled(photos, datasets):
    raw = photo(7)
    digest = hashlib.sha256(raw).hexdigest()

    row = ingested(photos, raw, "trips/alps.jpg", licence="CC BY 4.0", attribution={"photographer": "Ann"})

    row.refresh_from_db()
    assert row.raw.name == f"raw/photos/{digest}.jpg"
    assert row.processed.name == f"processed/photos/{digest}.png"
    assert row.thumbnail.name == f"thumbnails/photos/{digest}.jpg"
    assert stored(datasets) == [
        f"processed/photos/{digest}.png", f"raw/photos/{digest}.jpg", f"thumbnails/photos/{digest}.jpg",
    ]  # fmt: skip
    assert (datasets / row.raw.name).read_bytes() == raw
    processed = Image.open(datasets / row.processed.name)
    assert (processed.format, processed.mode, processed.size) == ("PNG", "RGB", (400, 300))
    assert (row.dataset, row.source, row.source_id, row.status, row.rejection_reason) == (
        photos, "folder", "trips/alps.jpg", "kept", "",
    )  # fmt: skip
    assert (row.checksum, row.width, row.height, row.bytes) == (digest, 400, 300, len(raw))
    assert (row.licence, row.trainable, row.attribution) == ("CC BY 4.0", True, {"photographer": "Ann"})
    assert len(row.phash) == 16


def test_ingesting_the_same_item_again_does_nothing(photos, datasets):
    first, made = etl.ingest(photos, candidate(photo(), "a.jpg"))
    files = stored(datasets)

    again, made_again = etl.ingest(photos, candidate(photo(), "a.jpg"))

    assert (made, made_again) == (True, False)
    assert again.pk == first.pk
    assert stored(datasets) == files
    assert photos.images.count() == 1
    # A rejected item is not looked at again either.
    etl.ingest(photos, candidate(b"not an image", "b.jpg"))
    assert etl.ingest(photos, candidate(photo(3), "b.jpg"))[0].status == "rejected"


def test_the_same_file_may_be_in_two_datasets(photos):
    other = Dataset.objects.create(name="other")
    assert ingested(photos, photo()).status == ingested(other, photo()).status == "kept"


# Sources


def folder_job(dataset: Dataset, path: Path, source=IngestJob.Source.FOLDER, licence="CC0 1.0") -> IngestJob:
    return IngestJob.objects.create(dataset=dataset, source=source, path=str(path), licence=licence)


def run(job: IngestJob, progress=None) -> IngestJob:
    done = ingest.run(job.pk, progress)
    assert done is not None
    return done


def rows(dataset: Dataset) -> dict[str, str]:
    return {row.source_id: row.rejection_reason or row.status for row in dataset.images.all()}


def test_a_folder_with_subfolders_and_hidden_files(photos, tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / ".thumbnails").mkdir()
    (folder / "a.jpg").write_bytes(photo(0))
    (folder / "sub" / "b.png").write_bytes(as_png(photo(1)))
    (folder / "sub" / "deeper" / "c.jpeg").write_bytes(photo(2))
    (folder / "sub" / "again.jpg").write_bytes(photo(0))
    (folder / "notes.txt").write_text("holiday notes")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "sub" / "._b.png").write_bytes(b"\x00\x05\x16\x07")
    (folder / ".thumbnails" / "a.jpg").write_bytes(photo(3))

    job = run(folder_job(photos, folder))

    assert job.status == Status.SUCCEEDED
    assert rows(photos) == {
        "a.jpg": "kept",
        "notes.txt": Reason.UNSUPPORTED,
        "sub/again.jpg": Reason.DUPLICATE,
        "sub/b.png": "kept",
        "sub/deeper/c.jpeg": "kept",
    }
    assert (job.total, job.seen, job.kept, job.rejected) == (5, 5, 3, 2)
    assert all(row.licence == "CC0 1.0" and row.trainable for row in photos.images.filter(status="kept"))
    assert "Rejected notes.txt: Not an accepted image type." in job.log


def test_a_big_file_in_a_folder_is_rejected_without_reading_it(photos, tmp_path, settings, monkeypatch):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "big.jpg").write_bytes(encode(noise(size=(400, 400), seed=3), "JPEG", quality=95))
    (folder / "ok.jpg").write_bytes(photo(1))
    settings.DATASET_MAX_BYTES = 100_000
    assert len(photo(1)) <= settings.DATASET_MAX_BYTES < (folder / "big.jpg").stat().st_size
    read = []
    real_read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda path: read.append(path.name) or real_read_bytes(path))

    run(folder_job(photos, folder))

    assert rows(photos) == {"big.jpg": Reason.TOO_LARGE, "ok.jpg": "kept"}
    assert read == ["ok.jpg"]


def test_a_zip_of_photos(photos, settings, monkeypatch):
    archive = io.BytesIO()
    big = encode(noise(size=(600, 600), seed=9), "PNG")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.jpg", photo(0))
        zf.writestr("album/b.png", as_png(photo(1)))
        zf.writestr("album/", b"")
        zf.writestr("__MACOSX/album/._b.png", b"\x00\x05\x16\x07 resource fork")
        zf.writestr("broken.jpg", photo(2)[:3000])
        zf.writestr("big.png", big, compress_type=zipfile.ZIP_DEFLATED)
    # An uploaded zip is kept in the datasets storage; the job names it there.
    stored_zip = datasets_storage.save("uploads/photos.zip", ContentFile(archive.getvalue()))
    settings.DATASET_MAX_BYTES = len(big) - 1
    opened_members = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened_members.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)

    job = run(folder_job(photos, stored_zip, source=IngestJob.Source.UPLOAD))

    assert job.status == Status.SUCCEEDED
    assert rows(photos) == {
        "a.jpg": "kept",
        "album/b.png": "kept",
        "big.png": Reason.TOO_LARGE,
        "broken.jpg": Reason.CORRUPT,
    }
    assert "big.png" not in opened_members
    assert photos.images.get(source_id="album/b.png").source == "upload"
    assert job.total == 4


def write_pair(folder: Path, name: str, sharp: bytes | None, blur: bytes | None) -> None:
    for sub, raw in (("sharp", sharp), ("blur", blur)):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        if raw is not None:
            (folder / sub / name).write_bytes(raw)


def blurred(raw: bytes, size: tuple[int, int] | None = None) -> bytes:
    image = Image.open(io.BytesIO(raw)).convert("RGB").filter(ImageFilter.GaussianBlur(3))
    return encode(image.resize(size) if size else image, "PNG")


def test_pairs_in_the_gopro_layout(pairs, tmp_path):
    root = tmp_path / "GOPRO"
    # Frames of a video look alike: both are kept in a paired set.
    write_pair(root / "GOPR0001", "000001.png", as_png(photo(0)), blurred(photo(0)))
    frame = Image.open(io.BytesIO(photo(0))).convert("RGB").rotate(1)
    write_pair(root / "GOPR0001", "000002.png", encode(frame, "PNG"), blurred(encode(frame, "PNG")))
    write_pair(root / "GOPR0002", "000001.png", as_png(photo(1)), blurred(photo(1)))
    write_pair(root / "GOPR0002", "000002.png", as_png(photo(2)), None)
    write_pair(root / "GOPR0002", "000003.png", None, blurred(photo(3)))
    write_pair(root / "GOPR0002", "000004.png", as_png(photo(4)), blurred(photo(4), size=(398, 300)))
    (root / "README.txt").write_text("not a scene")

    job = run(folder_job(pairs, root, source=IngestJob.Source.PAIRS, licence=""))

    assert job.status == Status.SUCCEEDED
    assert rows(pairs) == {
        "GOPR0001/000001.png": "kept",
        "GOPR0001/000002.png": "kept",
        "GOPR0002/000001.png": "kept",
        "GOPR0002/000002.png": Reason.NO_PARTNER,
        "GOPR0002/000003.png": Reason.NO_PARTNER,
        "GOPR0002/000004.png": Reason.SIZE_MISMATCH,
    }
    details = {row.source_id: row.rejection_detail for row in pairs.images.filter(status="rejected")}
    assert details["GOPR0002/000002.png"] == "No blurred partner for GOPR0002/000002.png."
    assert details["GOPR0002/000003.png"] == "No sharp partner for GOPR0002/000003.png."
    assert details["GOPR0002/000004.png"] == "Blurred 398×300 but sharp 400×300."
    row = pairs.images.get(source_id="GOPR0002/000001.png")
    assert row.raw.name.startswith("raw/pairs/") and row.raw_blur.name.endswith("-blur.png")
    assert row.processed.name.startswith("processed/pairs/") and row.processed_blur.name.endswith("-blur.png")
    assert opened(row.processed).size == opened(row.processed_blur).size == (400, 300)
    with row.raw_blur.open("rb") as file:
        assert file.read() == blurred(photo(1))
    assert not row.trainable  # no licence given


def test_pairs_in_a_flat_layout(pairs, tmp_path):
    root = tmp_path / "flat"
    write_pair(root, "a.png", as_png(photo(0)), blurred(photo(0)))
    write_pair(root, "b.png", as_png(photo(1)), blurred(photo(1)))
    write_pair(root, "c.png", None, blurred(photo(2)))

    job = run(folder_job(pairs, root, source=IngestJob.Source.PAIRS, licence="CC BY 4.0"))

    assert rows(pairs) == {"a.png": "kept", "b.png": "kept", "c.png": Reason.NO_PARTNER}
    assert (job.kept, job.rejected) == (2, 1)
    assert all(row.trainable and row.licence == "CC BY 4.0" for row in pairs.images.filter(status="kept"))


def test_a_pair_of_different_sizes_is_rejected_by_check(pairs):
    pair = candidate(as_png(photo(0)), "x.png", raw_blur=blurred(photo(0), size=(400, 299)))
    with pytest.raises(etl.Rejected) as caught:
        etl.check(pairs, pair)
    assert caught.value.reason == Reason.SIZE_MISMATCH


# Jobs: stop, resume, pause


def test_a_job_stopped_midway_continues_where_it_stopped(photos, tmp_path, enqueued, django_capture_on_commit_callbacks):
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(5):
        (folder / f"{index}.jpg").write_bytes(photo(index))

    def stop_after_two(job: IngestJob) -> None:
        if job.seen == 2:
            ingest.stop(job)

    job = run(folder_job(photos, folder), progress=stop_after_two)

    assert job.status == Status.STOPPED
    assert sorted(rows(photos)) == ["0.jpg", "1.jpg"]
    assert (job.seen, job.kept) == (2, 2)

    with django_capture_on_commit_callbacks(execute=True):
        ingest.resume(job)
    assert enqueued == [(job.pk, None)]
    seen_again = []
    job = run(job, progress=lambda j: seen_again.append(j.seen))

    assert job.status == Status.SUCCEEDED
    assert sorted(rows(photos)) == [f"{i}.jpg" for i in range(5)]
    assert set(rows(photos).values()) == {"kept"}
    assert (job.seen, job.kept, job.rejected) == (5, 5, 0)
    assert seen_again == [2, 2, 3, 4, 5]  # the first two are skipped, not counted again
    assert "Continuing." in job.log


def test_a_finished_stopped_or_live_job_is_not_claimed_again(photos):
    for status in (Status.SUCCEEDED, Status.STOPPED, Status.FAILED):
        job = IngestJob.objects.create(dataset=photos, source=IngestJob.Source.FOLDER, status=status)
        assert ingest.claim(job.pk) is None
    live = IngestJob.objects.create(
        dataset=photos, source=IngestJob.Source.FOLDER, status=Status.RUNNING, heartbeat_at=timezone.now()
    )
    assert ingest.claim(live.pk) is None
    assert ingest.claim(10**9) is None


def test_a_running_job_whose_worker_died_is_claimed_again(photos, settings):
    quiet_since = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 5)
    job = IngestJob.objects.create(
        dataset=photos, source=IngestJob.Source.FOLDER, status=Status.RUNNING, heartbeat_at=quiet_since, seen=3
    )

    claimed = ingest.claim(job.pk)

    assert claimed.status == Status.RUNNING and claimed.heartbeat_at > quiet_since
    assert "Continuing." in claimed.log


def test_resume_due_queues_only_paused_jobs_whose_pause_is_over_and_dead_ones(photos, enqueued, settings):
    now = timezone.now()

    def job(status, resume_at=None) -> IngestJob:
        return IngestJob.objects.create(dataset=photos, source=IngestJob.Source.UNSPLASH, status=status, resume_at=resume_at)

    due = job(Status.PAUSED, now - timedelta(minutes=1))
    job(Status.PAUSED, now + timedelta(minutes=30))
    job(Status.STOPPED)
    job(Status.QUEUED)
    job(Status.SUCCEEDED, now - timedelta(hours=2))
    live = job(Status.RUNNING)
    IngestJob.objects.filter(pk=live.pk).update(heartbeat_at=now)
    assert ingest.resume_due() == [due.pk]
    assert enqueued == [(due.pk, None)]
    # A running job whose worker stopped sending progress is queued again too.
    dead = job(Status.RUNNING)
    IngestJob.objects.filter(pk=dead.pk).update(heartbeat_at=now - timedelta(seconds=settings.JOB_STALE_SECONDS + 5))
    enqueued.clear()
    assert sorted(ingest.resume_due()) == [due.pk, dead.pk]
    assert sorted(enqueued) == [(due.pk, None), (dead.pk, None)]
    claimed = ingest.claim(due.pk)
    assert (claimed.status, claimed.resume_at) == (Status.RUNNING, None)


def test_an_unexpected_error_fails_the_job_with_the_reason(photos, tmp_path):
    job = run(folder_job(photos, tmp_path / "gone"))

    assert job.status == Status.FAILED
    assert job.error == f"FileNotFoundError: No folder at {tmp_path / 'gone'}."
    assert job.finished_at is not None
