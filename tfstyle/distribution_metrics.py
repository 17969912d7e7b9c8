"""Distances between two *sets* of images: KID and FID maths, on features of a local network.

Unpaired translation (CycleGAN and its family) is judged by how close the distribution of translated images is to
the distribution of real images of the target domain. The published scores, Kernel Inception Distance (KID) and
Fréchet Inception Distance (FID), embed images with an ImageNet InceptionV3, whose weights must be downloaded.
Here the same formulas run on features of a local network: by default `FeatureNetwork` global-average-pools the
`block4_conv3` maps of the offline `vgg16_hed` backbone and scales each vector to norm √C. Scores computed this way
are labelled with that network ("KID on vgg16_hed features", `FeatureNetwork.label`) and are comparable only with
scores on the same network, layer and weights, never with published Inception KID/FID numbers.

- `kernel_inception_distance`: unbiased MMD² with the cubic polynomial kernel k(x, y) = (xᵀy/d + 1)³, averaged
  over random subsets (Bińkowski et al. 2018). Unbiased: 0 in expectation for two samples of one distribution, so
  single estimates can be slightly negative; reliable already for a few hundred images.
- `frechet_distance`: ‖μa − μb‖² + Tr(Σa + Σb − 2(ΣaΣb)^½) between Gaussians fitted to the two sets (Heusel et
  al. 2017). Biased, and needs more images than feature dimensions for full-rank covariances: prefer KID for small
  sets.

The maths needs only NumPy and SciPy; only `FeatureNetwork` starts TensorFlow (when it is built).

Example:
    >>> from tfstyle import distribution_metrics as dm
    >>> network = dm.FeatureNetwork()                     # vgg16_hed, block4_conv3, global average pooling
    >>> fake, real = network(translated_images), network(target_images)     # (N, 512) each
    >>> dm.kernel_inception_distance(fake, real, subsets=50).mean
    0.41
    >>> network.compare(translated_images, target_images)
    {'network': 'vgg16_hed/block4_conv3', 'kid': 0.41, 'kid_std': 0.02, 'kid_subset_size': 60, 'fid': 61.1, ...}
"""

import math
import warnings
from typing import NamedTuple

import numpy as np

from tfstyle.errors import ImageError, OptionError

DEFAULT_BACKBONE = "vgg16_hed"
# Why block4_conv3: measured on both benchmarks of `scripts/make_unpaired_benchmark.py` (128 px crops; outputs for
# 60 test crops against the ground truth of the other 60; normalised features). Its KID ranks, for the sketch,
# oracle (≈ 0) < fainter sketch 0.34 < 50 % photo/sketch blend 0.41 < grayscale photo 0.46 < ink filter 0.67 <
# unchanged photo 0.81, and for the ink wash, oracle (≈ 0) < blend 0.44 < no erosion/bleed 0.71 < sketch filter
# 0.79 < unchanged photo 0.96 ≈ grayscale photo 1.08, with a subset noise of about 0.02. block5_conv3 (maps of
# 4×4–8×8 px at these sizes) barely told the other filter from the right one (0.08 and 0.15) and scored the
# grayscale photo 0.11 on the sketch benchmark; block3_conv3 ranked much like block4_conv3.
DEFAULT_LAYER = "block4_conv3"
DEFAULT_SUBSETS = 100  # Bińkowski et al.'s reference code: 100 subsets of 1000
DEFAULT_SUBSET_SIZE = 1000
FID_EPSILON = 1e-6
# up to this many feature vectors in both sets, KID computes the full kernel matrices once (≤ 128 MiB of float64)
_PRECOMPUTE_LIMIT = 4096
# largest imaginary part of (ΣaΣb)^½, relative to its trace, still treated as round-off
_IMAGINARY_TOLERANCE = 1e-3


class KIDResult(NamedTuple):
    """A KID estimate: the mean of the unbiased MMD² over subsets and its standard deviation."""

    mean: float
    std: float
    subsets: int
    subset_size: int


