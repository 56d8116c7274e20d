"""Small `.keras` files that load, each wrong in one way that register_model and the admin
must refuse."""

from pathlib import Path

import keras
import numpy as np


def save_conv_model(
    path: Path, *, channels: int = 3, name: str = "nafnet", strides: int = 1, nan: bool = False
) -> Path:
    """One convolution to three channels, as a model named `name`: a known architecture by
    default. `strides` 2 halves the image; `nan` makes every output NaN."""
    inputs = keras.Input(shape=(None, None, channels))
    conv = keras.layers.Conv2D(3, 3, strides=strides, padding="same")
    model = keras.Model(inputs, conv(inputs), name=name)
    if nan:
        conv.set_weights([np.full_like(weight, np.nan) for weight in conv.get_weights()])
    model.save(path)
    return path


def save_lambda_model(path: Path) -> Path:
    """A known architecture whose file holds Python code (a Lambda layer), which a safe-mode
    load refuses to run."""
    inputs = keras.Input(shape=(None, None, 3))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2.0)(inputs), name="nafnet").save(path)
    return path
