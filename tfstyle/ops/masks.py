"""Spatial masks on feature maps: resizing a mask to a layer's grid, masked Gram matrices and masked moments.

A mask holds one weight in [0, 1] per position (1: the position belongs to the region, 0: it does not, values in
between: soft membership). Masked statistics are weighted averages over the positions, so an all-ones mask gives
exactly the unmasked statistic.
"""

import numpy as np
from keras import ops

from tfstyle.ops.gram import _gram

# A region whose mask sums to less than this many positions is empty at that layer: its statistics are set to 0
# instead of being divided by ~0.
EMPTY_REGION = 1e-6


def resize_mask(mask, size):
    """Resize masks to a feature map's grid by area averaging.

    Each output position gets the mean of the mask over its footprint, the input rectangle it covers when the output
    grid is stretched over the whole input (as `tf.image.resize(..., "area")` defines it; exact overlap fractions
    are used for non-integer factors such as 75 → 37). Area averaging is used because it keeps the region's mass: a
    position half covered by the region gets 0.5, and a thin region (a strand of hair, a 1-pixel line) fades but
    never vanishes at deeper layers, where nearest or plain bilinear sampling can skip it entirely; it also keeps
    values in [0, 1] (no ringing, unlike Lanczos or bicubic) and never invents a region (an all-zero mask stays 0,
    an all-ones mask stays exactly 1, so a full mask gives exactly the unmasked loss).

    The averaging matrices are built and applied in float64 and the result is cast back to the mask's dtype, so
    constant masks stay exactly constant (float32 `tf.image.resize(..., "area")` returns 0.999996 for a 75 → 37
    resize of ones).

    Args:
        mask: masks of shape (B, H, W, 1) or (B, H, W); H and W must be known (not None). A numpy array is resized
            with numpy (a constant when called inside `tf.function`); a tensor with `keras.ops`.
        size: target `(height, width)` as Python ints, e.g. `features.shape[1:3]`.

    Returns:
        Tensor of shape (B, height, width, 1) (or (B, height, width) for a 3-D input), dtype of `mask`.

    Example:
        >>> import numpy as np
        >>> mask = np.zeros((1, 4, 4, 1)); mask[0, :, :1] = 1     # the left column of a 4×4 image
        >>> resize_mask(mask, (2, 2))[0, :, :, 0].numpy()           # half of each left 2×2 block is covered
        array([[0.5, 0. ],
               [0.5, 0. ]])

    Reference:
        Gatys, Ecker, Bethge, Hertzmann & Shechtman, "Controlling Perceptual Factors in Neural Style Transfer",
        CVPR 2017 (sec. 4: guidance channels propagated to every layer of the network).
    """
    constant = isinstance(mask, np.ndarray)
    if not constant:
        mask = ops.convert_to_tensor(mask)
    squeeze = len(mask.shape) == 3
    if squeeze:
        mask = mask[..., None]
    height, width = mask.shape[1], mask.shape[2]
    if height is None or width is None:
        raise ValueError(f"resize_mask needs a mask of known height and width; received shape {mask.shape}")
    out_height, out_width = (int(value) for value in size)
    if (out_height, out_width) == (height, width):
        resized = mask
    elif constant:
        # A numpy mask is resized here, once: inside a traced loss the result is a graph constant, not an einsum
        # over the full-resolution mask at every step.
        plane = np.einsum("ih,bhw,jw->bij", _area_matrix(height, out_height), mask[..., 0].astype(np.float64),
                          _area_matrix(width, out_width))
        resized = plane.astype(mask.dtype)[..., None]
    else:
        rows = ops.convert_to_tensor(_area_matrix(height, out_height))  # (out_h, H)
        cols = ops.convert_to_tensor(_area_matrix(width, out_width))  # (out_w, W)
        plane = ops.einsum("ih,bhw,jw->bij", rows, ops.cast(mask[..., 0], "float64"), cols)
        resized = ops.cast(plane, mask.dtype)[..., None]
    resized = ops.convert_to_tensor(resized)
    return resized[..., 0] if squeeze else resized


