"""Content loss: squared distance between feature maps."""

import keras
from keras import ops

from tfstyle.losses.base import FeatureComparisonLoss


def content_loss(features, target):
    """Mean squared difference between features and target features, per sample.

    `L = (1/(H·W·C)) Σ_{h,w,c} (F − P)²` per sample. Gatys et al. write `½ Σ (F − P)²`; that is `½·H·W·C·L`. The
    mean keeps the value independent of the layer's size, so one content weight carries over between image sizes
    and layers; multiply by `H·W·C/2` to get the paper's value.

    Args:
        features: features F of the generated image, shape (B, H, W, C).
        target: target features P, shape (B, H, W, C) or (1, H, W, C) (broadcast over the batch).

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> content_loss(np.ones((1, 2, 2, 3)), np.zeros((1, 2, 2, 3))).numpy()
        array([1.])

    Reference:
        Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016 (eq. 1).
    """
    features = ops.convert_to_tensor(features)
    target = ops.convert_to_tensor(target, dtype=features.dtype)
    return ops.mean(ops.square(features - target), axis=(1, 2, 3))


@keras.saving.register_keras_serializable(package="tfstyle")
class ContentLoss(FeatureComparisonLoss):
    """Content loss: mean squared difference between feature maps (see `content_loss`).

    The representation of target features is the features themselves.

    Args:
        name: name of the loss.
        reduction: Keras reduction over the batch.
        dtype: dtype of the inputs.

    Example:
        >>> import numpy as np
        >>> loss = ContentLoss()
        >>> float(loss(np.zeros((1, 2, 2, 3)), np.ones((1, 2, 2, 3))))
        1.0

    Reference:
        Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016 (eq. 1).
    """

    def __init__(self, name="content_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def representation(self, features):
        return ops.convert_to_tensor(features)

    def compare(self, features, target):
        return content_loss(features, target)
