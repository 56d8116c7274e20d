"""Datasets from the command line, and datasets feeding `train --dataset` and
`evaluate --dataset`: import_pairs (a small GoPro-layout folder and the real
gopro-real benchmark), import_photos, and the licence check before training."""

import io
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image, ImageFilter

from inference.tests.image_files import encode
from training.ingestion import etl
from training.ingestion.datasets import DatasetUnusable, benchmark_folder, training_photos
from training.models import Dataset
from training.ingestion.sources import UNSPLASH_LICENCE
from training.tests.fake_unsplash import photo_jpeg

@pytest.fixture(autouse=True)
def _setup(datasets, enqueued):
    """Every test: the datasets storage and the local cache in a temp folder, and no
    message sent to a real queue."""


def command(name: str, *args, **options) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def sharp_png(index: int) -> bytes:
    return encode(Image.open(io.BytesIO(photo_jpeg(index))).convert("RGB"), "PNG")


def blurred_png(index: int, size: tuple[int, int] | None = None) -> bytes:
    image = Image.open(io.BytesIO(photo_jpeg(index))).convert("RGB").filter(ImageFilter.GaussianBlur(2))
    return encode(image.resize(size) if size else image, "PNG")


def gopro_folder(root: Path) -> Path:
    """Two scenes of pairs, one sharp frame without its blurred partner and one pair whose sizes differ."""
    for scene, frames in (("GOPR0372_07_00", [0, 1]), ("GOPR0384_11_01", [2, 3, 4, 5])):
        for sub in ("blur", "sharp", "blur_gamma"):
            (root / scene / sub).mkdir(parents=True)
        for index in frames:
            name = f"{index:06d}.png"
            (root / scene / "sharp" / name).write_bytes(sharp_png(index))
            if index == 4:
                continue  # no blurred partner
            size = (400, 296) if index == 5 else None
            (root / scene / "blur" / name).write_bytes(blurred_png(index, size))
            (root / scene / "blur_gamma" / name).write_bytes(blurred_png(index, size))
    return root


def photo_folder(folder: Path, count: int, first: int = 0) -> Path:
    folder.mkdir(parents=True)
    for index in range(first, first + count):
        (folder / f"photo_{index}.jpg").write_bytes(photo_jpeg(index))
    return folder


def mean_figures(evaluate_output: str) -> list[str]:
    """The mean line's PSNR and SSIM figures (the baseline's seconds vary from run to run)."""
    mean = next(line for line in evaluate_output.splitlines() if line.startswith("mean")).split()
    return mean[1:5]


# import_pairs


def test_import_pairs_on_a_gopro_layout_folder(tmp_path):
    folder = gopro_folder(tmp_path / "GOPRO_Large" / "test")

    output = command("import_pairs", str(folder), dataset="gopro-mini", benchmark=True)

    assert "Created dataset gopro-mini." in output
    assert "4 kept, 2 rejected" in output and "succeeded" in output
    assert "rejected as no_partner: 1" in output and "rejected as size_mismatch: 1" in output
    assert "  no partner: GOPR0384_11_01/000004.png" in output
    dataset = Dataset.objects.get(name="gopro-mini")
    assert (dataset.kind, dataset.is_benchmark) == (Dataset.Kind.PAIRS, True)
    row = dataset.images.get(source_id="GOPR0372_07_00/000001.png")
    assert row.processed and row.processed_blur and (row.width, row.height) == (400, 300)

    # Again: everything is skipped, nothing is added.
    again = command("import_pairs", str(folder), dataset="gopro-mini")
    assert "0 kept, 0 rejected" in again and "Created dataset" not in again
    assert dataset.images.count() == 6

    bench = benchmark_folder("gopro-mini")
    names = ["GOPR0372_07_00__000000.png", "GOPR0372_07_00__000001.png", "GOPR0384_11_01__000002.png",
             "GOPR0384_11_01__000003.png"]  # fmt: skip
    assert sorted(p.name for p in (bench / "sharp").iterdir()) == names
    assert sorted(p.name for p in (bench / "blur").iterdir()) == names


def test_import_pairs_refuses_a_photo_dataset_and_a_missing_folder(tmp_path):
    Dataset.objects.create(name="photos")
    with pytest.raises(CommandError, match="holds sharp photos, not pairs"):
        command("import_pairs", str(gopro_folder(tmp_path / "g")), dataset="photos")
    with pytest.raises(CommandError, match="is not a folder"):
        command("import_pairs", str(tmp_path / "nowhere"), dataset="pairs")


def test_a_paired_dataset_evaluates_as_the_folder_it_came_from(tmp_path):
    """The processed pairs are pixel-exact copies: `evaluate --dataset` scores what
    `evaluate FOLDER` scores (on ../shared/benchmarks/gopro-real too, see docs/benchmarks.md)."""
    folder = tmp_path / "flat"
    for sub in ("blur", "sharp"):
        (folder / sub).mkdir(parents=True)
    for index in range(3):
        (folder / "sharp" / f"{index:06d}.png").write_bytes(sharp_png(index))
        (folder / "blur" / f"{index:06d}.png").write_bytes(blurred_png(index))
    assert "3 kept, 0 rejected" in command("import_pairs", str(folder), dataset="flat", benchmark=True)

    from_dataset = command("evaluate", dataset="flat", no_model=True)
    from_folder = command("evaluate", str(folder), no_model=True)

    assert mean_figures(from_dataset) == mean_figures(from_folder)
    assert float(mean_figures(from_folder)[0]) < 40  # the blur is there to score
    assert len([line for line in from_dataset.splitlines() if line.startswith("000")]) == 3


