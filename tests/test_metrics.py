"""Tests of tfstyle.metrics: golden values of the normalisations, invariances, noise monotonicity, SSIM/PSNR, the
colour and texture distances that use no trained network."""

import math
import subprocess
import sys

import keras
import numpy as np
import pytest
from skimage.color import rgb2lab

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


def np_lightness(grey):
    """CIE L* of an sRGB grey level, by the formulas: sRGB decoding, Y relative to white, L* = 116·f(Y) − 16."""
    y = grey / 12.92 if grey <= 0.04045 else ((grey + 0.055) / 1.055) ** 2.4
    f = np.cbrt(y) if y > (6 / 29) ** 3 else y / (3 * (6 / 29) ** 2) + 4 / 29
    return 116 * f - 16


def lab(grey):
    """skimage's Lab of one grey pixel, from the float32 image the metric converts."""
    return rgb2lab(np.full((1, 1, 3), grey, np.float32))[0, 0].astype(np.float64)


def np_grey(image):
    """The luminance Y = 0.299 R + 0.587 G + 0.114 B of an image, as a grey RGB image."""
    y = np.asarray(image, np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.repeat(y[..., None], 3, axis=-1).astype(np.float32)


def np_texture_grams(network, image):
    """The texture network's Grams by explicit valid, strided convolutions over sliding windows."""
    x = np.asarray(image, np.float64) - 0.5
    grams = []
    for kernel in network.kernels:
        size, stride = kernel.shape[0], network.stride(kernel.shape[0])
        windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(0, 1))[::stride, ::stride]
        # windows: (H', W', 3, size, size); kernel: (size, size, 3, F)
        responses = np.maximum(np.einsum("ijcuv,uvcf->ijf", windows, kernel.astype(np.float64)), 0.0)
        flat = responses.reshape(-1, kernel.shape[-1])
        grams.append(flat.T @ flat / len(flat))
    return grams


def np_relative_gram_distance(grams, style_grams):
    return np.mean([np.sum((g - a) ** 2) / np.sum(a**2) for g, a in zip(grams, style_grams)])


def shuffled_pixels(image, seed=0):
    flat = image.reshape(-1, image.shape[-1]).copy()
    np.random.default_rng(seed).shuffle(flat)
    return flat.reshape(image.shape)


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
            "assert 'skimage' not in sys.modules; "
            "assert m._cached_metrics.cache_info().currsize == 0; "
            "assert m.texture_network.cache_info().currsize == 0")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_distance_of_an_image_to_itself(random_metrics, content, style):
    assert random_metrics.style_distance(style, style, kind="gram") == 0.0
    assert random_metrics.style_distance(style, style, kind="meanstd") == 0.0
    assert random_metrics.content_distance(content, content) == 0.0
    assert metrics.ssim(content, content) == pytest.approx(1.0, abs=1e-6)
    assert metrics.ssim_luminance(content, content) == pytest.approx(1.0, abs=1e-6)
    assert metrics.colour_distance(style, style) == 0.0
    assert metrics.texture_distance(style, style) == 0.0
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


# --- colour distance -----------------------------------------------------------------------------------------------


def test_colour_distance_of_uniform_greys():
    """Two flat greys: every quantile differs by the Lab difference of the two colours, so d = mean_ch |Δ| ≈ |ΔL|/3
    (a and b of a grey are 0 up to ~10⁻³ in skimage's D65 Lab)."""
    dark, light = np.full((5, 7, 3), 0.2, np.float32), np.full((3, 4, 3), 0.6, np.float32)  # sizes may differ
    distance = metrics.colour_distance(dark, light)
    assert lab(0.2)[0] == pytest.approx(np_lightness(0.2), abs=1e-3)
    assert lab(0.6)[0] == pytest.approx(np_lightness(0.6), abs=1e-3)
    assert distance == pytest.approx(np.mean(np.abs(lab(0.2) - lab(0.6))), rel=1e-6)
    assert distance == pytest.approx(abs(np_lightness(0.6) - np_lightness(0.2)) / 3, abs=2e-3)  # 41.98 / 3
    assert metrics.colour_distance(light, dark) == distance
    assert metrics.colour_distance(dark, dark) == 0.0


