"""Total variation of images."""

from keras import ops


def total_variation(image):
    """Total variation of an image: mean squared difference between horizontal and between vertical neighbours.

    `TV = Σ(Δx²)/n_x + Σ(Δy²)/n_y` per sample, where `Δx = I[h, w+1, c] − I[h, w, c]` over the n_x = H·(W−1)·C
    horizontal pairs and `Δy = I[h+1, w, c] − I[h, w, c]` over the n_y = (H−1)·W·C vertical pairs. A direction with
    no pairs (W = 1 or H = 1) contributes 0. Being a mean, the value does not grow with the image size.

    Deviation from the ports: jcjohnson/neural-style uses the sum `½ Σ (Δx² + Δy²)` over the (H−1)×(W−1) top-left
    block of its image in Caffe units (0–255), i.e. `½·255²` times that sum on the [0, 1] image, which is about
    `½·255²·C·(H−1)(W−1)·TV` (equal up to the border pairs). So a TV weight `w` from that port corresponds to
    `w·255²·C·(H−1)(W−1)/2` here (`tfstyle.optimize.presets.neural_style_objective` derives it and bounds the border
    difference). We take means so that the weight carries over between image sizes.

    Args:
        image: images, shape (B, H, W, C).

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> image = np.array([[[[0.0], [1.0]], [[2.0], [3.0]]]])   # 2×2, one channel
        >>> total_variation(image).numpy()                        # Δx = 1, 1; Δy = 2, 2
        array([5.])

    Reference:
        Mahendran & Vedaldi, "Understanding Deep Image Representations by Inverting Them", CVPR 2015 (the TV
        regulariser with β = 2); Johnson, neural-style (github.com/jcjohnson/neural-style), `TVLoss`.
    """
    image = ops.convert_to_tensor(image)
    dx = image[:, :, 1:, :] - image[:, :, :-1, :]
    dy = image[:, 1:, :, :] - image[:, :-1, :, :]
    return _mean_or_zero(ops.square(dx)) + _mean_or_zero(ops.square(dy))


def _mean_or_zero(values):
    """Per-sample mean over all non-batch axes; 0 where there are no values (instead of 0/0 = nan)."""
    shape = ops.shape(values)
    count = ops.cast(shape[1] * shape[2] * shape[3], values.dtype)
    return ops.sum(values, axis=(1, 2, 3)) / ops.maximum(count, ops.ones_like(count))
