"""Sliced Wasserstein distance between the feature distributions of two images (Heitz et al. 2021)."""

import numpy as np
from keras import ops


def projection_directions(channels, count=None, seed=0):
    """Fixed unit directions to project C-dimensional feature vectors on: a seeded random orthonormal basis.

    `count` directions (default C) are taken from random orthonormal bases of R^C (QR of a Gaussian matrix, signs
    fixed so the draw is unique), as many bases as needed. Fixed directions keep the loss a deterministic function
    of the image, which L-BFGS's line search needs; Heitz et al. draw new directions every step instead, which suits
    stochastic optimizers (see `SlicedWassersteinStyleLoss`).

    Args:
        channels: C, the length of the feature vectors.
        count: number of directions K; default C.
        seed: seed of the draw.

    Returns:
        float32 array (C, K) whose columns have unit norm.

    Example:
        >>> directions = projection_directions(4, seed=1)
        >>> np.allclose(directions.T @ directions, np.eye(4), atol=1e-6)
        True
    """
    channels, count = int(channels), int(channels if count is None else count)
    if channels < 1 or count < 1:
        raise ValueError(f"need channels ≥ 1 and count ≥ 1; received channels={channels}, count={count}")
    rng = np.random.default_rng(seed)
    bases = []
    for _ in range(-(-count // channels)):
        q, r = np.linalg.qr(rng.standard_normal((channels, channels)))
        bases.append(q * np.sign(np.diag(r)))
    return np.concatenate(bases, axis=1)[:, :count].astype(np.float32)


def sorted_projections(features, directions):
    """The feature vectors projected on `directions`, each projection sorted over the positions.

    Args:
        features: (B, H, W, C) feature map or (B, P, C) set of feature vectors.
        directions: (C, K).

    Returns:
        (B, P, K) with P = H·W: column k holds the sorted values of the projection on direction k.
    """
    features = ops.convert_to_tensor(features)
    directions = ops.cast(ops.convert_to_tensor(directions), features.dtype)
    channels = ops.shape(features)[-1]
    flat = ops.reshape(features, (ops.shape(features)[0], -1, channels))
    return ops.sort(ops.einsum("bpc,ck->bpk", flat, directions), axis=1)


def sliced_wasserstein(features, target_sorted, directions):
    """Squared sliced Wasserstein-2 distance between the feature vectors of a map and a target's, per sample.

    `SW² = (1/K) Σ_k (1/M) Σ_i (sort(F v_k)_i − T_k(i))²` over the M positions of the features F, with v_k the
    directions and T_k the target's sorted projections on v_k resampled to M quantiles: the target value at rank
    ⌊(i + ½)·N/M⌋ of its N positions (nearest-rank quantiles), so maps of different sizes compare. Zero when every
    projected distribution is the target's. Sorting is differentiable almost everywhere: the gradient at position
    i pulls its projection towards the target value of its rank.

    Args:
        features: (B, H, W, C).
        target_sorted: (1 or B, N, K) sorted projections of the target (`sorted_projections`).
        directions: (C, K), the same directions the target was projected on.

    Returns:
        Tensor of shape (B,).

    Example:
        >>> x = np.random.rand(1, 8, 8, 3).astype("float32")
        >>> d = projection_directions(3)
        >>> float(sliced_wasserstein(x, sorted_projections(x, d), d)[0])
        0.0

    Reference:
        Heitz, Vanhoey, Chambon & Belcour, "A Sliced Wasserstein Loss for Neural Texture Synthesis", CVPR 2021.
    """
    projected = sorted_projections(features, directions)
    target_sorted = ops.cast(ops.convert_to_tensor(target_sorted), projected.dtype)
    # exact integer ranks ⌊(2i + 1)·N / 2M⌋: in float32 they drift by one rank once M·N passes ~1e7
    positions = ops.cast(ops.shape(projected)[1], "int64")
    target_positions = ops.cast(ops.shape(target_sorted)[1], "int64")
    ranks = (2 * ops.arange(positions, dtype="int64") + 1) * target_positions // (2 * positions)
    quantiles = ops.take(target_sorted, ranks, axis=1)
    return ops.mean(ops.square(projected - quantiles), axis=(1, 2))