def test_colour_distance_of_two_level_images():
    # the same number of pixels, half at each of two greys, in different layouts: Q_a − Q_b = Δ_low below the
    # median, Δ_high above, and their interpolation (symmetric about p = ½) in between; all Δ of one sign per channel
    a = np.full((4, 4, 3), 0.2, np.float32)
    a[:, 2:] = 0.6
    b = np.full((2, 8, 3), 0.35, np.float32)
    b[1] = 0.8
    low, high = lab(0.2) - lab(0.35), lab(0.6) - lab(0.8)
    assert np.all(np.sign(low) == np.sign(high))
    expected = np.mean((np.abs(low) + np.abs(high)) / 2)
    assert metrics.colour_distance(a, b) == pytest.approx(expected, rel=1e-5)
    # crossing quantile functions: a Wasserstein distance, not a difference of means. With 2000 pixels the
    # interpolated quantiles around the median are ≤ 1 of the 256 points.
    a = np.full((40, 50, 3), 0.2, np.float32)
    a[:, 25:] = 0.8
    b = np.full((50, 40, 3), 0.35, np.float32)
    b[25:] = 0.6
    wasserstein = (abs(np_lightness(0.2) - np_lightness(0.35)) + abs(np_lightness(0.8) - np_lightness(0.6))) / 6
    mean_difference = abs(np_lightness(0.2) + np_lightness(0.8) - np_lightness(0.35) - np_lightness(0.6)) / 6
    distance = metrics.colour_distance(a, b)
    assert distance == pytest.approx(wasserstein, rel=1e-2)
    assert distance > 10 * mean_difference


def test_colour_distance_ignores_positions(style):
    for moved in (shuffled_pixels(style), style[::-1], np.roll(style, 17, axis=0)):
        assert metrics.colour_distance(moved, style) == 0.0
    assert metrics.colour_distance(sample("mosaic"), style) > 5.0
    # a uniform lightening moves the L quantiles, and is seen
    assert metrics.colour_distance(np.clip(style * 0.8 + 0.2, 0, 1), style * 0.8) > 3.0


def test_colour_distance_reduces_large_images():
    large = samples.load("waves")  # 512 px: reduced to 256 px before the histograms are taken
    assert max(large.shape[:2]) > metrics.COLOUR_SIZE
    assert metrics.colour_distance(large, large) == 0.0
    assert metrics.colour_distance(large, resize_image(large, long_side=metrics.COLOUR_SIZE)) == 0.0
    assert metrics.colour_distance(large[::-1], large) < 1e-4


# --- texture distance ----------------------------------------------------------------------------------------------


def test_texture_network_filters():
    network = metrics.RandomTextureNetwork()
    assert network.sizes == metrics.TEXTURE_FILTER_SIZES == (3, 5, 7, 11, 15, 23, 37)
    assert (network.filters, network.seed) == (64, metrics.TEXTURE_SEED)
    assert [kernel.shape for kernel in network.kernels] == [(s, s, 3, 64) for s in network.sizes]
    assert [network.stride(size) for size in network.sizes] == [1, 1, 1, 1, 1, 2, 4]
    for kernel in network.kernels:
        assert kernel.dtype == np.float32
        np.testing.assert_allclose(kernel.mean(axis=(0, 1, 2)), 0.0, atol=1e-7)
        np.testing.assert_allclose(np.sqrt(np.sum(np.square(kernel, dtype=np.float64), axis=(0, 1, 2))), 1.0,
                                   rtol=1e-6)
    same = metrics.RandomTextureNetwork()
    other = metrics.RandomTextureNetwork(seed=metrics.TEXTURE_SEED + 1)
    for kernel, again, different in zip(network.kernels, same.kernels, other.kernels):
        np.testing.assert_array_equal(kernel, again)
        assert not np.allclose(kernel, different)
    assert metrics.texture_network() is metrics.texture_network()


def test_texture_distance_by_hand():
    """One 1×1 size, two hand-set zero-mean unit filters: w₁ = (1, −1, 0)/√2, w₂ = (1, 1, −2)/√6.

    (The network's own filters are zero-mean per channel, which a 1×1 filter cannot be: these are set by hand.)
    Flat (0.9, 0.5, 0.5): responses r = (0.4/√2, 0.4/√6), G = rrᵀ.
    Flat (0.5, 0.9, 0.5): r = (relu(−0.4/√2), 0.4/√6) = (0, 0.4/√6), A = diag(0, 0.16/6).
    ‖G − A‖² = 0.08² + 2·0.16²/12 and ‖A‖² = (0.16/6)², so d = 36·(1/4 + 1/6) = 15.
    """
    network = metrics.RandomTextureNetwork(sizes=(2,), filters=2)
    network.sizes = (1,)
    network.kernels = [np.array([[[[1 / np.sqrt(2), 1 / np.sqrt(6)], [-1 / np.sqrt(2), 1 / np.sqrt(6)],
                                   [0.0, -2 / np.sqrt(6)]]]], np.float32)]
    red, green = np.full((4, 4, 3), 0.5, np.float32), np.full((3, 5, 3), 0.5, np.float32)
    red[..., 0], green[..., 1] = 0.9, 0.9
    np.testing.assert_allclose(network.grams(red)[0], [[0.08, 0.16 / np.sqrt(12)], [0.16 / np.sqrt(12), 0.16 / 6]],
                               rtol=1e-6)
    assert network.distance(red, green) == pytest.approx(15.0, rel=1e-5)
    # mid-grey has all-zero responses: as far as 1
    assert network.distance(np.full((6, 6, 3), 0.5, np.float32), green) == 1.0


