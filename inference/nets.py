"""The deblurring generators, in Keras layers and `keras.ops` only.

All nets are fully convolutional: they take float32 NHWC RGB in [0, 1] of any height and
width that are multiples of `size_multiple(model)`, and return an image of the same shape.
The architecture is the model's name, so a loaded `.keras` file says what it is.
"""

import math

import keras
from keras import layers, ops

from inference.architectures import ARCHITECTURES, DEBLURGAN, NAFNET, SRN  # noqa: F401 (nets.NAFNET, ...)


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


@keras.saving.register_keras_serializable(package="deblur")
class EdgePad(layers.Layer):
    """Pads the bottom and right edges to a multiple of `multiple` by repeating the last
    row and column, as SRN-DeblurNet's authors pad their test images."""

    def __init__(self, multiple: int = 16, **kwargs):
        super().__init__(**kwargs)
        self.multiple = multiple

    def call(self, inputs):
        height, width = ops.shape(inputs)[1], ops.shape(inputs)[2]
        # Gathering clamped indices repeats the edge on every backend (ops.pad's "edge"
        # mode is not on all of them).
        rows = ops.minimum(ops.arange(height + (-height) % self.multiple), height - 1)
        columns = ops.minimum(ops.arange(width + (-width) % self.multiple), width - 1)
        return ops.take(ops.take(inputs, rows, axis=1), columns, axis=2)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = lambda size: None if size is None else size + -size % self.multiple  # noqa: E731
        return (batch, grow(height), grow(width), channels)

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


def legacy_bilinear_resize(images, height, width):
    """Bilinear resizing as TF1's `tf.image.resize_images` did it: output pixel i samples
    the input at i * in/out, without half-pixel centres. Downscaling by 2 or 4 thus keeps
    every second or fourth pixel, which is what SRN-DeblurNet's weights were trained on."""

    def sample(size_out, size_in):
        scale = ops.cast(size_in, "float32") / ops.cast(size_out, "float32")
        position = ops.cast(ops.arange(size_out), "float32") * scale
        lower = ops.floor(position)
        upper = ops.minimum(ops.cast(lower, "int32") + 1, size_in - 1)
        return ops.cast(lower, "int32"), upper, ops.cast(position - lower, images.dtype)

    top, bottom, y_weight = sample(height, ops.shape(images)[1])
    left, right, x_weight = sample(width, ops.shape(images)[2])
    x_weight = ops.reshape(x_weight, (1, 1, -1, 1))
    y_weight = ops.reshape(y_weight, (1, -1, 1, 1))

    def along_x(rows):
        left_pixels, right_pixels = ops.take(rows, left, axis=2), ops.take(rows, right, axis=2)
        return left_pixels + (right_pixels - left_pixels) * x_weight

    upper_row = along_x(ops.take(images, top, axis=1))
    lower_row = along_x(ops.take(images, bottom, axis=1))
    return upper_row + (lower_row - upper_row) * y_weight


@keras.saving.register_keras_serializable(package="deblur")
class ScaleTo(layers.Layer):
    """Resizes its first input to `factor` times the height and width of its second,
    rounded, with `legacy_bilinear_resize`."""

    def __init__(self, factor: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        images, reference = inputs
        size = lambda axis: ops.cast(ops.round(ops.cast(ops.shape(reference)[axis], "float32") * self.factor), "int32")  # noqa: E731
        return legacy_bilinear_resize(images, size(1), size(2))

    def compute_output_shape(self, input_shapes):
        images, reference = input_shapes
        scaled = lambda size: None if size is None else round(size * self.factor)  # noqa: E731
        return (images[0], scaled(reference[1]), scaled(reference[2]), images[3])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="deblur")
class CropClip(layers.Layer):
    """Crops its first input to the height and width of its second and clips it to [0, 1]:
    undoes `EdgePad` on the output image."""

    def call(self, inputs):
        images, reference = inputs
        cropped = images[:, : ops.shape(reference)[1], : ops.shape(reference)[2]]
        return ops.clip(cropped, 0.0, 1.0)

    def compute_output_shape(self, input_shapes):
        images, reference = input_shapes
        return (images[0], reference[1], reference[2], images[3])


