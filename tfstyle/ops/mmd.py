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
    ("gaussian", "poly" of degree ≥ 3) need the kernel matrices; with b = `max_positions`, the block size:

        - m ≤ b: x is used whole, and y too when n ≤ b (the exact quadratic form); when n > b, a fixed subset of b
          positions of y, the one `subsample_positions(y, b, seed + 1)` picks. Memory O(m·b + b²) per sample.
        - m > b (block estimator): x's positions are put in a fixed pseudo-random order (a permutation drawn from
          `seed`) and cut into K = ⌈m/b⌉ blocks of b positions, wrapping around at the end (block k holds positions
          perm[(k·b + j) mod m], j < b), so every position of x is in at least one block. Block k is paired with its
          own fixed subset of b positions of y, perm'[(k·b + j) mod n] with a permutation drawn from `seed + 1`, or
          with all of y when n ≤ b. The estimate is the mean over the K blocks of the biased MMD² above of each
          (x block, y block) pair; for the Gaussian with `sigma=None`, 2σ² is the mean squared distance over every
          x–y pair of every block. All blocks are evaluated in one batched computation: memory O(m·b) per sample
          (the gradient is written out in closed form, so a forward and backward pass holds about three m×b
          matrices at its peak: about 0.9 GB in float32 for m = 262 144, relu1_1 of a 512 px image, at b = 256), and
          compute O(m·b·C).
        - `max_positions=None`: the exact quadratic form on all positions, memory O(m² + n² + m·n) per sample.

    The permutations depend only on the seeds and the numbers of positions, and all samples of a batch use the same
    positions: the value is a deterministic, smooth function of x (the same on every call, eagerly or in
    `tf.function`, also with unknown H and W), which L-BFGS needs. The block estimate is close to the full MMD²
    (typically a few % above it on smooth maps at b = 256) but not equal to it: each block's biased form weighs the
    within-block terms with 1/b instead of 1/m; for the Gaussian the diagonal k(x_i, x_i) = 1 adds a constant of
    about 1/b (with no gradient), so two samples of one distribution give about 1/b, not 0.

    Deviation from the paper: Li et al.'s code uses the linear-time unbiased estimator for the Gaussian kernel, with
    fresh random pairings at every SGD step. L-BFGS needs a deterministic objective, which rules out fresh pairings,
    and every pixel needs a gradient: a fixed subset of positions would leave all others without one (only 1.5 % of
    relu1_1 at 512 px for 4096 positions: a speckled, partial style). The deterministic block estimator keeps both;
    small maps use the exact quadratic form, and the polynomial case reproduces the Gram loss exactly.

    Args:
        x: feature map (B, Hx, Wx, C), or a set of vectors (B, m, C).
        y: feature map (B, Hy, Wy, C) or set (B, n, C); a batch of 1 is broadcast against the batch of `x`.
        kernel: "linear", "poly" or "gaussian".
        degree: degree of the "poly" kernel, a positive integer.
        c: offset of the "poly" kernel.
        sigma: bandwidth σ of the "gaussian" kernel; None = set from the data as described above.
        max_positions: block size b of the kernel-matrix kernels (see above); None = all positions, exactly.
        seed: integer seed of the fixed permutations (x uses `seed`, y `seed + 1`).

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
    m = xs.shape[1]
    if max_positions is None or (m is not None and m <= max_positions):
        ys = subsample_positions(ys, max_positions, seed + 1)
        return _mmd2_kernel_matrices(xs, ys, kernel, degree, c, sigma)
    return _mmd2_blocks(xs, ys, kernel, degree, c, sigma, max_positions, seed)


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


def _mmd2_blocks(xs, ys, kernel, degree, c, sigma, block, seed):
    """Block estimate of MMD²: mean over K blocks covering every position of `xs`; see `mmd2`."""
    m = _size(xs, 1)
    n = _size(ys, 1)
    x_block = _minimum(block, m)  # = block when m > block; with an unknown m ≤ block: one block, all of x
    count = (m + x_block - 1) // x_block
    x_blocks = _wrapped_blocks(xs, x_block, count, seed)  # (B, K, b, C)
    if isinstance(n, int) and n <= block:
        y_blocks = ys[:, None]  # (B', 1, n, C): every block pairs with all of y, broadcast
    else:
        y_blocks = _wrapped_blocks(ys, _minimum(block, n), count, seed + 1)  # (B', K, b', C)
    return _mmd2_kernel_matrices(x_blocks, y_blocks, kernel, degree, c, sigma)