def test_texture_distance_matches_numpy():
    network = metrics.RandomTextureNetwork(sizes=(2, 17), filters=3, seed=5)  # 17 px: stride 2
    assert network.stride(17) == 2
    rng = np.random.default_rng(3)
    image = rng.random((192, 256, 3)).astype(np.float32)  # long side 256: not resized
    style = resize_image(sample("waves"), size=(256, 200))
    for grams, reference in zip(network.grams(image), np_texture_grams(network, image)):
        np.testing.assert_allclose(grams, reference, rtol=1e-5)
    expected = np_relative_gram_distance(np_texture_grams(network, image), np_texture_grams(network, style))
    assert network.distance(image, style) == pytest.approx(expected, rel=1e-5)
    # other sizes are resized to a long side of 256 first
    small = resize_image(image, size=(96, 128))
    assert network.distance(small, style) == network.distance(resize_image(small, long_side=256), style)


def test_texture_sees_structure_and_not_brightness(style):
    """Scrambling the pixels keeps the colours (colour distance 0) and destroys the structure the texture distance
    measures; a flip keeps it. The filters are zero-mean on every channel, so an offset of any channel (a grey
    offset or a colour cast) cancels in the convolution (before the ReLU) and is not seen."""
    network = metrics.texture_network()

    def distance(image):  # to the style, whose Grams are computed once
        return np_relative_gram_distance(network.grams(resize_image(image, long_side=metrics.TEXTURE_SIZE)), base)

    base = network.grams(resize_image(style, long_side=metrics.TEXTURE_SIZE))
    scrambled, flipped = distance(shuffled_pixels(style)), distance(style[:, ::-1])
    assert metrics.colour_distance(shuffled_pixels(style), style) == 0.0
    assert scrambled > 0.05 and scrambled > 20 * flipped
    dim = style * 0.8 + 0.1  # in [0.1, 0.9]: an offset of 0.1 stays in range
    base = network.grams(resize_image(dim, long_side=metrics.TEXTURE_SIZE))
    assert distance(dim + 0.1) < 1e-9
    red = dim.copy()
    red[..., 0] += 0.1
    assert distance(red) < 1e-6  # float32 round-off


def test_texture_scale_of_images():
    network = metrics.texture_network()
    assert network.scaled(np.zeros((64, 64, 3))).shape == (256, 256, 3)
    assert network.scaled(np.zeros((512, 384, 3))).shape == (256, 192, 3)
    # very elongated images are enlarged until the short side holds the largest filter: ⌈37·256/20⌉ = 474
    assert network.scaled(np.zeros((20, 256, 3))).shape == (37, 474, 3)
    small = metrics.RandomTextureNetwork(sizes=(3, 9), filters=2)
    strip = np.random.default_rng(1).random((4, 256, 3)).astype(np.float32)
    assert small.scaled(strip).shape == (9, 576, 3)
    style = sample("waves")
    assert small.distance(strip, style) == small.distance(resize_image(strip, size=(9, 576)), style) > 0


def test_texture_errors():
    with pytest.raises(ImageError, match=r"^image of 20x256 pixels is too small for the texture distance: both sides "
                                         r"must be at least 37 pixels$"):
        metrics.texture_network().grams(np.zeros((20, 256, 3), np.float32))
    with pytest.raises(ImageError, match=r"^image of 4x9 pixels is too small for the texture distance: both sides "
                                         r"must be at least 5 pixels$"):
        metrics.RandomTextureNetwork(sizes=(3, 5), filters=2).grams(np.zeros((4, 9, 3)))
    for kwargs, received in (({"sizes": ()}, "sizes=(), filters=64"), ({"sizes": (3, 1)}, "sizes=(3, 1), filters=64"),
                             ({"filters": 0}, "sizes=(3, 5, 7, 11, 15, 23, 37), filters=0")):
        with pytest.raises(OptionError) as info:
            metrics.RandomTextureNetwork(**kwargs)
        assert str(info.value) == ("RandomTextureNetwork needs filter sizes ≥ 2 and filters ≥ 1; "
                                   f"Received: {received}")


# --- luminance SSIM ------------------------------------------------------------------------------------------------


