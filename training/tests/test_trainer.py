import json
import math
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from django.core.management import CommandError, call_command
from PIL import Image

from inference import metrics
from inference.registry import load_generator
from training import trainer
from training.critic import build_critic
from training.data import PhotoBank, make_pair, validation_pairs
from training.degrade import CLEAN_MOTION
from training.trainer import TrainConfig, TrainingData, WassersteinGAN, train

BATCH = 2
PATCH = 16


def tiny_config(out: Path, **overrides) -> TrainConfig:
    """A NAFNet with one level (size multiple 2) on 16-pixel patches: seconds per run."""
    settings = dict(
        out=out,
        batch=BATCH,
        patch=PATCH,
        steps=6,
        width=4,
        enc_blocks=(1,),
        middle_blocks=1,
        dec_blocks=(1,),
        checkpoint_every=2,
        validate_every=3,
        log_every=2,
        sample_steps=(0, 6),
        validation_patch=PATCH,
        jit_compile=False,
    )
    return TrainConfig(**{**settings, **overrides})


def fake_data() -> TrainingData:
    """Random sharp patches, blurred by averaging neighbours; batch k of a stream started at
    step s is batch s + k of the stream started at 0, as the real pipeline's."""
    rng = np.random.default_rng(0)
    sharp = rng.random((32, PATCH, PATCH, 3), dtype=np.float32)
    blurred = (sharp + np.roll(sharp, 1, axis=1) + np.roll(sharp, 1, axis=2)) / 3

    def batches(start_step: int) -> tf.data.Dataset:
        pairs = tf.data.Dataset.from_tensor_slices((blurred, sharp)).repeat()
        return pairs.skip(start_step * BATCH).batch(BATCH)

    validation = tuple(np.rint(images[:4] * 255).astype(np.uint8) for images in (blurred, sharp))
    return TrainingData(batches, validation, photos=["fake.png"])


def read_csv(path: Path) -> list[dict[str, float]]:
    header, *rows = path.read_text().splitlines()
    return [dict(zip(header.split(","), map(float, row.split(",")))) for row in rows]


def test_content_loss_terms_match_their_definitions():
    rng = np.random.default_rng(1)
    y_true = rng.random((2, 8, 12, 3), dtype=np.float32)
    y_pred = rng.random((2, 8, 12, 3), dtype=np.float32)

    spectrum = np.fft.fft2(np.moveaxis(y_pred - y_true, -1, 1), norm="ortho")
    expected_fft = (np.abs(spectrum.real).mean() + np.abs(spectrum.imag).mean()) / 2
    expected_charbonnier = np.sqrt((y_pred - y_true) ** 2 + 1e-6).mean()

    assert float(trainer.fft_l1(y_true, y_pred)) == pytest.approx(expected_fft, rel=1e-4)
    assert float(trainer.charbonnier(y_true, y_true)) == pytest.approx(1e-3)
    loss = trainer.ContentLoss(fft_weight=0.5)(y_true, y_pred)
    assert float(loss) == pytest.approx(expected_charbonnier + 0.5 * expected_fft, rel=1e-4)


def test_psnr_metric_agrees_with_the_project_definition():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype(np.uint8)

    values = trainer.psnr(a / 255.0, b / 255.0)

    np.testing.assert_allclose(values, [metrics.psnr(x, y) for x, y in zip(a, b)], rtol=1e-4)


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory) -> tuple[trainer.TrainResult, list[tuple[int, int]]]:
    """A run of 6 steps straight through, and the progress calls it made. Shared: a run
    costs seconds."""
    calls = []
    config = tiny_config(tmp_path_factory.mktemp("straight"))
    result = train(config, data=fake_data(), progress=lambda step, total, logs: calls.append((step, total)))
    return result, calls


def test_a_run_writes_logs_validation_samples_generator_and_summary(straight_run):
    result, calls = straight_run
    out = result.out

    assert calls == [(step, 6) for step in range(1, 7)]
    log = read_csv(out / "log.csv")
    assert [row["step"] for row in log] == [2, 4, 6]
    assert all(math.isfinite(row["loss"]) and row["lr"] > 0 for row in log)
    # Cosine decay: the learning rate falls to min_lr at the last step.
    assert log[0]["lr"] > log[1]["lr"] > log[2]["lr"] == pytest.approx(TrainConfig.min_lr)

    validation = read_csv(out / "validation.csv")
    assert [row["step"] for row in validation] == [0, 3, 6]
    assert validation[-1]["psnr"] == pytest.approx(result.validation["psnr"])

    # One row per validation pair (3), input | output | target side by side.
    for step in (0, 6):
        strip = np.asarray(Image.open(out / "samples" / f"step_{step:06d}.png"))
        assert strip.shape == (3 * PATCH, 3 * PATCH, 3)
    blurred, sharp = fake_data().validation
    np.testing.assert_array_equal(strip[:PATCH, :PATCH], blurred[0])
    np.testing.assert_array_equal(strip[:PATCH, 2 * PATCH :], sharp[0])

    assert load_generator(result.generator).name == "nafnet"
    assert not keras.models.load_model(result.generator).compiled  # no optimizer, no loss
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["photos"] == ["fake.png"] and summary["seed"] == 0
    assert summary["validation"] == pytest.approx(result.validation)
    assert "cores" in summary["hardware"] and summary["config"]["patch"] == PATCH


