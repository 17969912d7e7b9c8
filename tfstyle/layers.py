"""Keras layers and layer helpers shared by several tfstyle networks.

`ReflectionPadding2D` pads before the convolutions of the AdaIN decoder and of the CycleGAN generators;
`instance_norm` and `conv_init` give the instance normalisation and the N(0, 0.02) weight initialisation of the
CycleGAN family.
"""

import numbers

import keras
from keras import ops

from tfstyle.errors import OptionError


def _normalize_padding(padding):
    """`padding` as ((top, bottom), (left, right)) of non-negative ints, or OptionError."""
    def is_int(value):
        return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0

    if is_int(padding):
        return ((int(padding),) * 2,) * 2
    if isinstance(padding, (list, tuple)) and len(padding) == 2:
        if all(is_int(p) for p in padding):
            return tuple((int(p), int(p)) for p in padding)
        if all(isinstance(p, (list, tuple)) and len(p) == 2 and all(is_int(q) for q in p) for p in padding):
            return tuple((int(p[0]), int(p[1])) for p in padding)
    raise OptionError("padding must be an int >= 0, (height, width) or ((top, bottom), (left, right)); "
                      f"Received: padding={padding!r}")


# Registered as "tfstyle>ReflectionPadding2D": Keras finds the class by that name, not by its module, so `.keras`
# files written while the layer lived in tfstyle.adain.layers still load.
@keras.saving.register_keras_serializable(package="tfstyle")
class ReflectionPadding2D(keras.layers.Layer):
    """Pad the height and width of channels-last images by reflection (the border row/column is not repeated).

    Row `−k` takes the value of row `k`: padding `[1, 2, 3]` by 1 gives `[2, 1, 2, 3, 2]`. Padding this way before
    a convolution avoids the dark frame that zero padding leaves at the borders of generated images; the AdaIN
    decoder and the CycleGAN generators use it. Each padding must be smaller than the padded side (a reflection
    cannot reach further than the image).

    Args:
        padding: int (all four sides), `(height, width)` (symmetric) or `((top, bottom), (left, right))`.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: tensor (B, H, W, C).

    Returns:
        Tensor (B, H + top + bottom, W + left + right, C).

    Example:
        >>> import numpy as np
        >>> x = np.arange(1, 4, dtype="float32").reshape(1, 1, 3, 1)      # [1, 2, 3]
        >>> ReflectionPadding2D(((0, 0), (1, 1)))(x).numpy().ravel()
        array([2., 1., 2., 3., 2.], dtype=float32)

    Reference:
        `torch.nn.ReflectionPad2d`, used by Huang & Belongie's AdaIN decoder (ICCV 2017) and by Zhu et al.'s
        CycleGAN ResNet generator (ICCV 2017).
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = _normalize_padding(padding)
        self.built = True

    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        return ops.pad(inputs, [[0, 0], [top, bottom], [left, right], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        (top, bottom), (left, right) = self.padding
        return (batch, None if height is None else height + top + bottom,
                None if width is None else width + left + right, channels)

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}


def instance_norm(name=None, affine=False, epsilon=1e-5, dtype=None):
    """An instance normalisation layer: per sample and channel, standardise over height and width.

    `y = (x − μ) / sqrt(σ² + ε)` with μ, σ² (biased) per sample and channel; with `affine=True` a learned
    per-channel scale and shift follow. It is `keras.layers.GroupNormalization` with one group per channel, so it
    needs no custom class and serializes as a Keras layer.

    Args:
        name: layer name.
        affine: learn a scale and shift per channel. False (no weights) as in the CycleGAN reference, whose
            `InstanceNorm2d` has `affine=False`.
        epsilon: ε added to the variance.
        dtype: dtype (policy) of the layer; None for the global policy.

    Returns:
        A `keras.layers.GroupNormalization(groups=-1, ...)` layer.

    Example:
        >>> import numpy as np
        >>> x = np.array([[[[1.0], [3.0]]]], "float32")                    # μ = 2, σ = 1
        >>> instance_norm(epsilon=0.0)(x).numpy().ravel()
        array([-1.,  1.], dtype=float32)

    Reference:
        Ulyanov et al., "Instance Normalization: The Missing Ingredient for Fast Stylization", arXiv:1607.08022
        (2016); matches PyTorch `InstanceNorm2d(affine=False)`.
    """
    if not isinstance(affine, bool):
        raise OptionError(f"affine must be True or False; Received: affine={affine!r}")
    return keras.layers.GroupNormalization(groups=-1, epsilon=epsilon, center=affine, scale=affine, name=name,
                                           dtype=dtype)


def conv_init(stddev=0.02):
    """A new N(0, stddev²) kernel initializer, the initialisation of the CycleGAN and pix2pix networks.

    Call it once per layer: an unseeded Keras initializer draws its seed when it is created, so one instance shared
    by several layers would give them identical kernels. `keras.utils.set_random_seed` makes the draws repeatable.

    Args:
        stddev: standard deviation (0.02 in the reference code).

    Returns:
        A `keras.initializers.RandomNormal(0.0, stddev)`.

    Example:
        >>> layer = keras.layers.Conv2D(64, 3, kernel_initializer=conv_init())

    Reference:
        Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks", ICCV 2017
        (authors' code, `init_type="normal"`, `init_gain=0.02`).
    """
    return keras.initializers.RandomNormal(mean=0.0, stddev=stddev)