def test_evaluate_refuses_an_unknown_or_photo_dataset(tmp_path):
    Dataset.objects.create(name="photos")
    for name in ("photos", "nope"):
        with pytest.raises(CommandError, match=f"No paired dataset named {name}"):
            command("evaluate", dataset=name, no_model=True)


# import_photos


def test_import_photos_from_a_folder(tmp_path):
    folder = photo_folder(tmp_path / "photos", 4)
    (folder / "photo_0 copy.jpg").write_bytes(photo_jpeg(0))
    (folder / "readme.md").write_text("# my photos")
    (folder / "thumb.jpg").write_bytes(encode(Image.open(io.BytesIO(photo_jpeg(9))).resize((120, 90)), "JPEG"))

    output = command("import_photos", str(folder), dataset="mine", licence="CC0 1.0")

    assert "Created dataset mine." in output
    assert "4 kept, 3 rejected" in output
    for reason in ("duplicate", "too_small", "unsupported_type"):
        assert f"rejected as {reason}: 1" in output
    dataset = Dataset.objects.get(name="mine")
    assert dataset.counts() == {"kept": 4, "trainable": 4, "benchmark": 0, "rejected": 3}
    assert set(dataset.images.values_list("licence", flat=True)) == {"CC0 1.0"}


def test_import_photos_needs_a_licence(tmp_path):
    with pytest.raises(CommandError, match="--licence"):
        command("import_photos", str(photo_folder(tmp_path / "p", 1)), dataset="mine")


# Training on a dataset


def add_photos(dataset: Dataset, indexes, **fields) -> None:
    for index in indexes:
        row, _ = etl.ingest(dataset, etl.Candidate(raw=photo_jpeg(index), source_id=f"p{index}", **fields))
        assert row.status == "kept"


def unsplash(dataset: Dataset, indexes, licence_basis: str = "") -> None:
    add_photos(dataset, indexes, source="unsplash", licence=UNSPLASH_LICENCE, trainable=bool(licence_basis))


def test_training_photos_leaves_out_non_trainable_ones_and_says_why(tmp_path):
    dataset = Dataset.objects.create(name="mixed")
    add_photos(dataset, range(3), source="folder", licence="CC0 1.0", trainable=True)
    unsplash(dataset, range(3, 5))

    chosen = training_photos("mixed")

    assert chosen.used == 3
    assert sorted(p.name for p in chosen.folder.iterdir()) == sorted(
        f"{row.checksum}.png" for row in dataset.images.filter(trainable=True)
    )
    assert "2 image(s) of mixed are left out" in chosen.left_out
    assert UNSPLASH_LICENCE in chosen.left_out
    assert "Unsplash's API guidelines do not allow training" in chosen.left_out
    assert "licence basis" in chosen.left_out


def test_training_photos_refuses_a_dataset_with_nothing_trainable(tmp_path):
    unsplash(Dataset.objects.create(name="unsplash-only"), range(2))

    with pytest.raises(DatasetUnusable) as caught:
        training_photos("unsplash-only")

    message = str(caught.value)
    assert message.startswith("unsplash-only has no trainable photos.")
    assert "Unsplash's API guidelines" in message and "licence" in message


def test_training_photos_refuses_pairs_and_unknown_names():
    Dataset.objects.create(name="bench", kind=Dataset.Kind.PAIRS)
    with pytest.raises(DatasetUnusable, match="paired dataset"):
        training_photos("bench")
    with pytest.raises(DatasetUnusable, match="No dataset named nope"):
        training_photos("nope")


def test_train_command_refuses_a_dataset_without_trainable_photos(tmp_path):
    unsplash(Dataset.objects.create(name="unsplash-only"), range(2))

    with pytest.raises(CommandError, match="no trainable photos.*Unsplash's API guidelines"):
        call_command("train", dataset="unsplash-only", out=str(tmp_path / "run"), stdout=StringIO(), stderr=StringIO())


def test_train_command_trains_on_the_trainable_photos_of_a_dataset(tmp_path, capsys):
    dataset = Dataset.objects.create(name="trainable")
    add_photos(dataset, range(5), source="folder", licence="CC0 1.0", trainable=True)
    unsplash(dataset, range(5, 7))
    out, err = StringIO(), StringIO()

    call_command(
        "train", dataset="trainable", out=str(tmp_path / "run"), steps=1, batch=1, patch=32,
        checkpoint_every=1, validate_every=1, width=4, enc_blocks=(1,), middle_blocks=1, dec_blocks=(1,),
        stdout=out, stderr=err,
    )  # fmt: skip

    assert "Training on 5 photos of dataset trainable" in out.getvalue()
    assert "Trained 1 + 0 steps" in out.getvalue()
    assert "2 image(s) of trainable are left out" in err.getvalue()
    assert (tmp_path / "run" / "generator.keras").is_file()
