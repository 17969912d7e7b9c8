"""Style losses: compare the statistics of feature maps (Gram matrices, MMD, channel means and deviations)."""

import keras
from keras import ops

from tfstyle.errors import OptionError
from tfstyle.losses.base import FeatureComparisonLoss
from tfstyle.ops.gram import gram_matrix
from tfstyle.ops.masks import masked_gram_matrix, masked_mean_std
from tfstyle.ops.mmd import _check_kernel_options, flatten_positions, mmd2
from tfstyle.ops.moments import mean_std
from tfstyle.ops.sliced import projection_directions, sliced_wasserstein, sorted_projections

MASKS_UNSUPPORTED = "style_masks support the gram and meanstd style losses"


def gram_style_loss(features, target_gram):
    """Gram style loss of Gatys et al., with normalised Gram matrices, per sample.

    `L = ¼ · (1/C²) Σ_{c,d} (G − A)²` with `G = gram_matrix(features)` and `A = target_gram` the normalised Grams
    (`FᵀF / M`, M = H·W). This is exactly the paper's `E_l = Σ (Ĝ − Â)² / (4 N² M²)` with the unnormalised Grams
    `Ĝ = M·G`, `Â = M·A` and N = C, when both images have M positions (`Ĝ − Â = M(G − A)`, so the M² cancels); with
    normalised Grams the loss is also defined when the sizes differ. It is also `mmd2(x, y, "poly", degree=2) / (4C²)`.

    Args:
        features: features of the generated image, shape (B, H, W, C).
        target_gram: normalised target Gram matrix, shape (B, C, C) or (1, C, C) (broadcast over the batch).

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> features = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])   # G = [[.5, 0], [0, .5]]
        >>> gram_style_loss(features, np.zeros((1, 2, 2))).numpy()   # ¼ · (0.25 + 0.25) / 4
        array([0.03125])

    Reference:
        Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016 (eq. 4).
    """
    features = ops.convert_to_tensor(features)
    target_gram = ops.convert_to_tensor(target_gram, dtype=features.dtype)
    return 0.25 * ops.mean(ops.square(gram_matrix(features) - target_gram), axis=(1, 2))


def mmd_style_loss(
    features, target, kernel="gaussian", degree=2, c=0.0, sigma=None, max_positions=256, seed=0
):
    """MMD style loss: squared MMD between the feature vectors of the features and of the target, per sample.

    `L = mmd2(features, target, ...)`, the biased quadratic-form MMD² of `tfstyle.ops.mmd2`, not rescaled. The
    default Gaussian kernel with 2σ² = mean squared distance follows Li et al.'s code; `kernel="poly", degree=2,
    c=0` gives `4·C²` times the Gram style loss.

    Args:
        features: features of the generated image, shape (B, H, W, C).
        target: target feature map (B, H', W', C) or set of target vectors (B, P, C), e.g. from
            `MMDStyleLoss.representation`; a batch of 1 is broadcast.
        kernel, degree, c, sigma, max_positions, seed: see `tfstyle.ops.mmd2`.

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> x = np.random.rand(1, 8, 8, 4)
        >>> float(mmd_style_loss(x, x)[0])
        0.0

    Reference:
        Li, Wang, Liu & Hou, "Demystifying Neural Style Transfer", IJCAI 2017.
    """
    return mmd2(
        features, target, kernel=kernel, degree=degree, c=c, sigma=sigma, max_positions=max_positions, seed=seed
    )