def _wrapped_blocks(vectors, size, count, seed):
    """Blocks (B, count, size, C) of a set (B, P, C): block k holds positions perm[(k·size + j) mod P], j < size.

    perm is the fixed permutation of `subsample_positions` (argsort of stateless uniforms drawn from `seed`), so
    block 0 holds the same positions as `subsample_positions(vectors, size, seed)`, and the wrap-around puts every
    position in at least one block when count·size ≥ P.
    """
    positions = ops.shape(vectors)[1]
    permutation = ops.argsort(random.uniform((positions,), seed=seed))
    starts = ops.arange(count, dtype="int32")[:, None] * size
    indices = (starts + ops.arange(size, dtype="int32")[None, :]) % positions
    return ops.take(vectors, ops.take(permutation, indices), axis=1)


def _size(vectors, axis):
    """Static size of an axis as an int, else the dynamic size as an int32 scalar tensor."""
    size = vectors.shape[axis]
    return size if size is not None else ops.cast(ops.shape(vectors)[axis], "int32")


def _minimum(a, b):
    return min(a, b) if isinstance(a, int) and isinstance(b, int) else ops.minimum(a, b)


def _mmd2_kernel_matrices(xs, ys, kernel, degree, c, sigma):
    """MMD² from the three kernel matrices (any kernel), per sample.

    `xs` (B, P, C) and `ys` (B', Q, C): the exact quadratic form. Blocks `xs` (B, K, P, C) and `ys` (B', K or 1,
    Q, C): the mean over the K blocks of the MMD² of each pair of blocks, with one Gaussian width for all blocks.
    The gradient is written out (see `_kernel_mean`), so only the x–x and x–y kernel matrices are kept for the
    backward pass: about 3–4 K·P·Q-value matrices per sample at the peak, instead of about 10 with plain autodiff.
    """
    if len(xs.shape) == 3:
        xs, ys = xs[:, None], ys[:, None]
    two_sigma2 = None
    if kernel == "gaussian":
        if sigma is None:
            two_sigma2 = ops.stop_gradient(_mean_squared_distance(xs, ys))
            # A zero mean distance only happens when every vector is the same; any positive width then gives 0.
            two_sigma2 = ops.maximum(two_sigma2, ops.convert_to_tensor(1e-12, dtype=xs.dtype))
        else:
            two_sigma2 = ops.convert_to_tensor(2.0 * sigma**2, dtype=xs.dtype)
    options = (kernel, degree, c, two_sigma2)
    k_xx = _kernel_mean(xs, None, *options)
    k_yy = _kernel_mean(ys, None, *options)
    k_xy = _kernel_mean(xs, ys, *options)
    return ops.mean(k_xx + k_yy - 2.0 * k_xy, axis=1)


def _mean_squared_distance(xs, ys):
    """2σ² of `sigma=None`: mean ‖x_i − y_j‖² over every x–y pair of every block, (B, 1, 1, 1), in O((P + Q)·C).

    Per block, mean_ij ‖x_i − y_j‖² = mean_i ‖x_i − x̄‖² + mean_j ‖y_j − x̄‖² (centred on x̄: no cancellation), and
    all blocks have the same number of pairs, so the mean over pairs is the mean over blocks.
    """
    centre = ops.mean(xs, axis=2, keepdims=True)
    spread = ops.mean(ops.sum(ops.square(xs - centre), axis=-1), axis=2)
    offset = ops.mean(ops.sum(ops.square(ys - centre), axis=-1), axis=2)
    return ops.mean(spread + offset, axis=1)[:, None, None, None]


