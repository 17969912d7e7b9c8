"""tfstyle.distribution_metrics: KID and FID against hand computations and closed forms; the feature network."""

import itertools
import warnings
from fractions import Fraction

import numpy as np
import pytest

from tfstyle import distribution_metrics as dm
from tfstyle.errors import ImageError, OptionError


def loop_mmd2(x, y):
    """The unbiased MMD² estimator written out term by term, with k(a, b) = (aᵀb/d + 1)³."""
    d = len(x[0])

    def k(a, b):
        return (sum(p * q for p, q in zip(a, b)) / d + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(n), 2)) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def with_moments(rng, n, mean, cov):
    """n samples whose *sample* mean and (N − 1) covariance are exactly `mean` and `cov`."""
    z = rng.normal(size=(n, len(mean)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # sample covariance → identity
    return z @ np.linalg.cholesky(cov).T + mean


X = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
Y = np.array([[1.0, 1.0], [-1.0, 0.0], [3.0, 2.0], [0.0, -2.0]])


# --- KID ----------------------------------------------------------------------------------------------------------


def test_unbiased_mmd2_equals_the_estimator_written_out():
    assert dm.unbiased_mmd2(X, Y) == pytest.approx(loop_mmd2(X, Y), rel=1e-12)
    assert dm.unbiased_mmd2(Y, X) == pytest.approx(loop_mmd2(X, Y), rel=1e-12)
    # the exact value, from the definition in rational arithmetic (loop_mmd2 on Fractions)
    exact = loop_mmd2(*([[Fraction(v) for v in row] for row in z.tolist()] for z in (X, Y)))
    assert exact == Fraction(-121, 48)
    assert dm.unbiased_mmd2(X, Y) == pytest.approx(-121 / 48, rel=1e-12)


def test_kid_on_whole_sets_is_the_estimator_with_zero_spread():
    x = np.random.default_rng(1).normal(size=(6, 3))
    y = np.random.default_rng(2).normal(0.5, 1.0, size=(6, 3))
    kid = dm.kernel_inception_distance(x, y, subsets=7)
    assert kid == (pytest.approx(loop_mmd2(x, y), rel=1e-12), 0.0, 7, 6)


def test_kid_subsets_average_and_precomputed_kernels_match_direct_computation(monkeypatch):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 5)), rng.normal(0.3, 1.2, size=(30, 5))
    kid = dm.kernel_inception_distance(x, y, subsets=20, subset_size=10, seed=5)
    draws = np.random.default_rng(5)
    values = []
    for _ in range(20):
        i, j = draws.choice(40, 10, replace=False), draws.choice(30, 10, replace=False)
        values.append(loop_mmd2(x[i], y[j]))
    assert kid.mean == pytest.approx(np.mean(values), rel=1e-10)
    assert kid.std == pytest.approx(np.std(values), rel=1e-8)
    monkeypatch.setattr(dm, "_PRECOMPUTE_LIMIT", 0)  # the path for large sets: kernels per subset
    assert dm.kernel_inception_distance(x, y, subsets=20, subset_size=10, seed=5) == kid


def test_kid_of_one_distribution_is_near_zero_and_grows_with_the_shift():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(500, 16)), rng.normal(size=(500, 16))
    same = dm.kernel_inception_distance(x, x, subsets=100, subset_size=100)
    independent = dm.kernel_inception_distance(x, y, subsets=100, subset_size=100)
    shifts = [dm.kernel_inception_distance(x, y + shift, subsets=20, subset_size=100).mean
              for shift in (0.25, 0.5, 1.0)]
    assert abs(independent.mean) < 0.05 * shifts[0]
    assert abs(independent.mean) < 3 * independent.std  # unbiased: around 0, either sign
    # subsets of one set share rows (20 of 100 here), whose k(x, x) enters the cross term: slightly negative
    assert -0.15 * shifts[0] < same.mean < 0
    assert shifts[0] < shifts[1] < shifts[2]


def test_kid_defaults_and_seed():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(20, 4))
    kid = dm.kernel_inception_distance(x, y, subsets=5)
    assert (kid.subsets, kid.subset_size) == (5, 20)  # min(1000, 30, 20)
    assert dm.kernel_inception_distance(x, y, subsets=5) == kid
    assert dm.kernel_inception_distance(x, y, subsets=5, seed=1) != kid


# --- FID ----------------------------------------------------------------------------------------------------------


def test_fid_of_identical_samples_is_zero():
    x = np.random.default_rng(0).normal(size=(1000, 6))
    assert dm.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-9)
    assert dm.frechet_distance(x, x + 2.0) == pytest.approx(6 * 4.0, rel=1e-9)  # only the means differ


