"""Total variation loss: a smoothness prior on the generated image."""

import keras

from tfstyle.ops.variation import total_variation


def total_variation_loss(image):
    """Total variation of images (B, H, W, C) → (B,): `Σ(Δx²)/n_x + Σ(Δy²)/n_y`, see `tfstyle.ops.total_variation`.

    Args:
        image: images, shape (B, H, W, C).

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> total_variation_loss(np.array([[[[0.0], [1.0]], [[2.0], [3.0]]]])).numpy()
        array([5.])

    Reference:
        Mahendran & Vedaldi, "Understanding Deep Image Representations by Inverting Them", CVPR 2015.
    """
    return total_variation(image)


@keras.saving.register_keras_serializable(package="tfstyle")
class TotalVariationLoss(keras.losses.Loss):
    """Total variation of the predicted image as a Keras loss; `y_true` is ignored (pass None).

    `loss(None, image)` reduces `total_variation(image)` (B,) over the batch (mean by default). The value is a mean
    over neighbour pairs; jcjohnson/neural-style's `½ Σ (Δx² + Δy²)` on its 0–255 image is about
    `255²·C·(H−1)(W−1)/2` times larger (see `tfstyle.ops.total_variation`).

    Args:
        name: name of the loss.
        reduction: Keras reduction over the batch.
        dtype: dtype of the inputs.

    Example:
        >>> import numpy as np
        >>> float(TotalVariationLoss()(None, np.array([[[[0.0], [1.0]], [[2.0], [3.0]]]])))
        5.0

    Reference:
        Mahendran & Vedaldi, "Understanding Deep Image Representations by Inverting Them", CVPR 2015.
    """

    def __init__(self, name="total_variation_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        # y_true is not used; Keras' Loss.__call__ would fail converting None to a tensor
        if y_true is None:
            y_true = y_pred
        return super().__call__(y_true, y_pred, sample_weight=sample_weight)

    def call(self, y_true, y_pred):
        return total_variation(y_pred)

    def get_config(self):
        config = super().get_config()
        config["dtype"] = self.dtype
        return config
