"""Maximum mean discrepancy between the sets of feature vectors of two feature maps."""

import numbers

from keras import ops
from keras import random

from tfstyle.errors import OptionError

KERNELS = ("linear", "poly", "gaussian")


def mmd2(x, y, kernel="poly", degree=2, c=0.0, sigma=None, max_positions=None, seed=0):
    """Squared maximum mean discrepancy between the feature vectors of `x` and those of `y`.

    Each feature map is read as a set of C-vectors, one per position: x_1..x_m (m = Hx·Wx) and y_1..y_n
    (n = Hy·Wy; the sizes may differ). The biased (V-statistic) quadratic form is returned per sample:

        MMD² = (1/m²) Σ_ij k(x_i, x_j) + (1/n²) Σ_ij k(y_i, y_j) − (2/(m·n)) Σ_ij k(x_i, y_j)

    Kernels:
        - "linear": `k(a, b) = aᵀb`, so `MMD² = ‖μ_x − μ_y‖²` (matches the mean feature vectors).
        - "poly": `k(a, b) = (aᵀb + c)^degree`. For degree 2,
          `MMD² = ‖G_x − G_y‖_F² + 2c‖μ_x − μ_y‖²` with the normalised Grams `G = FᵀF/M` of `gram_matrix`; in
          particular `mmd2(x, y, "poly", degree=2, c=0) == ‖gram_matrix(x) − gram_matrix(y)‖_F²`: the Gram style
          loss is MMD with the kernel (aᵀb)² (Li et al. 2017), and `== 4·C²·GramStyleLoss` (see `tfstyle.losses`).
        - "gaussian": `k(a, b) = exp(−‖a − b‖² / (2σ²))`. With `sigma=None`, 2σ² is the mean squared distance
          `(1/(m·n)) Σ_ij ‖x_i − y_j‖²` over the x–y pairs used, per sample, held constant for the gradient
          (stop_gradient), as in the authors' code.

    The "linear" kernel and the "poly" kernel with degree 1 or 2 are evaluated exactly through the closed forms
    above (means and Grams, memory O(M·C + C²)), whatever the size, and ignore `max_positions`. The other kernels
    build the kernel matrices, O(m² + n² + m·n) memory: when a set has more than `max_positions` positions, a subset
    of `max_positions` of them is used. The subset is a fixed pseudo-random choice that depends only on `seed` and
    the number of positions (the same on every call: the loss stays a deterministic function of the image, which
    L-BFGS needs); x uses `seed` and y uses `seed + 1`, and all samples of a batch use the same positions.

    Deviation from the paper: Li et al.'s code uses the linear-time unbiased estimator for the Gaussian kernel (with
    a fresh random pairing at each step). We use the exact biased quadratic form (on a fixed subset for large maps)
    so that the value is deterministic and the polynomial case reproduces the Gram loss exactly.

    Args:
        x: feature map (B, Hx, Wx, C), or a set of vectors (B, m, C).
        y: feature map (B, Hy, Wy, C) or set (B, n, C); a batch of 1 is broadcast against the batch of `x`.
        kernel: "linear", "poly" or "gaussian".
        degree: degree of the "poly" kernel, a positive integer.
        c: offset of the "poly" kernel.
        sigma: bandwidth σ of the "gaussian" kernel; None = set from the data as described above.
        max_positions: largest number of positions per set for the kernel-matrix kernels; None = use all.
        seed: integer seed of the position subset.

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> from tfstyle.ops import gram_matrix
        >>> x = np.random.rand(1, 4, 4, 8)
        >>> y = np.random.rand(1, 6, 5, 8)
        >>> gx, gy = gram_matrix(x), gram_matrix(y)
        >>> np.allclose(mmd2(x, y, "poly", degree=2), np.sum((gx - gy) ** 2, axis=(1, 2)))
        True

    Reference:
        Li, Wang, Liu & Hou, "Demystifying Neural Style Transfer", IJCAI 2017; Gretton et al., "A Kernel
        Two-Sample Test", JMLR 2012.
    """
    _check_kernel_options(kernel, degree, sigma, max_positions, seed)
    x = ops.convert_to_tensor(x)
    y = ops.convert_to_tensor(y, dtype=x.dtype)
    xs = flatten_positions(x)
    ys = flatten_positions(y)
    if kernel == "linear" or (kernel == "poly" and degree <= 2):
        return _mmd2_closed_form(xs, ys, kernel, degree, c)
    xs = subsample_positions(xs, max_positions, seed)
    ys = subsample_positions(ys, max_positions, seed + 1)
    return _mmd2_kernel_matrices(xs, ys, kernel, degree, c, sigma)


def flatten_positions(x):
    """Reshape a feature map (B, H, W, C) to the set of its feature vectors (B, H·W, C); a (B, P, C) set passes."""
    x = ops.convert_to_tensor(x)
    if len(x.shape) == 3:
        return x
    if len(x.shape) != 4:
        raise OptionError(f"expected features of shape (B, H, W, C) or (B, P, C); Received: shape={tuple(x.shape)}")
    shape = ops.shape(x)
    return ops.reshape(x, (shape[0], shape[1] * shape[2], shape[3]))


