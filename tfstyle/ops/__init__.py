"""Differentiable tensor operations on channels-last feature maps (B, H, W, C), built on `keras.ops`.

Every op works in float32 and float64, inside `tf.function` with unknown H and W (except `resize_mask`, which
needs the feature map's static size), and is differentiable.
"""

from tfstyle.ops.gram import gram_matrix
from tfstyle.ops.masks import masked_gram_matrix, masked_mean_std, resize_mask
from tfstyle.ops.mmd import flatten_positions, mmd2, subsample_positions
from tfstyle.ops.moments import adain, mean_std
from tfstyle.ops.sliced import projection_directions, sliced_wasserstein, sorted_projections
from tfstyle.ops import colour
from tfstyle.ops.variation import total_variation

__all__ = [
    "adain",
    "flatten_positions",
    "gram_matrix",
    "masked_gram_matrix",
    "masked_mean_std",
    "mean_std",
    "mmd2",
    "projection_directions",
    "resize_mask",
    "sliced_wasserstein",
    "sorted_projections",
    "subsample_positions",
    "total_variation",
]