def test_fid_matches_the_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(0)
    mean_a, mean_b = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    var_a, var_b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    a = with_moments(rng, 200, mean_a, np.diag(var_a))
    b = with_moments(rng, 300, mean_b, np.diag(var_b))
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)
    assert expected == pytest.approx(7.25 + 5.0)
    assert dm.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_fid_matches_a_symmetric_eigen_computation_for_full_covariances():
    rng = np.random.default_rng(1)
    cov_a, cov_b = (m @ m.T + 0.1 * np.eye(4) for m in rng.normal(size=(2, 4, 4)))
    a = with_moments(rng, 100, np.zeros(4), cov_a)
    b = with_moments(rng, 100, np.ones(4), cov_b)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = vectors @ np.diag(np.sqrt(values)) @ vectors.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()  # Tr((Σa Σb)^½)
    expected = 4.0 + np.trace(cov_a) + np.trace(cov_b) - 2 * cross
    assert dm.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert dm.frechet_distance(b, a) == pytest.approx(expected, rel=1e-9)


def test_fid_with_singular_covariances_adds_epsilon_quietly():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 32)), rng.normal(size=(10, 32))  # fewer samples than dimensions
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = dm.frechet_distance(x, x)
        different = dm.frechet_distance(x, y)
    assert abs(same) < 1e-3  # ≈ ε·d
    assert np.isfinite(different) and different > 1.0


# --- bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [dm.unbiased_mmd2, dm.kernel_inception_distance, dm.frechet_distance])
@pytest.mark.parametrize("a, b, message", [
    (np.zeros(4), Y, r"^features_a must be an \(N, d\) array of N feature vectors; Received: shape \(4,\)$"),
    (X[:1], Y, r"^features_a needs at least 2 feature vectors; Received: 1$"),
    (X, Y[:, :1], r"^features_a and features_b must have the same feature size; Received: 2 and 1$"),
    (X, np.full((3, 2), np.nan), r"^features_b contains NaN or infinite values$"),
    (X, "abc", r"^features_b must be a numeric \(N, d\) array; Received: str$"),
])
def test_bad_features(function, a, b, message):
    with pytest.raises(OptionError, match=message):
        function(a, b)


def test_bad_kid_and_fid_options():
    with pytest.raises(OptionError, match=r"^subsets must be an integer ≥ 1; Received: subsets=0$"):
        dm.kernel_inception_distance(X, Y, subsets=0)
    with pytest.raises(OptionError, match=r"^subset_size must be an integer from 2 to 3 \(the smaller set's size\); "
                                          r"Received: subset_size=4$"):
        dm.kernel_inception_distance(X, Y, subset_size=4)
    with pytest.raises(OptionError, match=r"^epsilon must be a number ≥ 0; Received: epsilon=-1$"):
        dm.frechet_distance(X, Y, epsilon=-1)


def test_feature_network_rejects_bad_options_before_building():
    with pytest.raises(OptionError, match=r"^unknown layer block9_conv1 for backbone vgg16_hed; valid layers: "):
        dm.FeatureNetwork(layer="block9_conv1")
    with pytest.raises(OptionError, match=r"^layer must be one layer name; Received: layer=\['block4_conv3'\]$"):
        dm.FeatureNetwork(layer=["block4_conv3"])
    with pytest.raises(OptionError, match=r"^batch_size must be an integer ≥ 1; Received: batch_size=0$"):
        dm.FeatureNetwork(batch_size=0)
    with pytest.raises(OptionError, match=r"^normalize must be True or False; Received: normalize='l2'$"):
        dm.FeatureNetwork(normalize="l2")


# --- the feature network on the real offline weights ---------------------------------------------------------------


@pytest.mark.slow
def test_feature_network_embeds_images_of_any_size_on_vgg16_hed():
    rng = np.random.default_rng(0)
    network = dm.FeatureNetwork(batch_size=2)
    assert network.label == "vgg16_hed/block4_conv3"
    images = [rng.random((32, 32, 3), np.float32) for _ in range(3)] + [rng.random((40, 48, 3), np.float32)]
    features = network(images)  # three 32 px images in two batches, then one 40×48 image
    assert features.shape == (4, 512) and features.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), np.sqrt(512), rtol=1e-9)
    np.testing.assert_allclose(network(np.stack(images[:3])), features[:3], rtol=1e-5)
    raw = dm.FeatureNetwork(network.extractor, normalize=False)
    assert raw.label == "vgg16_hed/block4_conv3[raw]"
    assert (raw(images[:1]) >= 0).all()  # ReLU maps, averaged
    scores = network.compare(images[:3] * 2, [image[::-1] for image in images[:3]] * 2, subsets=3)
    assert scores["network"] == "vgg16_hed/block4_conv3" and scores["count_a"] == scores["count_b"] == 6
    with pytest.raises(ImageError, match=r"^images for vgg16_hed features need both sides ≥ 32 pixels; "
                                         r"Received: 16x64$"):
        network(np.zeros((1, 16, 64, 3)))