def mean_std_style_loss(features, target, epsilon=1e-5):
    """Channel-statistics style loss: squared differences of the per-channel means and standard deviations.

    `L = (1/C) Σ_c (μ_c − μ'_c)² + (1/C) Σ_c (σ_c − σ'_c)²` per sample, with μ, σ from `tfstyle.ops.mean_std`
    (biased variance, `σ = sqrt(var + ε)`): the BN-statistics loss of Li et al. (2017), `(1/N) Σ_c [(Δμ)² + (Δσ)²]`.
    AdaIN's style loss uses the same terms (with a sum over layers).

    Args:
        features: features of the generated image, shape (B, H, W, C).
        target: tuple `(mean, std)` of target statistics, each (B, C) or (1, C).
        epsilon: ε of `mean_std` for the features.

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> features = np.array([[[[1.0], [3.0]]]])            # μ = 2, σ = 1
        >>> mean_std_style_loss(features, (np.zeros((1, 1)), np.zeros((1, 1))), epsilon=0.0).numpy()
        array([5.])

    Reference:
        Li, Wang, Liu & Hou, "Demystifying Neural Style Transfer", IJCAI 2017 (sec. 4.2); Huang & Belongie,
        "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017 (eq. 11).
    """
    features = ops.convert_to_tensor(features)
    target_mean, target_std = target
    target_mean = ops.convert_to_tensor(target_mean, dtype=features.dtype)
    target_std = ops.convert_to_tensor(target_std, dtype=features.dtype)
    mean, std = mean_std(features, epsilon)
    return ops.mean(ops.square(mean - target_mean), axis=-1) + ops.mean(ops.square(std - target_std), axis=-1)


def masked_gram_style_loss(features, target_gram, mask):
    """Gram style loss of one region of the features (Gatys et al. 2017's guided Gram loss, normalised).

    `L = ¼ · (1/C²) Σ_{c,d} (G_m − A)²` with `G_m = masked_gram_matrix(features, mask) = Σ_i m_i f_i f_iᵀ / Σ_i m_i`,
    the normalised Gram of the positions inside the region, and A the target's (whole-image) normalised Gram. With an
    all-ones mask this is `gram_style_loss(features, target_gram)` exactly. The value does not depend on the
    region's size; `tfstyle.losses.PerceptualLoss` weights it by the region's share of the positions.

    Args:
        features: features of the generated image, shape (B, H, W, C).
        target_gram: normalised target Gram matrix, shape (B, C, C) or (1, C, C).
        mask: region weights at the features' resolution, shape (B, H, W, 1) or (1, H, W, 1), in [0, 1]
            (see `tfstyle.ops.resize_mask`).

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> features = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])   # region = first position: G_m = [[1, 0], [0, 0]]
        >>> masked_gram_style_loss(features, np.zeros((1, 2, 2)), np.array([[[[1.0], [0.0]]]])).numpy()
        array([0.0625])

    Reference:
        Gatys, Ecker, Bethge, Hertzmann & Shechtman, "Controlling Perceptual Factors in Neural Style Transfer",
        CVPR 2017 (eq. 5–6).
    """
    features = ops.convert_to_tensor(features)
    target_gram = ops.convert_to_tensor(target_gram, dtype=features.dtype)
    return 0.25 * ops.mean(ops.square(masked_gram_matrix(features, mask) - target_gram), axis=(1, 2))


def masked_mean_std_style_loss(features, target, mask, epsilon=1e-5):
    """Channel-statistics style loss of one region: `mean_std_style_loss` with mask-weighted means and deviations.

    `L = (1/C) Σ_c (μ_c − μ'_c)² + (1/C) Σ_c (σ_c − σ'_c)²` with μ, σ from `tfstyle.ops.masked_mean_std` (the
    region's weighted statistics) and μ', σ' the target's whole-image statistics. An all-ones mask gives
    `mean_std_style_loss(features, target)`.

    Args:
        features: features of the generated image, shape (B, H, W, C).
        target: tuple `(mean, std)` of target statistics, each (B, C) or (1, C).
        mask: region weights at the features' resolution, shape (B, H, W, 1) or (1, H, W, 1), in [0, 1].
        epsilon: ε of `masked_mean_std` for the features.

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> features = np.array([[[[1.0], [3.0], [100.0]]]])     # region: μ = 2, σ = 1
        >>> mask = np.array([[[[1.0], [1.0], [0.0]]]])
        >>> masked_mean_std_style_loss(features, (np.zeros((1, 1)), np.zeros((1, 1))), mask, epsilon=0.0).numpy()
        array([5.])

    Reference:
        Li, Wang, Liu & Hou, "Demystifying Neural Style Transfer", IJCAI 2017 (sec. 4.2), with the region weights of
        Gatys et al., "Controlling Perceptual Factors in Neural Style Transfer", CVPR 2017.
    """
    features = ops.convert_to_tensor(features)
    target_mean, target_std = target
    target_mean = ops.convert_to_tensor(target_mean, dtype=features.dtype)
    target_std = ops.convert_to_tensor(target_std, dtype=features.dtype)
    mean, std = masked_mean_std(features, mask, epsilon)
    return ops.mean(ops.square(mean - target_mean), axis=-1) + ops.mean(ops.square(std - target_std), axis=-1)