def _kernel_mean(a, b, kernel, degree, c, two_sigma2):
    """Mean of k(a_i, b_j) over the pairs of each block, (B, K); `b=None` means b = a (the self term).

    The Gaussian exponent −‖a_i − b_j‖²/(2σ²) = (2a_iᵀb_j − ‖a_i‖² − ‖b_j‖²)/(2σ²) comes out of one matmul of
    augmented vectors [a, ‖a‖², 1]·[2b, −1, −‖b‖²]/(2σ²), so a P×Q block costs one matmul, a `minimum` (rounding
    can make the exponent slightly positive) and an `exp`. The gradient is written out with σ held constant (as
    `stop_gradient` does) from the kernel matrix kept from the forward pass: for the Gaussian
    ∂k(a, b)/∂a = (2/(2σ²))·k·(b − a), so the mean over a P×Q block has gradient
    `(2/(2σ²·P·Q))·(K b − rowsum(K)·a)`; for the polynomial kernel ∂k/∂a = p·(aᵀb + c)^(p−1)·b. The self term
    counts each vector on both sides (factor 2).
    """
    if kernel == "linear":
        kernel, degree, c = "poly", 1, 0.0
    dtype = a.dtype

    def forward(a, b):
        b = a if b is None else b
        if kernel == "gaussian":
            a_norms = ops.sum(ops.square(a), axis=-1, keepdims=True)
            b_norms = ops.sum(ops.square(b), axis=-1, keepdims=True)
            a_hat = ops.concatenate([a, a_norms, ops.ones_like(a_norms)], axis=-1)
            b_hat = ops.concatenate([2.0 * b, -ops.ones_like(b_norms), -b_norms], axis=-1) / two_sigma2
            matrix = ops.exp(ops.minimum(ops.matmul(a_hat, ops.swapaxes(b_hat, -1, -2)), 0.0))
            return ops.mean(matrix, axis=(2, 3)), matrix
        inner = ops.matmul(a, ops.swapaxes(b, -1, -2))
        return ops.mean((inner + c) ** degree, axis=(2, 3)), inner

    def side_gradient(saved, upstream, own, other):
        """Gradient for the vectors `own` (rows of `saved`) paired with `other` (its columns)."""
        pairs = ops.cast(ops.shape(saved)[2] * ops.shape(saved)[3], dtype)
        scale = ops.cast(upstream, dtype)[..., None, None] / pairs
        if kernel == "gaussian":
            # one pass over the kernel matrix for both K·other and rowsum(K): K·[other, 1]
            pulled = ops.matmul(saved, ops.concatenate([other, ops.ones_like(other[..., :1])], axis=-1))
            pulled = pulled[..., :-1] - pulled[..., -1:] * own
            return pulled * (scale * 2.0 / two_sigma2)
        if degree == 1:
            return ops.sum(other, axis=-2, keepdims=True) * scale + ops.zeros_like(own)
        return ops.matmul((saved + c) ** (degree - 1), other) * (scale * degree)

    if b is None:

        @ops.custom_gradient
        def self_mean(a):
            value, saved = forward(a, None)

            def grad(*args, upstream=None):
                if upstream is None:
                    (upstream,) = args
                # a per-sample width can broadcast a target batch of 1 against B
                return _sum_to_shape(2.0 * side_gradient(saved, upstream, a, a), a)

            return value, grad

        return self_mean(a)

    @ops.custom_gradient
    def cross_mean(a, b):
        value, saved = forward(a, b)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            grad_a = side_gradient(saved, upstream, a, b)
            grad_b = side_gradient(ops.swapaxes(saved, -1, -2), upstream, b, a)
            return _sum_to_shape(grad_a, a), _sum_to_shape(grad_b, b)

        return value, grad

    return cross_mean(a, b)


def _sum_to_shape(gradient, like):
    """Sum a gradient over the leading (batch, block) axes along which `like` was broadcast."""
    for axis in (0, 1):
        target, current = like.shape[axis], gradient.shape[axis]
        if target is not None and target == current:
            continue
        if target == 1:
            gradient = ops.sum(gradient, axis=axis, keepdims=True)
            continue
        # unknown sizes: fold the broadcast copies onto the like.shape[axis] rows (identity when the sizes agree)
        size = ops.shape(like)[axis]
        moved = ops.moveaxis(gradient, axis, 0)
        rows = ops.arange(ops.shape(moved)[0], dtype="int32") % ops.cast(size, "int32")
        gradient = ops.moveaxis(ops.segment_sum(moved, rows, num_segments=size), 0, axis)
    return gradient


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
