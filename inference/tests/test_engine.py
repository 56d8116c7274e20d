import os
import pickle

import keras
import numpy as np
import pytest
from skimage import data

from inference import engine, nets
from inference.engine import NoModelInstalled, deblur, load_model, load_version, serving_version
from inference.metrics import psnr
from inference.registry import register_model

PHOTO = data.astronaut()[100:260, 150:350]  # 160x200


@pytest.fixture
def tiny_model(tiny_model_file):
    return load_model(tiny_model_file)


def local_net() -> keras.Model:
    """Three 3x3 convolutions: each output pixel sees only its 7x7 neighbourhood."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(None, None, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    outputs = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def test_tiles_reproduce_a_local_net_exactly():
    # An overlap of 16 discards 4 pixels at each inner tile edge, more than the net's reach
    # of 3, so every blended pixel was computed from its real neighbourhood.
    model = local_net()
    whole = deblur(model, PHOTO, tile=256)
    tiled = deblur(model, PHOTO, tile=48, overlap=16)

    assert np.abs(whole.astype(int) - tiled).max() <= 1


def test_tiles_closely_reproduce_nafnet():
    """NAFNet's channel attention pools over the whole input, so a tile sees its own
    statistics instead of the image's and tiling cannot be exact. With the block scales
    set to random values (untrained they are zero and the blocks do nothing), tiles of 96
    overlapping by 32 measured 46 to 63 dB against the whole image over eight seeds, and
    the same tiles without overlap, whose seams show, 28 to 31 dB. 40 dB (an RMS error of
    2.5 grey levels) separates the two."""
    keras.utils.set_random_seed(0)
    model = nets.build_nafnet()
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, nets.LayerScale):
            layer.set_weights([rng.normal(0.0, 0.1, layer.scale.shape)])
    whole = deblur(model, PHOTO, tile=256)
    tiled = deblur(model, PHOTO, tile=96, overlap=32)

    assert psnr(whole, PHOTO) < 30  # the net really changes the image
    assert psnr(whole, tiled) > 40


@pytest.mark.parametrize("height, width", [(1, 1), (5, 7), (37, 53), (70, 33)])
def test_any_size_comes_back_at_its_size(tiny_model, height, width):
    image = PHOTO[:height, :width]
    deblurgan = nets.build_deblurgan(filters=4, n_blocks=1)

    for model, tile, overlap in ((tiny_model, 512, 32), (tiny_model, 24, 8), (deblurgan, 24, 8)):
        restored = deblur(model, image, tile=tile, overlap=overlap)
        assert restored.shape == image.shape
        assert restored.dtype == np.uint8


def test_progress_rises_tile_by_tile_to_one(tiny_model):
    fractions = []
    deblur(tiny_model, PHOTO[:100, :130], tile=64, overlap=16, progress=fractions.append)

    # Two rows of tiles 60 high and three columns 56 wide (64 shrunk to fit evenly).
    assert fractions == pytest.approx([1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0])


def test_strength_blends_with_the_input(tiny_model):
    full = deblur(tiny_model, PHOTO, tile=64, overlap=16)
    half = deblur(tiny_model, PHOTO, tile=64, overlap=16, strength=0.5)
    none = deblur(tiny_model, PHOTO, tile=64, overlap=16, strength=0.0)

    assert np.array_equal(none, PHOTO)
    assert not np.array_equal(full, PHOTO)
    assert np.abs(half - (PHOTO.astype(float) + full) / 2).max() <= 1


@pytest.mark.parametrize(
    "image, tile, overlap",
    [
        (PHOTO.astype(np.float32), 64, 16),
        (PHOTO[..., 0], 64, 16),
        (PHOTO, 64, 32),
    ],
)
def test_bad_arguments_are_refused(tiny_model, image, tile, overlap):
    with pytest.raises(ValueError):
        deblur(tiny_model, image, tile=tile, overlap=overlap)


@pytest.mark.parametrize("choice, label", [("best", "Best quality"), ("fast", "Fast")])
def test_no_model_serving_the_choice_says_which(db, choice, label):
    with pytest.raises(NoModelInstalled, match=f'No model serves "{label}" yet. An administrator must choose one'):
        serving_version(choice)


def test_no_model_installed_survives_pickling(db):
    with pytest.raises(NoModelInstalled) as raised:
        serving_version("fast")

    # Celery stores a task's exception by pickling it.
    error = pickle.loads(pickle.dumps(raised.value))

    assert str(error) == str(raised.value)


def test_load_model_loads_once_and_again_after_a_change(tmp_path, tiny_model_file):
    path = tmp_path / "model.keras"
    path.write_bytes(tiny_model_file.read_bytes())
    first = load_model(path)

    assert load_model(str(path)) is first

    nets.build_nafnet(width=4, enc_blocks=(1,), middle_blocks=1, dec_blocks=(1,)).save(path)
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 1_000_000_000))
    second = load_model(path)

    assert second is not first
    assert second.count_params() < first.count_params()


def test_load_version_from_the_filesystem(active_model, tiny_model, settings):
    settings.INFERENCE_PRECISION = "float32"  # the file's own weights, whatever the CPU
    model = load_version(serving_version())

    assert model.count_params() == active_model.parameter_count
    assert np.array_equal(deblur(model, PHOTO[:40, :40]), deblur(tiny_model, PHOTO[:40, :40]))


@pytest.mark.parametrize(("setting", "policy"), [("bfloat16", "mixed_bfloat16"), ("float32", "float32")])
def test_load_version_runs_the_network_in_the_precision_of_the_setting(active_model, settings, setting, policy):
    settings.INFERENCE_PRECISION = setting

    model = load_version(serving_version())

    first_convolution = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    assert first_convolution.dtype_policy.name == policy


def test_load_version_downloads_from_s3_once(db, s3_storage, settings, tmp_path, tiny_model_file, tiny_model):
    settings.MODEL_CACHE_DIR = tmp_path / "cache"
    settings.INFERENCE_PRECISION = "float32"  # the file's own weights, whatever the CPU
    version = register_model(tiny_model_file, name="on-s3")

    model = load_version(version)
    [cached] = (tmp_path / "cache").iterdir()
    downloaded_at = cached.stat().st_mtime_ns
    engine._load_model.cache_clear()
    load_version(version)

    assert cached.name == f"on-s3-{version.pk}-on-s3.keras"
    assert cached.stat().st_mtime_ns == downloaded_at
    assert np.array_equal(deblur(model, PHOTO[:40, :40]), deblur(tiny_model, PHOTO[:40, :40]))