@keras.saving.register_keras_serializable(package="tfstyle")
class GramStyleLoss(FeatureComparisonLoss):
    """Gram style loss of Gatys et al. with normalised Gram matrices (see `gram_style_loss`).

    representation: the normalised Gram matrix (B, C, C); compare: `¼·mean((G − A)²)` per sample, equal to the
    paper's `E_l = Σ(Ĝ − Â)²/(4N²M²)` with unnormalised Grams. compare_masked: the same for one region of the
    features (`masked_gram_style_loss`), used for spatial control with style masks.

    Args:
        name: name of the loss.
        reduction: Keras reduction over the batch.
        dtype: dtype of the inputs.

    Example:
        >>> import numpy as np
        >>> loss = GramStyleLoss()
        >>> style, image = np.random.rand(1, 16, 16, 8), np.random.rand(2, 12, 12, 8)
        >>> target = loss.representation(style)          # (1, 8, 8), computed once
        >>> loss.compare(image, target).shape             # broadcast over the batch of 2
        TensorShape([2])

    Reference:
        Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016 (eq. 4).
    """

    supports_masks = True

    def __init__(self, name="gram_style_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def representation(self, features):
        return gram_matrix(features)

    def compare(self, features, target):
        return gram_style_loss(features, target)

    def compare_masked(self, features, target, mask):
        """`compare` restricted to the region `mask` (B or 1, H, W, 1) of the features."""
        return masked_gram_style_loss(features, target, mask)


@keras.saving.register_keras_serializable(package="tfstyle")
class MMDStyleLoss(FeatureComparisonLoss):
    """MMD style loss of Li et al.: squared MMD between sets of feature vectors (see `tfstyle.ops.mmd2`).

    representation: all H'·W' feature vectors of the target (B, P, C). For the kernel-matrix kernels `mmd2` pairs
    each block of the features with its own subset of the target, and which subsets depends on the number of
    feature positions, only known in `compare`; so the whole set is kept (P·C floats per layer: 64 MB for relu1_1
    of a 512 px style image) and `compare(x, representation(y)) == mmd2(x, y, ...)` exactly. compare: `mmd2`
    between the features and that set.

    Memory and time of the default Gaussian kernel (block estimator of `mmd2`, b = `max_positions`): O(m·b) memory
    and O(m·b·C) compute per layer for m feature positions; the peak of a forward and backward pass holds about
    three m×b float32 matrices. At relu1_1 of a 512 px image (m = 262 144, C = 64) an m×b matrix is 268 MB at
    b = 256 (1.07 GB at b = 1024). Measured on a 2-core CPU, forward + backward of the loss alone, extra peak
    resident memory / time: relu1_1 alone 0.8–0.9 GB / 4.5–5.4 s at 512 px and 0.45 GB / 1 s at 256 px; the five
    VGG-16 style layers relu1_1…relu5_1 together 1.2 GB / 6.4 s at 512 px (b = 512: 1.6 GB / 10.5 s; b = 1024:
    2.7 GB / 14 s; the former fixed 4096-position subsets: 5.7 GB / 60 s) and 0.43 GB / 0.7 s at 256 px, next to
    8.5 s for the VGG-16 forward + backward pass itself at 512 px. A whole 512 px `tfstyle.stylize` run (vgg16_hed)
    peaked at 2.45 GB resident, as with the Gram loss (2.51 GB). Hence the default b = 256.

    Args:
        kernel: "gaussian" (default, with 2σ² = mean squared distance when `sigma` is None), "linear" or "poly".
        degree: degree of the "poly" kernel.
        c: offset of the "poly" kernel.
        sigma: bandwidth of the "gaussian" kernel, or None.
        max_positions: block size b of the kernel-matrix kernels ("gaussian", "poly" of degree ≥ 3; see
            `tfstyle.ops.mmd2`): feature maps with more than b positions are covered by ⌈m/b⌉ blocks of b
            positions, each compared with b target positions (memory and time above); smaller maps are compared
            whole with at most b target positions. None = the exact quadratic form on all positions (memory
            O(m² + n² + m·n): small maps only). Ignored by the closed-form kernels.
        seed: seed of the fixed permutations that form the blocks.
        name: name of the loss.
        reduction: Keras reduction over the batch.
        dtype: dtype of the inputs.

    Example:
        >>> import numpy as np
        >>> loss = MMDStyleLoss(max_positions=64)
        >>> target = loss.representation(np.random.rand(1, 16, 16, 8))   # (1, 256, 8): all target vectors
        >>> loss.compare(np.random.rand(1, 16, 16, 8), target).shape
        TensorShape([1])

    Style masks (spatial control) are not supported: a weighted version of the block estimator would need weighted
    blocks of positions; `compare_masked` raises `OptionError`. Use the Gram or mean/std loss with masks.

    Reference:
        Li, Wang, Liu & Hou, "Demystifying Neural Style Transfer", IJCAI 2017.
    """

    supports_masks = False

    def __init__(
        self,
        kernel="gaussian",
        degree=2,
        c=0.0,
        sigma=None,
        max_positions=256,
        seed=0,
        name="mmd_style_loss",
        reduction="sum_over_batch_size",
        dtype=None,
    ):
        _check_kernel_options(kernel, degree, sigma, max_positions, seed)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.kernel = kernel
        self.degree = degree
        self.c = c
        self.sigma = sigma
        self.max_positions = max_positions
        self.seed = seed

    def representation(self, features):
        # All target vectors: which of them `mmd2` pairs with each block of the features depends on the number of
        # feature positions, only known in `compare`.
        return flatten_positions(features)

    def compare(self, features, target):
        return mmd_style_loss(
            features,
            target,
            kernel=self.kernel,
            degree=self.degree,
            c=self.c,
            sigma=self.sigma,
            max_positions=self.max_positions,
            seed=self.seed,
        )

    def compare_masked(self, features, target, mask):
        raise OptionError(MASKS_UNSUPPORTED)

    def get_config(self):
        config = super().get_config()
        config.update(
            kernel=self.kernel,
            degree=self.degree,
            c=self.c,
            sigma=self.sigma,
            max_positions=self.max_positions,
            seed=self.seed,
        )
        return config


@keras.saving.register_keras_serializable(package="tfstyle")
class MeanStdStyleLoss(FeatureComparisonLoss):
    """Channel-statistics (BN-statistics / AdaIN) style loss (see `mean_std_style_loss`).

    representation: `(mean, std)` of the target, each (B, C); compare: `mean_c (Δμ)² + mean_c (Δσ)²` per sample;
    compare_masked: the same with the region's mask-weighted statistics (`masked_mean_std_style_loss`).

    Args:
        epsilon: ε added to the variance before the square root.
        name: name of the loss.
        reduction: Keras reduction over the batch.
        dtype: dtype of the inputs.

    Example:
        >>> import numpy as np
        >>> loss = MeanStdStyleLoss()
        >>> mean, std = loss.representation(np.random.rand(1, 16, 16, 8))   # (1, 8) each
        >>> loss.compare(np.random.rand(2, 8, 8, 8), (mean, std)).shape
        TensorShape([2])

    Reference:
        Li, Wang, Liu & Hou, "Demystifying Neural Style Transfer", IJCAI 2017 (sec. 4.2).
    """

    supports_masks = True

    def __init__(self, epsilon=1e-5, name="mean_std_style_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.epsilon = epsilon

    def representation(self, features):
        return mean_std(features, self.epsilon)

    def compare(self, features, target):
        return mean_std_style_loss(features, target, self.epsilon)

    def compare_masked(self, features, target, mask):
        """`compare` restricted to the region `mask` (B or 1, H, W, 1) of the features."""
        return masked_mean_std_style_loss(features, target, mask, self.epsilon)

    def get_config(self):
        config = super().get_config()
        config["epsilon"] = self.epsilon
        return config


def sliced_wasserstein_style_loss(features, target):
    """Sliced-Wasserstein style loss: `tfstyle.ops.sliced_wasserstein` between the features and a target.

    `L = (1/K) Σ_k (1/M) Σ_i (sort(F v_k)_i − T_k(i))²` per sample, with `target = (directions, sorted)` from
    `SlicedWassersteinStyleLoss.representation`.

    Args:
        features: features of the generated image, shape (B, H, W, C).
        target: tuple `(directions (C, K), sorted projections (1 or B, N, K))`.

    Returns:
        Tensor of shape (B,).

    Reference:
        Heitz, Vanhoey, Chambon & Belcour, "A Sliced Wasserstein Loss for Neural Texture Synthesis", CVPR 2021.
    """
    directions, target_sorted = target
    return sliced_wasserstein(features, target_sorted, directions)


@keras.saving.register_keras_serializable(package="tfstyle")
class SlicedWassersteinStyleLoss(FeatureComparisonLoss):
    """Sliced-Wasserstein style loss (Heitz et al. 2021): the whole distribution of the feature vectors is matched
    along K projections, not only its first two moments as with Gram or mean/std.

    representation: `(directions, sorted projections)` of the target, the directions a seeded random orthonormal
    basis of the layer's C channels (`projections` directions; default C). compare: the squared sliced
    Wasserstein-2 distance `sliced_wasserstein_style_loss` (mean over positions and directions).

    Deviation from the paper, on purpose: Heitz et al. draw new random directions at every step of their optimizer;
    here they are fixed per layer (by `seed`), so that the loss is a deterministic function of the image, which
    L-BFGS's line search and exact resume need. With K = C directions a full basis of the feature space is matched,
    which constrains every channel's marginal in that basis.

    Cost: one sort of the M×K projections per layer and step, O(M·K·log M), on top of the Gram loss's O(M·C²)
    matrix product; the sort dominates at the shallow, large layers (measured: docs/defaults.md).

    Style masks are not supported (a masked sort would need weighted quantiles); use Gram or mean/std with masks.

    Args:
        projections: number of directions K per layer, or None for C.
        seed: seed of the directions.
        name: name of the loss.
        reduction: Keras reduction over the batch.
        dtype: dtype of the inputs.

    Example:
        >>> import numpy as np
        >>> loss = SlicedWassersteinStyleLoss()
        >>> target = loss.representation(np.random.rand(1, 16, 16, 8))   # directions (8, 8), sorted (1, 256, 8)
        >>> loss.compare(np.random.rand(2, 12, 12, 8), target).shape
        TensorShape([2])

    Reference:
        Heitz, Vanhoey, Chambon & Belcour, "A Sliced Wasserstein Loss for Neural Texture Synthesis", CVPR 2021.
    """

    supports_masks = False

    def __init__(self, projections=None, seed=0, name="sliced_wasserstein_style_loss",
                 reduction="sum_over_batch_size", dtype=None):
        if projections is not None and (isinstance(projections, bool) or int(projections) < 1):
            raise OptionError(f"projections must be a positive number or None; Received: projections={projections!r}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.projections = None if projections is None else int(projections)
        self.seed = int(seed)

    def representation(self, features):
        features = ops.convert_to_tensor(features)
        directions = ops.convert_to_tensor(projection_directions(features.shape[-1], self.projections, self.seed))
        return directions, sorted_projections(features, directions)

    def compare(self, features, target):
        return sliced_wasserstein_style_loss(features, target)

    def compare_masked(self, features, target, mask):
        raise OptionError(MASKS_UNSUPPORTED)

    def get_config(self):
        config = super().get_config()
        config.update(projections=self.projections, seed=self.seed)
        return config