def unbiased_mmd2(features_a, features_b):
    """Unbiased MMD² between two feature sets with the KID kernel k(x, y) = (xᵀy/d + 1)³.

    For sets X (m × d) and Y (n × d):

        MMD²_u = Σ_{i≠j} k(xᵢ, xⱼ) / (m(m−1)) + Σ_{i≠j} k(yᵢ, yⱼ) / (n(n−1)) − 2 Σ_{i,j} k(xᵢ, yⱼ) / (mn)

    The diagonal terms k(xᵢ, xᵢ) are left out, which makes the estimate unbiased: its expectation is the population
    MMD², 0 when both sets come from one distribution (so a single estimate can be negative).

    Args:
        features_a: (m, d) array, m ≥ 2.
        features_b: (n, d) array, n ≥ 2, same d.

    Returns:
        A float.

    Raises:
        OptionError: not 2-D, fewer than 2 rows, different feature sizes, or non-finite values.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(300, 8))
        >>> abs(unbiased_mmd2(x[:150], x[150:])) < 0.01
        True

    Reference:
        Gretton et al. 2012, "A Kernel Two-Sample Test" (eq. 3); the kernel of Bińkowski et al. 2018.
    """
    a, b = _check_pair(features_a, features_b, minimum=2)
    return _mmd2(a, b)


def kernel_inception_distance(features_a, features_b, subsets=DEFAULT_SUBSETS, subset_size=None, seed=0):
    """KID: the unbiased MMD² with kernel (xᵀy/d + 1)³, averaged over random subsets of the two feature sets.

    Each of the `subsets` rounds draws `subset_size` rows of each set without replacement (independently per round)
    and computes `unbiased_mmd2`; the result is the mean and the standard deviation (ddof = 0) of these values. When
    both sets have exactly `subset_size` rows every round sees the same sets, so the value is computed once (std 0).
    A set compared with itself scores slightly below 0: its subsets share rows, whose self-similarity k(x, x) then
    enters the cross term.
    Multiply by 1000 for the "KID × 10³" of most tables. On features other than InceptionV3 pool3 (as everywhere in
    tfstyle) it is a KID *on that network*, not comparable with published KID.

    Args:
        features_a: (m, d) features of one image set, e.g. translated images.
        features_b: (n, d) features of the other, e.g. real images of the target domain.
        subsets: number of random subsets, ≥ 1.
        subset_size: rows per subset, 2 ≤ subset_size ≤ min(m, n); default min(1000, m, n).
        seed: seed of the subset sampling; the same seed gives the same result.

    Returns:
        `KIDResult(mean, std, subsets, subset_size)`.

    Raises:
        OptionError: bad feature arrays (see `unbiased_mmd2`), `subsets` < 1, or a `subset_size` the sets cannot
            fill.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> kid = kernel_inception_distance(rng.normal(size=(200, 16)), rng.normal(1.0, 1.0, size=(200, 16)))
        >>> round(kid.mean, 1), kid.subset_size, kid.std                # both sets fill one subset: std 0
        (8.4, 200, 0.0)

    Reference:
        Bińkowski, Sutherland, Arbel & Gretton 2018, "Demystifying MMD GANs" (section 4 and their reference code:
        100 subsets of 1000).
    """
    a, b = _check_pair(features_a, features_b, minimum=2)
    subsets = _count(subsets, "subsets", minimum=1)
    largest = min(len(a), len(b))
    if subset_size is None:
        subset_size = min(DEFAULT_SUBSET_SIZE, largest)
    elif isinstance(subset_size, bool) or not isinstance(subset_size, (int, np.integer)) \
            or not 2 <= subset_size <= largest:
        raise OptionError(f"subset_size must be an integer from 2 to {largest} (the smaller set's size); "
                          f"Received: subset_size={subset_size!r}")
    subset_size = int(subset_size)
    if len(a) == len(b) == subset_size:
        return KIDResult(_mmd2(a, b), 0.0, subsets, subset_size)
    rng = np.random.default_rng(seed)
    draws = [(rng.choice(len(a), subset_size, replace=False), rng.choice(len(b), subset_size, replace=False))
             for _ in range(subsets)]
    if len(a) + len(b) <= _PRECOMPUTE_LIMIT:
        # every subset's kernels are blocks of the full kernel matrices: compute those once
        k_aa, k_bb, k_ab = _kernel(a, a), _kernel(b, b), _kernel(a, b)
        values = [_mmd2_from_kernels(k_aa[np.ix_(i, i)], k_bb[np.ix_(j, j)], k_ab[np.ix_(i, j)]) for i, j in draws]
    else:
        values = [_mmd2(a[i], b[j]) for i, j in draws]
    values = np.asarray(values)
    return KIDResult(float(values.mean()), float(values.std()), subsets, subset_size)


