"""Tests of tfstyle.metrics: golden values of the normalisations, invariances, noise monotonicity, SSIM/PSNR."""

import math
import subprocess
import sys

import keras
import numpy as np
import pytest

from tfstyle import metrics, samples
from tfstyle.backbones import FeatureExtractor, get_spec
from tfstyle.errors import ImageError, OptionError
from tfstyle.io import resize_image

SPEC = get_spec("vgg16_hed")
LAYERS = (*SPEC.style_layers, *SPEC.content_layers)
SIZE = 64
RNG = np.random.default_rng(7)


def sample(name, size=(SIZE, SIZE)):
    return resize_image(samples.load(name), size=size)


@pytest.fixture(scope="module")
def random_metrics():
    """StyleMetrics on vgg16_hed with random weights: enough for the properties, and fast."""
    keras.utils.set_random_seed(0)
    return metrics.StyleMetrics(FeatureExtractor("vgg16_hed", LAYERS, weights=None))


@pytest.fixture(scope="module")
def content():
    return sample("astronaut")


@pytest.fixture(scope="module")
def style():
    return sample("waves")


def random_features(batch=1, size=(6, 5), channels=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    return {f"l{i}": rng.random((batch, *size, c)) for i, c in enumerate(channels)}


def np_gram(x):
    f = x.reshape(x.shape[0], -1, x.shape[-1])
    return np.einsum("bmc,bmd->bcd", f, f) / f.shape[1]


# --- normalisations on feature dicts --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gram", "meanstd"])
def test_zero_features_give_exactly_one(kind):
    style_features = random_features(size=(7, 9))
    zeros = {name: np.zeros((1, 4, 4, value.shape[-1])) for name, value in style_features.items()}
    distance = metrics.style_distance_from_features(zeros, style_features, kind=kind)
    assert distance.shape == (1,)
    assert distance[0] == 1.0
    content_features = random_features()
    zeros = {name: np.zeros_like(value) for name, value in content_features.items()}
    assert metrics.content_distance_from_features(zeros, content_features)[0] == 1.0


def test_identical_features_give_zero():
    features = random_features()
    for kind in metrics.STYLE_KINDS:
        assert metrics.style_distance_from_features(features, features, kind=kind)[0] == 0.0
    assert metrics.content_distance_from_features(features, features)[0] == 0.0


def test_gram_distance_by_hand():
    features = random_features(batch=2, size=(3, 4), seed=1)
    style_features = random_features(size=(5, 2), seed=2)
    expected = np.mean([
        np.mean((np_gram(features[name]) - np_gram(style_features[name])) ** 2, axis=(1, 2))
        / np.mean(np_gram(style_features[name]) ** 2)
        for name in features
    ], axis=0)
    np.testing.assert_allclose(metrics.style_distance_from_features(features, style_features), expected, rtol=1e-10)
    # the numerator is GramStyleLoss: ¼·mean((G − A)²)
    tiny = {"l": np.array([[[[1.0, 0.0], [0.0, 1.0]]]])}  # G = diag(.5, .5)
    target = {"l": np.array([[[[1.0, 1.0]]]])}  # A = ones: mean((G − A)²) = (.25 + 1 + 1 + .25) / 4, mean(A²) = 1
    np.testing.assert_allclose(metrics.style_distance_from_features(tiny, target), [0.625])


def test_meanstd_distance_by_hand():
    features = {"l": np.array([[[[1.0, 0.0], [3.0, 0.0]]]])}  # μ = (2, 0), σ = (1, 0)
    style = {"l": np.array([[[[0.0, 1.0], [0.0, 3.0]]]])}  # μ' = (0, 2), σ' = (0, 1)
    # [mean((2, −2)²) + mean((1, −1)²)] / [mean((0, 2)²) + mean((0, 1)²)] = (4 + 1) / (2 + 0.5)
    np.testing.assert_allclose(metrics.style_distance_from_features(features, style, kind="meanstd"), [2.0])


def test_content_distance_by_hand_and_layer_average():
    target = {"a": np.ones((1, 2, 2, 1)), "b": np.full((1, 2, 2, 1), 2.0)}
    features = {"a": np.full((1, 2, 2, 1), 1.5), "b": np.full((1, 2, 2, 1), 2.0)}
    # layer a: 0.25 / 1, layer b: 0 → mean 0.125; selecting a layer uses only that one
    np.testing.assert_allclose(metrics.content_distance_from_features(features, target), [0.125])
    np.testing.assert_allclose(metrics.content_distance_from_features(features, target, layers=["a"]), [0.25])


def test_zero_style_energy():
    zeros = {"l": np.zeros((1, 3, 3, 2))}
    assert metrics.style_distance_from_features(zeros, zeros)[0] == 0.0
    assert metrics.style_distance_from_features({"l": np.ones((1, 3, 3, 2))}, zeros)[0] == math.inf


def test_feature_errors():
    features = random_features()
    with pytest.raises(OptionError, match=r"^unknown style distance kind 'mmd'; choose one of: gram, meanstd$"):
        metrics.style_distance_from_features(features, features, kind="mmd")
    with pytest.raises(OptionError, match=r"^style layers l9 missing from the features; image features have l0, l1"):
        metrics.style_distance_from_features(features, features, layers=["l0", "l9"])
    with pytest.raises(OptionError, match=r"resize the content image to the image's size$"):
        metrics.content_distance_from_features(features, random_features(size=(5, 5)))


# --- distances on the feature network ------------------------------------------------------------------------------


def test_import_builds_no_network():
    code = ("import sys, tfstyle.metrics as m; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; "
            "assert m._cached_metrics.cache_info().currsize == 0")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_distance_of_an_image_to_itself(random_metrics, content, style):
    assert random_metrics.style_distance(style, style, kind="gram") == 0.0
    assert random_metrics.style_distance(style, style, kind="meanstd") == 0.0
    assert random_metrics.content_distance(content, content) == 0.0
    assert metrics.ssim(content, content) == pytest.approx(1.0, abs=1e-6)
    # PSNR of identical images is infinite (MSE = 0), returned as math.inf
    assert metrics.psnr(content, content) == math.inf


def test_style_distance_ignores_positions(random_metrics, style):
    """Gram and channel statistics are position-free: a flipped or half-rolled style is (almost) the style."""
    other = random_metrics.style_distance(sample("mosaic"), style)
    assert other > 0.3
    for moved in (style[:, ::-1], np.roll(style, SIZE // 2, axis=1)):
        for kind in metrics.STYLE_KINDS:
            assert random_metrics.style_distance(moved, style, kind=kind) < 0.01


def test_style_image_may_have_another_size(random_metrics, content):
    distance = random_metrics.style_distance(content, sample("waves", size=(96, 80)), kind="meanstd")
    assert 0.0 < distance < math.inf


def test_distances_grow_with_noise(random_metrics, content):
    noise = RNG.normal(size=content.shape).astype(np.float32)
    noisy = [np.clip(content + level * noise, 0.0, 1.0) for level in (0.02, 0.05, 0.1)]
    distances = [random_metrics.content_distance(image, content) for image in noisy]
    assert 0.0 < distances[0] < distances[1] < distances[2]
    ssims = [metrics.ssim(image, content) for image in noisy]
    assert 1.0 > ssims[0] > ssims[1] > ssims[2]
    psnrs = [metrics.psnr(image, content) for image in noisy]
    assert psnrs[0] > psnrs[1] > psnrs[2]


def test_content_is_resized_to_the_image(random_metrics, content):
    large = sample("astronaut", size=(2 * SIZE, 2 * SIZE))
    assert random_metrics.content_distance(content, large) == random_metrics.content_distance(
        content, resize_image(large, size=(SIZE, SIZE)))
    assert random_metrics.content_distance(content, large) < 0.1
    assert metrics.ssim(content, large) > 0.9


def test_too_small_image(random_metrics):
    with pytest.raises(ImageError, match=r"^image of 16x40 pixels is too small for the vgg16_hed metrics: both sides "
                                         r"must be at least 32 pixels$"):
        random_metrics.style_distance(np.zeros((16, 40, 3)), np.zeros((64, 64, 3)))


# --- pixel metrics -------------------------------------------------------------------------------------------------


def test_psnr_golden_values():
    image = (0.2 + 0.6 * RNG.random((24, 24, 3))).astype(np.float32)
    assert metrics.psnr(image, image + 0.1) == pytest.approx(20.0, abs=1e-3)  # MSE = 0.01 → 10·log10(1/0.01)
    assert metrics.psnr(np.zeros((8, 8, 3)), np.ones((8, 8, 3))) == pytest.approx(0.0, abs=1e-6)  # MSE = 1


def test_ssim_and_ms_ssim_sizes():
    image = RNG.random((metrics.MS_SSIM_MIN_SIZE, 170, 3)).astype(np.float32)
    assert metrics.MS_SSIM_MIN_SIZE == 161
    assert metrics.ms_ssim(image, image) == pytest.approx(1.0, abs=1e-6)
    assert metrics.ms_ssim(image, np.clip(image + 0.2 * RNG.normal(size=image.shape), 0, 1)) < 0.99
    with pytest.raises(ImageError, match=r"^MS-SSIM needs images of at least 161 pixels on each side; "
                                         r"Received: 160x170$"):
        metrics.ms_ssim(image[:160], image[:160])
    with pytest.raises(ImageError, match=r"^SSIM needs images of at least 11 pixels on each side; Received: 10x10$"):
        metrics.ssim(image[:10, :10], image[:10, :10])


# --- evaluate ------------------------------------------------------------------------------------------------------


def test_evaluate_returns_floats(random_metrics, content, style):
    noisy = np.clip(content + 0.05 * RNG.normal(size=content.shape), 0, 1)
    result = random_metrics.evaluate(noisy, content, style)
    assert set(result) == {"network", *metrics.DEFAULT_METRICS}
    assert result.pop("network") == "vgg16_hed[weights=None]"
    assert all(type(value) is float and math.isfinite(value) for value in result.values())
    assert result["style_gram"] == random_metrics.style_distance(noisy, style)
    assert result["content"] == random_metrics.content_distance(noisy, content)
    assert result["ssim"] == metrics.ssim(noisy, content)


def test_evaluate_options(random_metrics, content):
    assert random_metrics.evaluate(content, content, None, metrics=["psnr", "ssim"]) == {"psnr": math.inf, "ssim": 1.0}
    with pytest.raises(OptionError, match=r"^metrics style_gram need a style image; Received: style=None$"):
        random_metrics.evaluate(content, content, None, metrics=["style_gram", "ssim"])
    with pytest.raises(OptionError, match=r"^unknown metrics 'lpips'; choose from: style_gram, style_meanstd, "
                                          r"content, ssim, psnr, ms_ssim$"):
        random_metrics.evaluate(content, content, content, metrics=["lpips"])


def test_module_evaluate_of_pixel_metrics_builds_no_network(content):
    before = metrics._cached_metrics.cache_info().currsize
    result = metrics.evaluate(content, content, None, metrics=("ssim", "psnr"))
    assert result == {"ssim": pytest.approx(1.0), "psnr": math.inf}
    assert metrics._cached_metrics.cache_info().currsize == before


def test_shared_extractor_checks():
    small = FeatureExtractor("vgg16_hed", ["block1_conv1"], weights=None)
    with pytest.raises(OptionError, match=r"^the shared FeatureExtractor lacks layers block2_conv1, block3_conv1, "
                                          r"block4_conv1, block5_conv1, block4_conv2; it has block1_conv1$"):
        metrics.StyleMetrics(small)
    shared = metrics.StyleMetrics(small, style_layers=["block1_conv1"], content_layers=["block1_conv1"])
    assert shared.extractor is small
    assert shared.network == ("vgg16_hed[weights=None; style_layers=block1_conv1; content_layers=block1_conv1]")
    with pytest.raises(OptionError, match=r"^weights and pooling come from the shared FeatureExtractor; "
                                          r"Received: weights=None, pooling='max'$"):
        metrics.StyleMetrics(small, weights=None)


# --- the real offline weights --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_weights(content, style):
    scorer = metrics.default_metrics()
    assert scorer is metrics.default_metrics("vgg16_hed", "default")
    assert scorer.network == "vgg16_hed"
    assert metrics.style_distance(style, style) == 0.0
    flipped = metrics.style_distance(style[:, ::-1], style)
    assert flipped < 0.1 * metrics.style_distance(sample("mosaic"), style)
    assert flipped < 0.15
    noise = RNG.normal(size=content.shape).astype(np.float32)
    distances = [metrics.content_distance(np.clip(content + level * noise, 0, 1), content) for level in (0.02, 0.1)]
    assert 0.0 < distances[0] < distances[1] < 0.5
    assert metrics.evaluate(content, content, style)["network"] == "vgg16_hed"