def test_a_run_folder_is_not_overwritten_nor_resumed_with_other_settings(tmp_path, straight_run):
    result, _ = straight_run
    with pytest.raises(ValueError, match="no checkpoint to resume from"):
        train(tiny_config(tmp_path), data=fake_data(), resume=True)
    with pytest.raises(ValueError, match="already holds a training run"):
        train(tiny_config(result.out), data=fake_data())
    with pytest.raises(ValueError, match="batch: 2 -> 4"):
        train(tiny_config(result.out, batch=4), data=fake_data(), resume=True)
    # Settings that only decide what is written may change.
    trainer.check_resumable(tiny_config(result.out, validate_every=100), tiny_config(result.out).to_json())


def test_the_critic_sees_70x70_windows():
    critic = build_critic()
    field, jump = 1, 1
    for layer in critic.layers:
        if isinstance(layer, keras.layers.Conv2D):
            field += (layer.kernel_size[0] - 1) * jump
            jump *= layer.strides[0]

    assert field == 70
    assert critic(np.zeros((1, 64, 96, 3), np.float32)).shape == (1, 8, 12, 1)


def test_gradient_penalty_of_a_linear_critic_is_the_analytic_value():
    # score(x) = mean over pixels of w . x, so its gradient is w / (H W) at every pixel and
    # its norm |w| / sqrt(H W), wherever it is taken.
    weights = np.array([1.0, 2.0, 2.0], np.float32)  # |w| = 3
    critic = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(1, 1, use_bias=False)])
    critic.set_weights([weights.reshape(1, 1, 3, 1)])
    gan = WassersteinGAN(critic, critic, content_loss=trainer.ContentLoss())
    rng = np.random.default_rng(3)
    real, fake = (rng.random((2, 2, 2, 3), dtype=np.float32) for _ in range(2))
    alpha = rng.random((2, 1, 1, 1), dtype=np.float32)

    penalty = gan.gradient_penalty(tf.constant(real), tf.constant(fake), tf.constant(alpha))

    assert float(penalty) == pytest.approx((3 / math.sqrt(2 * 2) - 1) ** 2, rel=1e-5)


def test_perceptual_term_uses_vgg19_conv3_3_from_the_weights_file(tmp_path):
    vgg = keras.applications.VGG19(weights=None, include_top=False)
    path = tmp_path / "vgg19.weights.h5"
    vgg.save_weights(path)
    images = np.random.default_rng(5).random((2, 32, 32, 3), dtype=np.float32)

    features = trainer.vgg_features(path)

    conv3_3 = keras.Model(vgg.input, vgg.get_layer("block3_conv3").output)
    expected = conv3_3.predict_on_batch(keras.applications.vgg19.preprocess_input(images * 255.0))
    np.testing.assert_allclose(features.predict_on_batch(images), expected, rtol=1e-4, atol=1e-4)
    assert not features.trainable_weights
    gan = WassersteinGAN(features, features, content_loss=trainer.ContentLoss(), perceptual=features)
    pixels_only = float(trainer.ContentLoss()(images[:1], images[1:]))
    assert float(gan.content(images[:1], images[1:])) > pixels_only


