"""The deblurring generators, in Keras layers and `keras.ops` only.

Both nets are fully convolutional: they take float32 NHWC RGB in [0, 1] of any height and
width that are multiples of `size_multiple(model)`, and return an image of the same shape.
The architecture is the model's name, so a loaded `.keras` file says what it is.
"""

import math

import keras
from keras import layers, ops

NAFNET = "nafnet"
DEBLURGAN = "deblurgan"


@keras.saving.register_keras_serializable(package="deblur")
class SimpleGate(layers.Layer):
    """NAFNet's activation: split the channels in two halves and multiply them."""

    def call(self, inputs):
        first, second = ops.split(inputs, 2, axis=-1)
        return first * second

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] // 2)


@keras.saving.register_keras_serializable(package="deblur")
class LayerScale(layers.Layer):
    """A learnable per-channel scale on a residual branch. It starts at zero so that every
    block starts as the identity, which is what lets NAFNet train without warm-up tricks."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="scale")

    def call(self, inputs):
        return inputs * self.scale


@keras.saving.register_keras_serializable(package="deblur")
class DepthToSpace(layers.Layer):
    """Pixel shuffle: (H, W, r*r*C) -> (r*H, r*W, C), channels ordered as in
    `tf.nn.depth_to_space`."""

    def __init__(self, block_size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.block_size = block_size

    def call(self, inputs):
        r = self.block_size
        batch, height, width, channels = ops.shape(inputs)
        x = ops.reshape(inputs, (batch, height, width, r, r, channels // (r * r)))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (batch, height * r, width * r, channels // (r * r)))

    def compute_output_shape(self, input_shape):
        r = self.block_size
        batch, height, width, channels = input_shape
        return (
            batch,
            None if height is None else height * r,
            None if width is None else width * r,
            channels // (r * r),
        )

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}


@keras.saving.register_keras_serializable(package="deblur")
class ReflectionPadding2D(layers.Layer):
    """Mirror padding, so that the DeblurGAN convolutions see no artificial black frame."""

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = padding

    def call(self, inputs):
        p = self.padding
        return ops.pad(inputs, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = 2 * self.padding
        return (
            batch,
            None if height is None else height + grow,
            None if width is None else width + grow,
            channels,
        )

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


def nafnet_block(inputs, channels: int):
    """NAFBlock: a gated depthwise-conv mixer with simplified channel attention, then a
    gated feed-forward, each on a residual branch scaled by a zero-initialised LayerScale."""
    x = layers.LayerNormalization(epsilon=1e-6)(inputs)
    x = layers.Conv2D(2 * channels, 1)(x)
    x = layers.DepthwiseConv2D(3, padding="same")(x)
    x = SimpleGate()(x)
    attention = layers.GlobalAveragePooling2D(keepdims=True)(x)
    attention = layers.Conv2D(channels, 1)(attention)
    x = layers.Multiply()([x, attention])
    x = layers.Conv2D(channels, 1)(x)
    mixed = layers.Add()([inputs, LayerScale()(x)])

    x = layers.LayerNormalization(epsilon=1e-6)(mixed)
    x = layers.Conv2D(2 * channels, 1)(x)
    x = SimpleGate()(x)
    x = layers.Conv2D(channels, 1)(x)
    return layers.Add()([mixed, LayerScale()(x)])


def build_nafnet(
    width: int = 16,
    enc_blocks: tuple[int, ...] = (1, 1, 2),
    middle_blocks: int = 2,
    dec_blocks: tuple[int, ...] = (1, 1, 1),
) -> keras.Model:
    """NAFNet-style U-Net (Chen et al., 2022). Each level halves the resolution with a
    strided conv and doubles the channels; the decoder mirrors it with pixel shuffle.

    The output is input + net(input) and is not clipped, so that a pixel loss keeps its
    gradient near 0 and 1; whoever turns it into an image clips it to [0, 1].
    """
    if len(enc_blocks) != len(dec_blocks):
        raise ValueError("enc_blocks and dec_blocks need one entry per level.")
    inputs = keras.Input(shape=(None, None, 3))
    x = layers.Conv2D(width, 3, padding="same")(inputs)

    channels = width
    skips = []
    for n_blocks in enc_blocks:
        for _ in range(n_blocks):
            x = nafnet_block(x, channels)
        skips.append(x)
        x = layers.Conv2D(2 * channels, 2, strides=2)(x)
        channels *= 2

    for _ in range(middle_blocks):
        x = nafnet_block(x, channels)

    for n_blocks, skip in zip(dec_blocks, reversed(skips)):
        x = layers.Conv2D(2 * channels, 1, use_bias=False)(x)
        x = DepthToSpace(2)(x)
        channels //= 2
        x = layers.Add()([x, skip])
        for _ in range(n_blocks):
            x = nafnet_block(x, channels)

    x = layers.Conv2D(3, 3, padding="same")(x)
    outputs = layers.Add()([inputs, x])
    return keras.Model(inputs, outputs, name=NAFNET)


def instance_norm():
    # One group per channel is instance normalisation; no affine part, as in DeblurGAN.
    return layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False)


def deblurgan_resnet_block(inputs, filters: int):
    x = ReflectionPadding2D(1)(inputs)
    x = layers.Conv2D(filters, 3)(x)
    x = instance_norm()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(0.5)(x)
    x = ReflectionPadding2D(1)(x)
    x = layers.Conv2D(filters, 3)(x)
    x = instance_norm()(x)
    return layers.Add()([inputs, x])


def build_deblurgan(filters: int = 64, n_blocks: int = 9) -> keras.Model:
    """The DeblurGAN generator (Kupyn et al., 2018): 7x7 conv, two strided downsamplings,
    ResNet blocks with instance norm and dropout 0.5, two transposed-conv upsamplings,
    7x7 conv and tanh, plus the global skip of the original code (learn_residual).

    The original works in [-1, 1] and clamps input + tanh to that range. Here images are in
    [0, 1]: the residual a photo needs (sharp - blurred) still lies in [-1, 1], which is the
    range of tanh, and the sum is clipped to [0, 1]. The mirror padding needs inputs of at
    least 8x8 pixels.
    """
    inputs = keras.Input(shape=(None, None, 3))
    x = ReflectionPadding2D(3)(inputs)
    x = layers.Conv2D(filters, 7)(x)
    x = instance_norm()(x)
    x = layers.ReLU()(x)

    for multiplier in (2, 4):
        x = layers.Conv2D(filters * multiplier, 3, strides=2, padding="same")(x)
        x = instance_norm()(x)
        x = layers.ReLU()(x)

    for _ in range(n_blocks):
        x = deblurgan_resnet_block(x, filters * 4)

    for multiplier in (2, 1):
        x = layers.Conv2DTranspose(filters * multiplier, 3, strides=2, padding="same")(x)
        x = instance_norm()(x)
        x = layers.ReLU()(x)

    x = ReflectionPadding2D(3)(x)
    x = layers.Conv2D(3, 7, activation="tanh")(x)
    x = layers.Add()([inputs, x])
    outputs = layers.ReLU(max_value=1.0, name="clip")(x)  # clip to [0, 1], serialisable
    return keras.Model(inputs, outputs, name=DEBLURGAN)


def architecture_of(model: keras.Model) -> str:
    """"nafnet" or "deblurgan"; a ValueError for any other model."""
    if model.name not in (NAFNET, DEBLURGAN):
        raise ValueError(f"Unknown architecture {model.name!r}: expected {NAFNET!r} or {DEBLURGAN!r}.")
    return model.name


def size_multiple(model: keras.Model) -> int:
    """What the input height and width must be multiples of: the product of the strides of
    the downsampling convolutions."""
    strides = [layer.strides[0] for layer in model.layers if isinstance(layer, layers.Conv2D)]
    return math.prod(strides)