def frechet_distance(features_a, features_b, epsilon=FID_EPSILON):
    """FID maths: the Fréchet distance between Gaussians fitted to two feature sets.

        d² = ‖μa − μb‖² + Tr(Σa) + Tr(Σb) − 2 Tr((Σa Σb)^½)

    with μ the mean and Σ the unbiased (N − 1) covariance of each set. (ΣaΣb)^½ is `scipy.linalg.sqrtm` of the
    product. Two numerical cases are handled as in the reference FID code:

    - singular covariances (fewer images than feature dimensions, or dead features): when SciPy reports the product
      singular or returns non-finite values, `epsilon`·I is added to both covariances and the root recomputed;
      this changes d² by about `epsilon` · d.
    - round-off makes the root of a (theoretically PSD-similar) product slightly complex: imaginary parts up to
      10⁻³ of the trace are dropped; larger ones raise ValueError.

    The value is biased upwards for small sets (it shrinks as the sets grow) and needs more images than feature
    dimensions to be meaningful; for a few hundred images prefer `kernel_inception_distance`. On features other
    than InceptionV3 pool3 it is not comparable with published FID.

    Args:
        features_a: (m, d) array, m ≥ 2.
        features_b: (n, d) array, n ≥ 2, same d.
        epsilon: diagonal offset for singular covariances, ≥ 0.

    Returns:
        A float ≥ 0 (up to round-off).

    Raises:
        OptionError: bad feature arrays or `epsilon`.
        ValueError: the matrix root has a large imaginary part even after the offset.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(5000, 2))
        >>> round(frechet_distance(x, x + [3.0, 4.0]), 6)      # shifted by 5: ‖Δμ‖² = 25
        25.0

    Reference:
        Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium";
        Dowson & Landau 1982 for the Fréchet distance of Gaussians.
    """
    a, b = _check_pair(features_a, features_b, minimum=2)
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.floating, np.integer)) \
            or not math.isfinite(epsilon) or epsilon < 0:
        raise OptionError(f"epsilon must be a number ≥ 0; Received: epsilon={epsilon!r}")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    root = _sqrtm_product(cov_a, cov_b, float(epsilon))
    value = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(root)
    return float(value)


