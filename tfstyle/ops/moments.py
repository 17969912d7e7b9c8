"""Per-channel statistics of feature maps and adaptive instance normalisation."""

from keras import ops


def mean_std(x, epsilon=1e-5):
    """Mean and standard deviation of each channel of each sample, over the spatial positions.

    `mean[b, c] = (1/M) Σ_{h,w} x[b, h, w, c]` and `std[b, c] = sqrt((1/M) Σ_{h,w} (x[b, h, w, c] − mean[b, c])² + ε)`
    with M = H·W: the biased (population) variance, as in instance normalisation, plus ε inside the square root so
    that the gradient stays finite on constant channels.

    Args:
        x: feature map, shape (B, H, W, C).
        epsilon: ε added to the variance before the square root.

    Returns:
        Tuple `(mean, std)`, each of shape (B, C).

    Example:
        >>> import numpy as np
        >>> x = np.array([[[[1.0], [3.0]]]])                 # B=1, H=1, W=2, C=1
        >>> mean, std = mean_std(x, epsilon=0.0)
        >>> float(mean[0, 0]), float(std[0, 0])
        (2.0, 1.0)

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (eq. 5–6); Li et al., "Demystifying Neural Style Transfer", IJCAI 2017 (BN statistics matching).
    """
    x = ops.convert_to_tensor(x)
    mean = ops.mean(x, axis=(1, 2))
    variance = ops.mean(ops.square(x - mean[:, None, None, :]), axis=(1, 2))
    return mean, ops.sqrt(variance + epsilon)


def adain(content, style, epsilon=1e-5):
    """Adaptive instance normalisation: give the content features the style features' channel statistics.

    `AdaIN(x, y) = σ(y) · (x − μ(x)) / σ(x) + μ(y)`, with μ and σ computed per sample and channel over the spatial
    positions by `mean_std` (biased variance, `σ = sqrt(var + ε)`). Content and style may differ in H and W; the
    output has the content's shape.

    Args:
        content: content features x, shape (B, H, W, C).
        style: style features y, shape (B, H', W', C) or (1, H', W', C) (broadcast over the batch).
        epsilon: ε of `mean_std`.

    Returns:
        Tensor of the shape of `content`.

    Example:
        >>> import numpy as np
        >>> x = np.array([[[[1.0], [3.0]]]])                 # μ = 2, σ = 1
        >>> y = np.array([[[[10.0], [20.0]]]])               # μ = 15, σ = 5
        >>> adain(x, y, epsilon=0.0).numpy().ravel()
        array([10., 20.])

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (eq. 8).
    """
    content = ops.convert_to_tensor(content)
    style = ops.convert_to_tensor(style, dtype=content.dtype)
    content_mean, content_std = mean_std(content, epsilon)
    style_mean, style_std = mean_std(style, epsilon)
    normalized = (content - content_mean[:, None, None, :]) / content_std[:, None, None, :]
    return style_std[:, None, None, :] * normalized + style_mean[:, None, None, :]
