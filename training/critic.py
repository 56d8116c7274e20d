"""The critic of adversarial training: a 70x70 PatchGAN (Isola et al., 2017), as DeblurGAN
used it.

It scores overlapping 70x70 windows instead of whole images, so it judges texture and
sharpness, which vary over a photo, and works on any image size. As a WGAN critic it ends in
a linear score, with no sigmoid, and has no batch normalisation: the gradient penalty is
taken per sample, which batch statistics would mix (Gulrajani et al., 2017). Instance
normalisation is per sample, so it stays.
"""

import keras
from keras import layers

from inference.nets import instance_norm

KERNEL = 4


def build_critic(filters: int = 64) -> keras.Model:
    """Three stride-2 4x4 convolutions (filters x1, x2, x4), one stride-1 4x4 (x8), and a
    stride-1 4x4 convolution to one score per window. Each 4x4 layer widens the receptive
    field by 3 pixels times the product of the strides before it:
    1 + 3 * (1 + 2 + 4 + 8 + 8) = 70."""
    inputs = keras.Input(shape=(None, None, 3))
    x = layers.Conv2D(filters, KERNEL, strides=2, padding="same")(inputs)
    x = layers.LeakyReLU(0.2)(x)
    for multiplier, strides in ((2, 2), (4, 2), (8, 1)):
        x = layers.Conv2D(filters * multiplier, KERNEL, strides=strides, padding="same")(x)
        x = instance_norm()(x)
        x = layers.LeakyReLU(0.2)(x)
    outputs = layers.Conv2D(1, KERNEL, padding="same")(x)
    return keras.Model(inputs, outputs, name="patchgan")
