import keras
import numpy as np
import pytest

from inference import nets


def small_nafnet() -> keras.Model:
    return nets.build_nafnet(width=8, enc_blocks=(1, 1), middle_blocks=1, dec_blocks=(1, 1))


def small_deblurgan() -> keras.Model:
    return nets.build_deblurgan(filters=4, n_blocks=2)


def with_random_scales(model: keras.Model) -> keras.Model:
    # Untrained, every NAFNet block is switched off by its zero scales; switch them on so
    # that the blocks' weights show in the outputs.
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, nets.LayerScale):
            layer.set_weights([rng.normal(0.0, 0.1, layer.scale.shape)])
    return model


@pytest.mark.parametrize(
    "build, architecture, multiple",
    [
        (nets.build_nafnet, "nafnet", 8),
        (small_nafnet, "nafnet", 4),
        (small_deblurgan, "deblurgan", 4),
    ],
)
def test_architecture_and_size_multiple(build, architecture, multiple):
    model = build()

    assert nets.architecture_of(model) == architecture
    assert nets.size_multiple(model) == multiple


@pytest.mark.parametrize("build", [small_nafnet, small_deblurgan])
def test_saved_models_load_back_with_the_same_outputs(tmp_path, build):
    model = with_random_scales(build())
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    images = np.random.default_rng(1).random((2, 24, 36, 3), dtype=np.float32)

    assert loaded.name == model.name
    np.testing.assert_allclose(loaded.predict_on_batch(images), model.predict_on_batch(images), atol=1e-6)


@pytest.mark.parametrize("build", [small_nafnet, small_deblurgan])
@pytest.mark.parametrize("height, width", [(8, 8), (20, 12), (36, 60)])
def test_outputs_have_the_input_size(build, height, width):
    model = build()
    images = np.random.default_rng(2).random((1, height, width, 3), dtype=np.float32)

    assert model.predict_on_batch(images).shape == images.shape


def test_deblurgan_output_stays_in_the_unit_range():
    images = np.random.default_rng(3).random((1, 32, 32, 3), dtype=np.float32)
    restored = small_deblurgan().predict_on_batch(images)

    assert restored.min() >= 0.0 and restored.max() <= 1.0


def test_nafnet_output_is_the_input_plus_a_residual():
    # With the last convolution zeroed the residual is zero, whatever the blocks do.
    model = with_random_scales(small_nafnet())
    last = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
    last.set_weights([np.zeros_like(weight) for weight in last.get_weights()])
    images = np.random.default_rng(4).random((1, 16, 16, 3), dtype=np.float32)

    np.testing.assert_array_equal(model.predict_on_batch(images), images)


def test_depth_to_space_moves_channel_blocks_into_pixels():
    channels = np.arange(12, dtype=np.float32)  # 2x2 blocks of 3 channels
    image = np.stack([channels, channels + 100]).reshape(1, 1, 2, 12)

    shuffled = np.asarray(nets.DepthToSpace(2)(image))

    assert shuffled.shape == (1, 2, 4, 3)
    np.testing.assert_array_equal(shuffled[0, 0, 1], [3, 4, 5])  # block (0, 1) of pixel 0
    np.testing.assert_array_equal(shuffled[0, 1, 0], [6, 7, 8])  # block (1, 0) of pixel 0
    np.testing.assert_array_equal(shuffled[0, 1, 3], [109, 110, 111])  # block (1, 1) of pixel 1


def test_unknown_models_have_no_architecture():
    inputs = keras.Input(shape=(None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same")(inputs), name="unet")

    with pytest.raises(ValueError, match="Unknown architecture 'unet'"):
        nets.architecture_of(model)
