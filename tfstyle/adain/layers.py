"""Keras layers of the AdaIN network: adaptive instance normalisation and reflection padding."""

import numbers

import keras
from keras import ops

from tfstyle.errors import OptionError
from tfstyle.ops.moments import adain


@keras.saving.register_keras_serializable(package="tfstyle")
class AdaIN(keras.layers.Layer):
    """Adaptive instance normalisation: content features with the style features' channel means and deviations.

    `AdaIN(x, y) = σ(y)·(x − μ(x))/σ(x) + μ(y)`, with μ and σ per sample and channel over H and W (biased variance,
    `σ = sqrt(var + ε)`), computed by `tfstyle.ops.adain`. The layer has no weights. The content–style trade-off
    α is applied by `AdaINModel.stylize`, not here.

    Args:
        epsilon: ε added to the variance before the square root (1e-5 as in the reference port).
        **kwargs: `keras.layers.Layer` arguments (name, dtype).

    Call arguments:
        inputs: `[content, style]`: content features (B, H, W, C) and style features (B, H', W', C) or
            (1, H', W', C) (broadcast over the batch); the sizes may differ.

    Returns:
        Tensor of the content's shape.

    Example:
        >>> import numpy as np
        >>> x = np.array([[[[1.0], [3.0]]]], "float32")                    # μ = 2, σ = 1
        >>> y = np.array([[[[10.0], [20.0]]]], "float32")                  # μ = 15, σ = 5
        >>> AdaIN(epsilon=0.0)([x, y]).numpy().ravel()
        array([10., 20.], dtype=float32)

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (eq. 8).
    """

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(epsilon, numbers.Real) or isinstance(epsilon, bool) or not epsilon >= 0:
            raise OptionError(f"epsilon must be a number >= 0; Received: epsilon={epsilon!r}")
        self.epsilon = float(epsilon)
        self.built = True  # no weights: nothing to build (lets Keras skip a symbolic build before distributed fit)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"AdaIN expects [content, style]; Received: {type(inputs).__name__} of "
                             f"length {len(inputs) if isinstance(inputs, (list, tuple)) else 'n/a'}")
        content, style = inputs
        return adain(content, style, self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


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


@keras.saving.register_keras_serializable(package="tfstyle")
class ReflectionPadding2D(keras.layers.Layer):
    """Pad the height and width of channels-last images by reflection (the border row/column is not repeated).

    Row `−k` takes the value of row `k`: padding `[1, 2, 3]` by 1 gives `[2, 1, 2, 3, 2]`. The decoder pads this
    way before each 3×3 convolution, which avoids the dark frame that zero padding leaves at the borders. Each
    padding must be smaller than the padded side (a reflection cannot reach further than the image).

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
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (the authors' decoder uses reflection padding).
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