def test_ssim_luminance_ignores_colour(content):
    grey = np_grey(content)  # the same luminance, no colour
    assert metrics.ssim_luminance(grey, content) == pytest.approx(1.0, abs=1e-5)
    assert metrics.ssim(grey, content) < 0.95
    # recoloured in patches along a direction of zero luminance (0.299·0.587 − 0.587·0.299 = 0): same Y, new colours
    dim = 0.2 + 0.6 * grey
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    patches = np.sign(np.sin(xx / 5.0) * np.cos(yy / 7.0))[..., None]
    recoloured = dim + 0.15 * patches * np.array([0.587, -0.299, 0.0]) / 0.587
    assert recoloured.min() >= 0.0 and recoloured.max() <= 1.0
    assert metrics.ssim_luminance(recoloured, dim) == pytest.approx(1.0, abs=1e-5)
    assert metrics.ssim(recoloured, dim) < 0.9
    noisy = np.clip(content + 0.1 * RNG.normal(size=content.shape), 0, 1).astype(np.float32)
    value = metrics.ssim_luminance(noisy, content)
    assert value < 0.9
    # it is the SSIM of the luminances (three equal channels give the single channel's SSIM)
    assert value == pytest.approx(metrics.ssim(np_grey(noisy), grey), abs=1e-5)
    with pytest.raises(ImageError, match=r"^SSIM needs images of at least 11 pixels on each side; Received: 10x12$"):
        metrics.ssim_luminance(content[:10, :12], content[:10, :12])


# --- evaluate ------------------------------------------------------------------------------------------------------


@pytest.fixture
def small_texture_network(monkeypatch):
    """A cheap texture network in place of the 7-size one, for tests of the wiring."""
    network = metrics.RandomTextureNetwork(sizes=(3, 5), filters=4)
    monkeypatch.setattr(metrics, "texture_network", lambda: network)
    return network


def test_evaluate_returns_floats(random_metrics, content, style, small_texture_network):
    noisy = np.clip(content + 0.05 * RNG.normal(size=content.shape), 0, 1)
    result = random_metrics.evaluate(noisy, content, style)
    assert set(result) == {"network", *metrics.DEFAULT_METRICS}
    assert result.pop("network") == "vgg16_hed[weights=None]"
    assert sorted(result) == ["colour", "content", "psnr", "ssim", "ssim_luminance", "style_gram", "style_meanstd",
                              "texture"]
    assert all(type(value) is float and math.isfinite(value) for value in result.values())
    assert result["style_gram"] == random_metrics.style_distance(noisy, style)
    assert result["content"] == random_metrics.content_distance(noisy, content)
    assert result["ssim"] == metrics.ssim(noisy, content)
    # colour and texture against the style, the luminance SSIM against the content
    assert result["colour"] == metrics.colour_distance(noisy, style)
    assert result["texture"] == small_texture_network.distance(noisy, style)
    assert result["ssim_luminance"] == metrics.ssim_luminance(noisy, content)


def test_evaluate_options(random_metrics, content):
    assert random_metrics.evaluate(content, content, None, metrics=["psnr", "ssim"]) == {"psnr": math.inf, "ssim": 1.0}
    with pytest.raises(OptionError, match=r"^metrics style_gram need a style image; Received: style=None$"):
        random_metrics.evaluate(content, content, None, metrics=["style_gram", "ssim"])
    with pytest.raises(OptionError, match=r"^metrics colour, texture need a style image; Received: style=None$"):
        random_metrics.evaluate(content, content, None, metrics=["colour", "ssim_luminance", "texture"])
    with pytest.raises(OptionError, match=r"^metrics ssim_luminance need a content image; Received: content=None$"):
        random_metrics.evaluate(content, None, content, metrics=["colour", "ssim_luminance"])
    with pytest.raises(OptionError, match=r"^unknown metrics 'lpips'; choose from: style_gram, style_meanstd, "
                                          r"content, colour, texture, ssim, ssim_luminance, psnr, ms_ssim$"):
        random_metrics.evaluate(content, content, content, metrics=["lpips"])


def test_module_evaluate_of_pixel_metrics_builds_no_network(content):
    before = metrics._cached_metrics.cache_info().currsize
    result = metrics.evaluate(content, content, None, metrics=("ssim", "psnr"))
    assert result == {"ssim": pytest.approx(1.0), "psnr": math.inf}
    assert metrics._cached_metrics.cache_info().currsize == before


def test_module_evaluate_of_colour_and_texture_needs_no_content(content, style, small_texture_network):
    before = metrics._cached_metrics.cache_info().currsize
    result = metrics.evaluate(content, None, style, metrics=("colour", "texture"))
    assert result == {"colour": metrics.colour_distance(content, style),
                      "texture": small_texture_network.distance(content, style)}
    assert result["colour"] > 0 and result["texture"] > 0
    # the luminance SSIM is against the content, resized to the image
    large = sample("astronaut", size=(2 * SIZE, 2 * SIZE))
    result = metrics.evaluate(content, large, style, metrics=("ssim_luminance", "colour"))
    assert result["ssim_luminance"] == metrics.ssim_luminance(content, large) > 0.9
    assert result["colour"] == metrics.colour_distance(content, style)
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
