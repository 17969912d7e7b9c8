"""Keras layers of the AdaIN network: adaptive instance normalisation and reflection padding.

`ReflectionPadding2D` is shared with the CycleGAN generators and lives in `tfstyle.layers`; it is imported here so
that `from tfstyle.adain.layers import ReflectionPadding2D` keeps working.
"""

import numbers

import keras

from tfstyle.errors import OptionError
from tfstyle.layers import ReflectionPadding2D
from tfstyle.ops.moments import adain

__all__ = ["AdaIN", "ReflectionPadding2D"]


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
