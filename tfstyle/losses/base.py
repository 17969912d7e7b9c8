"""The base class of the losses that compare features with a precomputed target representation."""

import keras


class FeatureComparisonLoss(keras.losses.Loss):
    """A loss between a feature map and a target, split so that the target's representation is computed once.

    Subclasses fill in two halves:

    - `representation(features)`: what is kept of a target feature map (the features themselves, a Gram matrix,
      channel statistics, a set of feature vectors). Style and content images do not change during an
      optimization, so this is computed once, before the first step.
    - `compare(features, target)`: the per-sample loss (B,) between new features and such a representation.

    As a Keras loss, `loss(y_true, y_pred)` takes target features as `y_true` and features as `y_pred`, computes
    `compare(y_pred, representation(y_true))` and reduces it over the batch (`reduction`, default the mean).

    Args:
        name: name of the loss.
        reduction: Keras reduction of the per-sample values ("sum_over_batch_size", "sum", "mean", None, ...).
        dtype: dtype the inputs are cast to by `__call__` (default: Keras' floatx, float32).
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def representation(self, features):
        """The target representation of a feature map (B, H, W, C)."""
        raise NotImplementedError(f"{type(self).__name__} does not define representation()")

    def compare(self, features, target):
        """The per-sample loss (B,) between features (B, H, W, C) and a representation from `representation`."""
        raise NotImplementedError(f"{type(self).__name__} does not define compare()")

    def call(self, y_true, y_pred):
        return self.compare(y_pred, self.representation(y_true))

    def get_config(self):
        config = super().get_config()
        config["dtype"] = self.dtype
        return config