class FeatureNetwork:
    """Embeds images as vectors for KID / FID: one layer of a local backbone, global-average-pooled.

    Built once (a frozen `FeatureExtractor`); calls run in batches of `batch_size`. The embedding is the mean over
    positions of the layer's (ReLU) feature maps, so images of any size ≥ the backbone's minimum give vectors of
    the layer's channel count C, and images of different sizes can be compared.

    With `normalize=True` (the default) each vector is then scaled to Euclidean norm √C, so that the xᵀy/C of the
    KID kernel is the cosine similarity of two images' embeddings, in [0, 1], and the kernel (xᵀy/C + 1)³ stays
    in [1, 8]: the order-one regime it was designed for on Inception features. Raw VGG activations average 1–6
    per channel; their cube is dominated by the overall activation energy (measured on the sketch benchmark: KIDs
    of 10³–10⁵ on block3/block5, and a faint sketch scored 9× farther from the true sketches than the unchanged
    photo). `normalize=False` gives the raw means.

    Scores computed on these features carry `label` ("vgg16_hed/block4_conv3"): they are KID / FID *on that
    network*, not comparable with published Inception KID/FID.

    Args:
        backbone: registry name of the network (default the offline `vgg16_hed`), or a `FeatureExtractor` to
            share (it must contain `layer`; `weights` must then be left at its default).
        layer: stable layer name; default `block4_conv3` (see `DEFAULT_LAYER` for why).
        weights: weights of the network (see `tfstyle.backbones.build_backbone`); None = random, for tests.
        batch_size: images per forward pass, ≥ 1.
        normalize: scale each embedding to norm √C (see above); False = raw channel means.

    Example:
        >>> network = FeatureNetwork()
        >>> network(np.random.rand(4, 64, 64, 3)).shape
        (4, 512)
        >>> network.label
        'vgg16_hed/block4_conv3'
    """

    def __init__(self, backbone=DEFAULT_BACKBONE, layer=DEFAULT_LAYER, weights="default", batch_size=32,
                 normalize=True):
        from tfstyle.backbones.registry import get_spec

        shared = not isinstance(backbone, str)
        spec = backbone.spec if shared else get_spec(backbone)
        if not isinstance(layer, str):
            raise OptionError(f"layer must be one layer name; Received: layer={layer!r}")
        spec.check_layers([layer])
        self.batch_size = _count(batch_size, "batch_size", minimum=1)
        if not isinstance(normalize, bool):
            raise OptionError(f"normalize must be True or False; Received: normalize={normalize!r}")
        self.normalize = normalize
        if shared:
            if weights != "default":
                raise OptionError(f"weights come from the shared FeatureExtractor; Received: weights={weights!r}")
            if layer not in backbone.layers:
                raise OptionError(f"the shared FeatureExtractor lacks layer {layer}; "
                                  f"it has {', '.join(backbone.layers)}")
            self.extractor = backbone
        else:
            from tfstyle.backbones.feature_extractor import FeatureExtractor  # lazy: starts TensorFlow

            self.extractor = FeatureExtractor(backbone, [layer], weights=weights)
        self.spec = spec
        self.layer = layer

    @property
    def label(self):
        """`backbone/layer`, plus what differs from the defaults (weights, raw features): name scores with it."""
        extras = []
        if self.extractor.weights not in ("default", self.spec.default_weights):
            extras.append(f"weights={self.extractor.weights}")
        if not self.normalize:
            extras.append("raw")
        return f"{self.spec.name}/{self.layer}" + (f"[{'; '.join(extras)}]" if extras else "")

    def __call__(self, images):
        """(N, C) float64 embeddings of `images`.

        Args:
            images: a (N, H, W, 3) array of RGB in [0, 1] (float, or uint8 divided by 255), or a sequence of
                (H, W, 3) arrays, whose sizes may differ (consecutive images of one size share a batch).

        Raises:
            ImageError: no images, a wrong shape, non-finite values, or a side shorter than the backbone's minimum.
        """
        groups = _size_groups(images, self.spec.min_size, self.spec.name)
        vectors = []
        for group in groups:
            for start in range(0, len(group), self.batch_size):
                batch = group[start:start + self.batch_size]
                maps = np.asarray(self.extractor(batch)[self.layer], np.float64)
                vectors.append(maps.mean(axis=(1, 2)))
        vectors = np.concatenate(vectors)
        if self.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            # an all-zero embedding (a dead input) stays zero rather than becoming NaN
            vectors = vectors * np.sqrt(vectors.shape[1]) / np.where(norms > 0, norms, 1.0)
        return vectors

    def compare(self, images_a, images_b, subsets=DEFAULT_SUBSETS, subset_size=None, seed=0):
        """KID and FID between two image sets on this network, in one labelled dict.

        Returns:
            `{"network": label, "kid": mean, "kid_std": std, "kid_subset_size": int, "fid": float,
            "count_a": int, "count_b": int}`; KID as a raw MMD² (not × 10³).
        """
        features_a, features_b = self(images_a), self(images_b)
        kid = kernel_inception_distance(features_a, features_b, subsets, subset_size, seed)
        return {"network": self.label, "kid": kid.mean, "kid_std": kid.std, "kid_subset_size": kid.subset_size,
                "fid": frechet_distance(features_a, features_b), "count_a": len(features_a),
                "count_b": len(features_b)}

    def __repr__(self):
        return f"FeatureNetwork({self.label!r}, batch_size={self.batch_size})"


# --- helpers ----------------------------------------------------------------------------------------------------


