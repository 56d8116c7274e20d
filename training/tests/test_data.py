import json

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from training.data import PhotoBank, list_photos, make_pair, split_holdout, training_dataset, validation_pairs, write_holdout

PHOTOS = {"astronaut": skdata.astronaut, "coffee": skdata.coffee, "chelsea": skdata.chelsea, "rocket": skdata.rocket}


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name, load in PHOTOS.items():
        Image.fromarray(load()).save(folder / f"{name}.jpg", quality=95)
    (folder / "notes.txt").write_text("not a photo")
    return folder


@pytest.fixture(scope="module")
def bank(photo_dir):
    return PhotoBank(list_photos(photo_dir))


def test_only_photos_are_listed(photo_dir):
    assert [p.stem for p in list_photos(photo_dir)] == sorted(PHOTOS)


def test_holdout_is_deterministic_disjoint_and_stable_when_photos_are_added(photo_dir, tmp_path):
    photos = list_photos(photo_dir)
    train, holdout = split_holdout(photos, n_holdout=2, seed=0)

    assert set(holdout) == set(split_holdout(list(reversed(photos)), n_holdout=2, seed=0)[1])
    assert len(holdout) == 2 and not set(train) & set(holdout) and set(train) | set(holdout) == set(photos)
    more = photos + [tmp_path / "zzz-new.jpg"]
    _, holdout_after = split_holdout(more, n_holdout=2, seed=0)
    assert set(holdout_after) <= set(holdout) | {tmp_path / "zzz-new.jpg"}


def test_pairs_are_a_pure_function_of_seed_and_index(bank):
    first = make_pair(bank, seed=3, index=17, patch=64)
    again = make_pair(bank, seed=3, index=17, patch=64)
    other = make_pair(bank, seed=3, index=18, patch=64)

    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])
    blurred, sharp = first
    assert blurred.shape == sharp.shape == (64, 64, 3) and blurred.dtype == sharp.dtype == np.uint8


def test_a_stream_restarted_at_a_step_continues_the_same_data(bank):
    whole = list(training_dataset(bank, patch=32, batch=2, seed=5).take(4).as_numpy_iterator())
    resumed = list(training_dataset(bank, patch=32, batch=2, seed=5, start_step=2).take(2).as_numpy_iterator())

    for (b1, s1), (b2, s2) in zip(whole[2:], resumed):
        assert np.array_equal(b1, b2) and np.array_equal(s1, s2)
    blurred, sharp = whole[0]
    assert blurred.shape == (2, 32, 32, 3) and blurred.dtype == np.float32
    assert 0.0 <= blurred.min() and sharp.max() <= 1.0


def test_blurred_patches_are_blurrier_than_their_targets(bank):
    blurred, sharp = validation_pairs(bank, patch=96, count=8)

    def gradient_energy(x):
        x = x.astype(np.float64)
        return np.mean(np.abs(np.diff(x, axis=1))) + np.mean(np.abs(np.diff(x, axis=2)))

    assert blurred.shape == (8, 96, 96, 3)
    assert gradient_energy(blurred) < gradient_energy(sharp)


def test_holdout_benchmark_is_written_in_the_evaluate_layout(tmp_path, photo_dir):
    holdout = PhotoBank(list_photos(photo_dir)[:1])

    names = write_holdout(holdout, tmp_path)

    assert len(names) == 3
    for name in names:
        blurred, sharp = (Image.open(tmp_path / kind / f"{name}.png") for kind in ("blur", "sharp"))
        assert blurred.size == sharp.size
    assert json.loads((tmp_path / "manifest.json").read_text())["photos"] == ["astronaut.jpg"]
    again = tmp_path / "again"
    write_holdout(holdout, again)
    assert (again / "blur" / f"{names[0]}.png").read_bytes() == (tmp_path / "blur" / f"{names[0]}.png").read_bytes()


def test_make_holdout_command_writes_pairs_of_the_held_out_photos_only(photo_dir, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("make_holdout", photos=str(photo_dir), out=str(tmp_path), stdout=out)

    _, holdout = split_holdout(list_photos(photo_dir))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["photos"] == [p.name for p in holdout]
    assert len(list((tmp_path / "blur").glob("*.png"))) == 3 * len(holdout)
    assert "Wrote 12 pairs" in out.getvalue()