def subsample_positions(vectors, max_positions, seed=0):
    """A fixed subset of at most `max_positions` of the vectors of a set (B, P, C), the same for every sample.

    The subset is the first `max_positions` entries of a pseudo-random permutation of the P positions drawn with a
    stateless generator from `seed`: it depends only on `seed` and P, never on a global random state, so repeated
    calls choose the same positions (also inside `tf.function` with unknown P). Sets with at most `max_positions`
    vectors, and `max_positions=None`, are returned unchanged.

    Args:
        vectors: set of vectors, shape (B, P, C).
        max_positions: largest number of vectors to keep, or None.
        seed: integer seed.

    Returns:
        Tensor (B, min(P, max_positions), C); the kept positions keep their original order.
    """
    vectors = ops.convert_to_tensor(vectors)
    if max_positions is None:
        return vectors
    count = vectors.shape[1]
    if count is not None and count <= max_positions:
        return vectors
    count = ops.shape(vectors)[1]
    scores = random.uniform((count,), seed=seed)
    keep = ops.sort(ops.argsort(scores)[:max_positions])
    return ops.take(vectors, keep, axis=1)


def _mmd2_closed_form(xs, ys, kernel, degree, c):
    """Exact MMD² of the linear and degree ≤ 2 polynomial kernels through means and normalised Grams."""
    mean_gap = ops.sum(ops.square(ops.mean(xs, axis=1) - ops.mean(ys, axis=1)), axis=-1)
    if kernel == "linear" or degree == 1:
        return mean_gap
    gram_gap = ops.sum(ops.square(_second_moment(xs) - _second_moment(ys)), axis=(1, 2))
    if c == 0:
        return gram_gap
    return gram_gap + 2.0 * c * mean_gap


def _second_moment(vectors):
    positions = ops.cast(ops.shape(vectors)[1], vectors.dtype)
    return ops.matmul(ops.transpose(vectors, (0, 2, 1)), vectors) / positions


def _mmd2_kernel_matrices(xs, ys, kernel, degree, c, sigma):
    """MMD² from the three kernel matrices (any kernel); memory O(m² + n² + m·n) per sample."""
    xx = _inner_products(xs, xs)
    yy = _inner_products(ys, ys)
    xy = _inner_products(xs, ys)
    if kernel == "gaussian":
        x_norms = ops.sum(ops.square(xs), axis=-1)
        y_norms = ops.sum(ops.square(ys), axis=-1)
        d_xx = _squared_distances(x_norms, x_norms, xx)
        d_yy = _squared_distances(y_norms, y_norms, yy)
        d_xy = _squared_distances(x_norms, y_norms, xy)
        if sigma is None:
            two_sigma2 = ops.stop_gradient(ops.mean(d_xy, axis=(1, 2), keepdims=True))
            # A zero mean distance only happens when every vector is the same; any positive width then gives 0.
            two_sigma2 = ops.maximum(two_sigma2, ops.convert_to_tensor(1e-12, dtype=xs.dtype))
        else:
            two_sigma2 = ops.convert_to_tensor(2.0 * sigma**2, dtype=xs.dtype)
        k_xx, k_yy, k_xy = (ops.exp(-d / two_sigma2) for d in (d_xx, d_yy, d_xy))
    elif kernel == "linear":
        k_xx, k_yy, k_xy = xx, yy, xy
    else:
        k_xx, k_yy, k_xy = ((g + c) ** degree for g in (xx, yy, xy))
    return ops.mean(k_xx, axis=(1, 2)) + ops.mean(k_yy, axis=(1, 2)) - 2.0 * ops.mean(k_xy, axis=(1, 2))


def _inner_products(a, b):
    # matmul broadcasts a batch of 1 against a batch of B
    return ops.matmul(a, ops.transpose(b, (0, 2, 1)))


def _squared_distances(a_norms, b_norms, inner):
    # ‖a − b‖² = ‖a‖² + ‖b‖² − 2aᵀb; rounding can make it slightly negative
    return ops.maximum(a_norms[:, :, None] + b_norms[:, None, :] - 2.0 * inner, 0.0)


def _check_kernel_options(kernel, degree, sigma, max_positions, seed):
    if not isinstance(kernel, str) or kernel not in KERNELS:
        raise OptionError(f"unknown kernel {kernel!r}; choose one of: {', '.join(KERNELS)}")
    if isinstance(degree, bool) or not isinstance(degree, numbers.Integral) or degree < 1:
        raise OptionError(f"degree must be a positive integer; Received: degree={degree!r}")
    if sigma is not None and (isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not sigma > 0):
        raise OptionError(f"sigma must be positive or None; Received: sigma={sigma!r}")
    if max_positions is not None and (
        isinstance(max_positions, bool) or not isinstance(max_positions, numbers.Integral) or max_positions < 1
    ):
        raise OptionError(
            f"max_positions must be a positive integer or None; Received: max_positions={max_positions!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise OptionError(f"seed must be an integer; Received: seed={seed!r}")