def _area_matrix(size, out_size):
    """(out_size, size) float64 matrix whose row i averages the input cells under output cell i (rows sum to 1)."""
    scale = size / out_size
    starts = np.arange(out_size)[:, None] * scale
    ends = starts + scale
    cells = np.arange(size)[None, :]
    overlap = np.clip(np.minimum(ends, cells + 1) - np.maximum(starts, cells), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def masked_gram_matrix(x, mask):
    """Gram matrix of the feature vectors of one region: their second moment weighted by the mask.

    `G[b] = Σ_i m_i f_i f_iᵀ / Σ_i m_i` over the positions i of sample b, with f_i the feature vector and m_i ≥ 0 the
    mask at i. With an all-ones mask this is `gram_matrix(x)` (`FᵀF / M`) exactly. With a binary mask it is the
    normalised Gram of the positions inside the region; Gatys et al.'s guided Gram `(F∘T)(F∘T)ᵀ` weights soft
    positions by m² instead of m and is not divided by the region's size, so it shrinks with the region. A region
    that is empty at this layer (`Σ m < EMPTY_REGION`) gives G = 0, not NaN.

    Args:
        x: feature map, shape (B, H, W, C).
        mask: weights, shape (B, H, W, 1) or (1, H, W, 1) (broadcast), values ≥ 0; not differentiated.

    Returns:
        Tensor of shape (B, C, C), dtype of `x`.

    Example:
        >>> import numpy as np
        >>> x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])             # two positions
        >>> masked_gram_matrix(x, np.array([[[[1.0], [0.0]]]])).numpy()   # only the first: f fᵀ of (1, 2)
        array([[[1., 2.],
                [2., 4.]]])

    Reference:
        Gatys, Ecker, Bethge, Hertzmann & Shechtman, "Controlling Perceptual Factors in Neural Style Transfer",
        CVPR 2017 (eq. 5, guided Gram matrices).
    """
    x = ops.convert_to_tensor(x)
    mask = ops.cast(ops.convert_to_tensor(mask), x.dtype)
    # √m·f on both sides of the product gives Σ m f fᵀ with the symmetric-product gradient of `_gram`; for m = 1 the
    # product is bit-for-bit the unmasked one.
    weighted = x * ops.sqrt(ops.maximum(mask, 0.0))
    total = _mask_total(mask)
    return _gram(weighted, normalize=False) * (1.0 / ops.maximum(total, EMPTY_REGION))[:, None, None]


def masked_mean_std(x, mask, epsilon=1e-5):
    """Per-channel mean and standard deviation over one region, weighted by the mask.

    `mean = Σ_i m_i f_i / Σ_i m_i`, `std = sqrt(Σ_i m_i (f_i − mean)² / Σ_i m_i + ε)`: `tfstyle.ops.mean_std`
    (biased variance) with weights. An all-ones mask gives `mean_std(x)`; an empty region gives mean 0 and std √ε.

    Args:
        x: feature map, shape (B, H, W, C).
        mask: weights, shape (B, H, W, 1) or (1, H, W, 1), values ≥ 0; not differentiated.
        epsilon: ε added to the variance before the square root.

    Returns:
        Tuple `(mean, std)`, each of shape (B, C).

    Example:
        >>> import numpy as np
        >>> x = np.array([[[[1.0], [3.0], [100.0]]]])
        >>> mean, std = masked_mean_std(x, np.array([[[[1.0], [1.0], [0.0]]]]), epsilon=0.0)
        >>> float(mean[0, 0]), float(std[0, 0])
        (2.0, 1.0)

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (eq. 5–6), with the region weights of Gatys et al. 2017.
    """
    x = ops.convert_to_tensor(x)
    mask = ops.cast(ops.convert_to_tensor(mask), x.dtype)
    total = ops.maximum(_mask_total(mask), EMPTY_REGION)[:, None]
    mean = ops.sum(mask * x, axis=(1, 2)) / total
    variance = ops.sum(mask * ops.square(x - mean[:, None, None, :]), axis=(1, 2)) / total
    return mean, ops.sqrt(variance + epsilon)


def _mask_total(mask):
    """Σ m over the positions, per sample (B,)."""
    return ops.sum(mask, axis=(1, 2, 3))