def _kernel(x, y):
    """The KID kernel matrix (xᵀy/d + 1)³."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd2(a, b):
    return _mmd2_from_kernels(_kernel(a, a), _kernel(b, b), _kernel(a, b))


def _mmd2_from_kernels(k_aa, k_bb, k_ab):
    m, n = len(k_aa), len(k_bb)
    within_a = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
    within_b = (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
    return float(within_a + within_b - 2.0 * k_ab.mean())


def _sqrtm_product(cov_a, cov_b, epsilon):
    """Real (Σa Σb)^½, retried with `epsilon`·I added to both when the product is singular."""
    from scipy import linalg

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", linalg.LinAlgWarning)
        root = linalg.sqrtm(cov_a @ cov_b)
    singular = any(issubclass(w.category, linalg.LinAlgWarning) for w in caught)
    if (singular or not np.isfinite(root).all()) and epsilon > 0:
        offset = epsilon * np.eye(len(cov_a))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    if not np.isfinite(root).all():
        raise ValueError("the square root of the covariance product is not finite; the features may contain huge "
                         "values or the covariances may be degenerate (try a larger epsilon)")
    if np.iscomplexobj(root):
        imaginary = np.abs(root.imag).max()
        if imaginary > _IMAGINARY_TOLERANCE * max(1.0, abs(np.trace(root.real))):
            raise ValueError(f"the square root of the covariance product has an imaginary part of {imaginary:.3g}, "
                             "more than round-off; the covariances may be degenerate (try a larger epsilon)")
        root = root.real
    return root


def _check_features(features, name, minimum):
    try:
        array = np.asarray(features, np.float64)
    except (TypeError, ValueError):
        raise OptionError(f"{name} must be a numeric (N, d) array; Received: {type(features).__name__}") from None
    if array.ndim != 2 or array.shape[1] == 0:
        raise OptionError(f"{name} must be an (N, d) array of N feature vectors; Received: shape {array.shape}")
    if len(array) < minimum:
        raise OptionError(f"{name} needs at least {minimum} feature vectors; Received: {len(array)}")
    if not np.isfinite(array).all():
        raise OptionError(f"{name} contains NaN or infinite values")
    return array


def _check_pair(features_a, features_b, minimum):
    a = _check_features(features_a, "features_a", minimum)
    b = _check_features(features_b, "features_b", minimum)
    if a.shape[1] != b.shape[1]:
        raise OptionError(f"features_a and features_b must have the same feature size; "
                          f"Received: {a.shape[1]} and {b.shape[1]}")
    return a, b


def _count(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise OptionError(f"{name} must be an integer ≥ {minimum}; Received: {name}={value!r}")
    return int(value)


def _size_groups(images, min_size, backbone):
    """Runs of consecutive images of one size, each as a (n, H, W, 3) float32 array in [0, 1]."""
    if isinstance(images, np.ndarray) or hasattr(images, "numpy"):
        images = np.asarray(images)
        if images.ndim != 4:
            raise ImageError(f"images must be a (N, H, W, 3) array or a list of (H, W, 3) arrays; "
                             f"Received: shape {images.shape}")
        images = list(images)
    else:
        images = [np.asarray(image) for image in images]
    if not images:
        raise ImageError("no images to embed")
    groups, current = [], []
    for image in images:
        if image.ndim != 3 or image.shape[-1] != 3:
            raise ImageError(f"each image must be (H, W, 3) RGB; Received: shape {image.shape}")
        if min(image.shape[:2]) < min_size:
            raise ImageError(f"images for {backbone} features need both sides ≥ {min_size} pixels; "
                             f"Received: {image.shape[0]}x{image.shape[1]}")
        image = image / 255.0 if image.dtype == np.uint8 else image
        image = np.asarray(image, np.float32)
        if not np.isfinite(image).all():
            raise ImageError("images contain NaN or infinite values")
        if current and image.shape != current[-1].shape:
            groups.append(np.stack(current))
            current = []
        current.append(np.clip(image, 0.0, 1.0))
    groups.append(np.stack(current))
    return groups


__all__ = [
    "DEFAULT_LAYER",
    "FeatureNetwork",
    "KIDResult",
    "frechet_distance",
    "kernel_inception_distance",
    "unbiased_mmd2",
]