def photo_folder(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(4)
    for index in range(count):
        # Smooth random photos: noise upscaled, so that blur changes them.
        small = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
        Image.fromarray(small).resize((96, 96), Image.Resampling.BICUBIC).save(folder / f"photo_{index}.png")
    return folder


def test_training_pairs_come_from_the_runs_synthesis_and_validation_from_the_default(tmp_path):
    config = tiny_config(
        tmp_path / "run", photos=photo_folder(tmp_path / "photos", 3), n_holdout=1, synthesis="clean-motion"
    )
    data = trainer.photo_data(config)
    blurred, sharp = next(data.batches(0).as_numpy_iterator())

    bank = PhotoBank([tmp_path / "photos" / name for name in data.photos])
    expected = [make_pair(bank, config.seed, index, PATCH, CLEAN_MOTION) for index in range(BATCH)]
    assert np.array_equal(np.rint(blurred * 255), np.stack([b for b, _ in expected]))
    assert np.array_equal(np.rint(sharp * 255), np.stack([s for _, s in expected]))
    holdout = PhotoBank([tmp_path / "photos" / name for name in data.holdout])
    default_validation = validation_pairs(holdout, patch=config.validation_patch, count=config.validation_count)
    assert all(np.array_equal(a, b) for a, b in zip(data.validation, default_validation))


def test_adversarial_steps_on_photos_change_the_generator(tmp_path):
    config = tiny_config(
        tmp_path / "run",
        photos=photo_folder(tmp_path / "photos", 3),
        n_holdout=1,
        steps=1,
        gan_steps=2,
        critic_steps=2,
        validation_patch=32,
        validation_count=2,
        sample_steps=(),
    )

    result = train(config)

    assert (result.step, result.gan_step) == (1, 2)
    after_stage_1 = keras.models.load_model(tmp_path / "run" / "checkpoints" / "latest.keras")
    after_stage_2 = load_generator(result.generator)
    changed = [not np.allclose(a, b) for a, b in zip(after_stage_1.weights, after_stage_2.weights)]
    assert any(changed)
    (row,) = read_csv(tmp_path / "run" / "log_gan.csv")
    assert row["step"] == 3 and math.isfinite(row["critic_loss"]) and row["gradient_penalty"] >= 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert len(summary["photos"]) == 2 and len(summary["holdout"]) == 1
    assert set(summary["photos"] + summary["holdout"]) == {f"photo_{i}.png" for i in range(3)}


@pytest.mark.parametrize(
    "layout, arguments, message",
    [
        (None, {}, "is not a folder"),
        ("empty", {}, "holds 0 photos"),
        ("benchmarks", {}, "benchmarks"),
        ("photos", {"patch": 100}, "multiples of 8"),
        ("photos", {"steps": 0}, "--steps must be at least 1"),
        ("photos", ["--enc-blocks", "1,0"], "every level needs at least one block"),
        ("photos", ["--enc-blocks", "1,x"], "expected comma-separated block counts"),
        ("photos", ["--enc-blocks", "1,1,1", "--dec-blocks", "1,1"], "one count per level"),
    ],
)
def test_train_command_refuses_bad_arguments(tmp_path, layout, arguments, message):
    photos = tmp_path / "missing"
    if layout == "empty":
        photos.mkdir()
    elif layout == "benchmarks":
        photos = photo_folder(tmp_path / "benchmarks" / "gopro", 6)
    elif layout == "photos":
        photos = photo_folder(photos, 6)

    # Options given as command-line words go through argparse's type conversion.
    words, options = (arguments, {}) if isinstance(arguments, list) else ([], arguments)
    with pytest.raises(CommandError, match=message):
        call_command("train", *words, photos=str(photos), out=str(tmp_path / "run"), **options)


def test_train_command_builds_the_config_and_reports_progress(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_train(config, *, resume, progress):
        calls.append((config, resume))
        progress(1, 2, {"loss": 0.5, "psnr": 20.0})
        progress(2, 2, {"loss": 0.25, "psnr": 22.0})
        return trainer.TrainResult(config.out, 2, 0, 60.0, {"psnr": 22.0, "ssim": 0.7}, config.out / "generator.keras")

    monkeypatch.setattr("training.management.commands.train.train", fake_train)
    photos = photo_folder(tmp_path / "photos", 6)

    call_command(
        "train",
        "--enc-blocks=1,1,1,2",
        "--dec-blocks=2,1,1,1",
        photos=str(photos),
        out=str(tmp_path / "run"),
        arch="deblurgan",
        steps=2,
        batch=4,
        patch=64,
        seed=7,
        gan_steps=3,
        resume=True,
        synthesis="clean-motion",
        width=24,
        middle_blocks=3,
    )

    ((config, resume),) = calls
    assert resume
    assert (config.photos, config.out) == (photos, tmp_path / "run")
    assert (config.arch, config.steps, config.gan_steps, config.batch, config.patch, config.seed) == (
        "deblurgan",
        2,
        3,
        4,
        64,
        7,
    )
    assert config.synthesis == "clean-motion"
    assert (config.width, config.enc_blocks, config.middle_blocks, config.dec_blocks) == (24, (1, 1, 1, 2), 3, (2, 1, 1, 1))
    output = capsys.readouterr()
    assert "psnr 22.0000, ssim 0.7000" in output.out
    assert "loss=0.25" in output.err  # the progress bar


def test_a_run_started_from_a_trained_generator_begins_with_its_weights(tmp_path, straight_run):
    result, _ = straight_run
    trained = load_generator(result.generator)

    started = trainer.build_generator(tiny_config(tmp_path / "fine-tune", init=result.generator))

    for a, b in zip(started.get_weights(), trained.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="is a nafnet model, not deblurgan"):
        trainer.build_generator(tiny_config(tmp_path / "other", arch="deblurgan", init=result.generator))


def test_the_deblurgan_generator_trains_too(tmp_path):
    config = tiny_config(tmp_path / "deblurgan", arch="deblurgan", deblurgan_filters=4, deblurgan_blocks=1, steps=2)
    keras.utils.set_random_seed(config.seed)  # as train() does: the same initial weights
    before = trainer.build_generator(config).get_weights()

    result = train(config, data=fake_data())

    generator = load_generator(result.generator)
    assert generator.name == "deblurgan" and result.step == 2
    assert any(not np.allclose(a, b) for a, b in zip(generator.get_weights(), before))