class SrnLayers:
    """The layers of one SRN-DeblurNet scale. Every scale calls the same layers, so the
    three scales share one set of weights. Layer names follow the authors' variable scopes
    (`g_net/enc1_2/conv1/weights` is layer `enc1_2_conv1`), so their checkpoint can be
    assigned by name."""

    def __init__(self):
        self.layers: dict[str, layers.Layer] = {}

    def conv(self, name: str, filters: int, *, strides: int = 1, relu: bool = True) -> layers.Layer:
        activation = "relu" if relu else None
        return self._get(name, lambda: layers.Conv2D(filters, 5, strides=strides, padding="same", activation=activation, name=name))

    def deconv(self, name: str, filters: int) -> layers.Layer:
        return self._get(
            name, lambda: layers.Conv2DTranspose(filters, 4, strides=2, padding="same", activation="relu", name=name)
        )

    def _get(self, name, make):
        if name not in self.layers:
            self.layers[name] = make()
        return self.layers[name]

    def res_block(self, x, name: str, filters: int):
        y = self.conv(f"{name}_conv1", filters)(x)
        y = self.conv(f"{name}_conv2", filters, relu=False)(y)
        return layers.Add()([x, y])

    def res_blocks(self, x, prefix: str, level: int, numbers, filters: int):
        for number in numbers:
            x = self.res_block(x, f"{prefix}{level}_{number}", filters)
        return x

    def scale(self, x):
        """One pass of the encoder-decoder on the 6-channel input of a scale."""
        skips = []
        for level, filters in enumerate((32, 64, 128), start=1):
            x = self.conv(f"enc{level}_1", filters, strides=1 if level == 1 else 2)(x)
            x = self.res_blocks(x, "enc", level, (2, 3, 4), filters)
            skips.append(x)
        x = self.res_blocks(x, "dec", 3, (3, 2, 1), 128)
        for level, filters in ((2, 64), (1, 32)):
            x = self.deconv(f"dec{level}_4", filters)(x)
            x = layers.Add()([x, skips[level - 1]])
            x = self.res_blocks(x, "dec", level, (3, 2, 1), filters)
        return self.conv("dec1_0", 3, relu=False)(x)


def build_srn(levels: int = 3) -> keras.Model:
    """SRN-DeblurNet (Tao et al., CVPR 2018) without its ConvLSTM, as in the authors'
    "color" weights. From the coarsest scale (1/4) to the finest, each scale sees the
    blurred image and the previous scale's estimate (the blurred image itself at first),
    both resized to that scale; the finest scale's estimate, clipped, is the result.

    It takes any height and width: the input is edge-padded to a multiple of 16 and the
    result cropped back, as the authors' test code does.
    """
    inputs = keras.Input(shape=(None, None, 3))
    padded = EdgePad(16)(inputs)
    net = SrnLayers()
    estimate = padded
    for level in range(levels):
        factor = 0.5 ** (levels - level - 1)
        blurred = ScaleTo(factor)([padded, padded])
        estimate = ScaleTo(factor)([estimate, padded])
        estimate = net.scale(layers.Concatenate()([blurred, estimate]))
    outputs = CropClip()([estimate, inputs])
    return keras.Model(inputs, outputs, name=SRN)


def architecture_of(model: keras.Model) -> str:
    """"nafnet", "deblurgan" or "srn"; a ValueError for any other model."""
    if model.name not in ARCHITECTURES:
        expected = ", ".join(repr(name) for name in ARCHITECTURES)
        raise ValueError(f"Unknown architecture {model.name!r}: expected one of {expected}.")
    return model.name


def size_multiple(model: keras.Model) -> int:
    """What the input height and width must be multiples of: the product of the strides of
    the downsampling convolutions. SRN pads its input itself, so it takes any size."""
    if model.name == SRN:
        return 1
    strides = [layer.strides[0] for layer in model.layers if isinstance(layer, layers.Conv2D)]
    return math.prod(strides)
