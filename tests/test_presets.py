"""`tfstyle.optimize.presets`: tfstyle's raw objective with `neural_style_objective` options is neural-style's.

neural-style's objective is written out here independently (plain TF in float64 on the same extractor's features,
following neural_style.lua: MSECriterion content, Gram F Fᵀ/(C·H·W) with MSECriterion, blended targets, TVLoss's
½ Σ over the (H−1)×(W−1) block on the Caffe image) and compared with `PerceptualLoss(normalize=False)` +
`tv_weight · total_variation`. The network is a VGG19 with random weights (`weights=None`; ImageNet weights cannot
be downloaded here), so this checks the algebra, not real outputs. 48×64 images keep it to a few seconds.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfstyle.backbones import FeatureExtractor, get_spec
from tfstyle.backbones.preprocessing import IMAGENET_BGR_MEAN, preprocess
from tfstyle.errors import OptionError
from tfstyle.losses import PerceptualLoss
from tfstyle.ops import total_variation
from tfstyle.optimize.presets import (VGG_BLOCK_CHANNELS, neural_style_init, neural_style_objective,
                                      vgg_channels)

HEIGHT, WIDTH = 48, 64
CONTENT_LAYERS = ("block4_conv2",)
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
# neural-style's defaults
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT = 5.0, 100.0, 1e-3


@pytest.fixture(scope="module")
def extractor():
    keras.utils.set_random_seed(0)
    return FeatureExtractor("vgg19", CONTENT_LAYERS + STYLE_LAYERS, weights=None)


def image(seed, height=HEIGHT, width=WIDTH):
    return tf.constant(np.random.default_rng(seed).random((1, height, width, 3)), tf.float32)


def as_neural_style(features):
    """Channels-last (1, H, W, C) float32 → neural-style's C × HW matrix, float64."""
    features = tf.cast(features[0], tf.float64)
    channels = features.shape[-1]
    return tf.transpose(tf.reshape(features, (-1, channels)))


def neural_style_gram(features):
    flat = as_neural_style(features)
    return tf.matmul(flat, flat, transpose_b=True) / tf.cast(tf.size(flat), tf.float64)  # ÷ nElement = C·H·W


def neural_style_tv(x, parts=("x", "y")):
    """TVLoss: the function whose gradient neural-style adds, `½ Σ (x_diff² + y_diff²)` on the Caffe image."""
    y = tf.cast(preprocess(x, "caffe")[0], tf.float64)  # H × W × 3, Caffe units (0–255 BGR minus the mean)
    x_diff = y[:-1, :-1] - y[:-1, 1:]
    y_diff = y[:-1, :-1] - y[1:, :-1]
    return 0.5 * sum(tf.reduce_sum(diff ** 2) for part, diff in (("x", x_diff), ("y", y_diff)) if part in parts)


class NeuralStyle:
    """neural-style's objective (content + style, and TV separately) on the extractor's features."""

    def __init__(self, extractor, content, styles, blend_weights=None):
        self.extractor = extractor
        content_features = extractor(content)
        self.content_targets = {name: tf.cast(content_features[name], tf.float64) for name in CONTENT_LAYERS}
        blend = np.ones(len(styles)) if blend_weights is None else np.asarray(blend_weights, np.float64)
        blend = blend / blend.sum()
        style_features = [extractor(style) for style in styles]
        # neural-style blends the targets: A = Σ_k b_k G_k
        self.style_targets = {name: sum(b * neural_style_gram(features[name]) for b, features in
                                        zip(blend, style_features)) for name in STYLE_LAYERS}

    def perceptual(self, x):
        features = self.extractor(x)
        content = sum(CONTENT_WEIGHT * tf.reduce_mean((tf.cast(features[name], tf.float64) - target) ** 2)
                      for name, target in self.content_targets.items())
        style = sum(STYLE_WEIGHT * tf.reduce_mean((neural_style_gram(features[name]) - target) ** 2)
                    for name, target in self.style_targets.items())
        return content + style

    def tv(self, x):
        return TV_WEIGHT * neural_style_tv(x)


def tfstyle_loss(extractor, options, content, styles, blend_weights=None):
    loss = PerceptualLoss(extractor, content_layers=options["content_layers"], style_layers=options["style_layers"],
                          content_weight=options["content_weight"], style_weight=options["style_weight"],
                          normalize=options["normalize"])
    loss.set_content(content)
    loss.set_styles(styles, blend_weights)
    return lambda x: (lambda terms: terms["content"] + terms["style"])(loss(x))


def tfstyle_tv(options):
    return lambda x: options["tv_weight"] * total_variation(x)[0]


def value_and_gradient(function, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = function(x)
    return float(value), tape.gradient(value, x).numpy().astype(np.float64).ravel()


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def relative_error(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.fixture(scope="module")
def setup(extractor):
    content, style = image(1), image(2, 40, 56)  # the style image has its own size, as in neural-style
    options = neural_style_objective(HEIGHT, WIDTH)
    return dict(reference=NeuralStyle(extractor, content, [style]),
                tfstyle=tfstyle_loss(extractor, options, content, [style]), options=options)


# --- the objective ---------------------------------------------------------------------------------------------------


def test_content_and_style_equal_neural_style(setup):
    """Constant 1, exactly up to float32 error: values to 1e-5 and gradients to 1e-4 (relative)."""
    for seed in (3, 4):
        x = image(seed)
        expected, expected_gradient = value_and_gradient(setup["reference"].perceptual, x)
        actual, actual_gradient = value_and_gradient(setup["tfstyle"], x)
        assert actual == pytest.approx(expected, rel=1e-5)
        assert relative_error(actual_gradient, expected_gradient) < 1e-4


def test_each_term_equals_neural_style(extractor):
    """Content alone and each style layer alone (so that no term hides behind a larger one)."""
    content, style, x = image(5), image(6), image(7)
    reference = NeuralStyle(extractor, content, [style])
    features = extractor(x)
    expected_content = CONTENT_WEIGHT * float(tf.reduce_mean(
        (tf.cast(features["block4_conv2"], tf.float64) - reference.content_targets["block4_conv2"]) ** 2))
    loss = PerceptualLoss(extractor, normalize=False, **{key: value for key, value in
                          neural_style_objective(HEIGHT, WIDTH).items() if key not in ("normalize", "tv_weight")})
    loss.set_content(content)
    loss.set_styles([style])
    terms = loss(x)
    assert float(terms["content/block4_conv2"]) == pytest.approx(expected_content, rel=1e-5)
    for name in STYLE_LAYERS:
        expected = STYLE_WEIGHT * float(tf.reduce_mean((neural_style_gram(features[name])
                                                        - reference.style_targets[name]) ** 2))
        assert float(terms[f"style/{name}"]) == pytest.approx(expected, rel=1e-5), name


def test_tv_equals_neural_style_up_to_the_border_pairs(setup):
    """γ·TV − TV_ns is exactly the border term of the derivation; relatively it is below 1/H + 1/W."""
    options = setup["options"]
    for seed in (3, 8):
        x = image(seed)
        expected, expected_gradient = value_and_gradient(setup["reference"].tv, x)
        actual, actual_gradient = value_and_gradient(tfstyle_tv(options), x)
        # the derivation's exact difference, on the [0, 1] image
        pixels = x[0].numpy().astype(np.float64)
        rows = np.sum(np.diff(pixels, axis=1) ** 2, axis=(1, 2))      # R_h, h = 0 … H−1
        columns = np.sum(np.diff(pixels, axis=0) ** 2, axis=(0, 2))   # K_w, w = 0 … W−1
        border = TV_WEIGHT * 0.5 * 255.0 ** 2 * ((HEIGHT - 1) / HEIGHT * (rows[-1] - rows[:-1].mean())
                                                 + (WIDTH - 1) / WIDTH * (columns[-1] - columns[:-1].mean()))
        assert actual - expected == pytest.approx(border, abs=1e-5 * expected)
        assert abs(actual / expected - 1) < 1 / HEIGHT + 1 / WIDTH
        # Away from the last row and column each direction's gradient is neural-style's times (H−1)/H resp.
        # (W−1)/W (the weight per pair); the last row and column also get the pairs neural-style leaves out.
        horizontal = value_and_gradient(lambda v: TV_WEIGHT * neural_style_tv(v, "x"), x)[1]
        vertical = value_and_gradient(lambda v: TV_WEIGHT * neural_style_tv(v, "y"), x)[1]
        interior = ((HEIGHT - 1) / HEIGHT * horizontal + (WIDTH - 1) / WIDTH * vertical).reshape(HEIGHT, WIDTH, 3)
        actual_gradient = actual_gradient.reshape(HEIGHT, WIDTH, 3)
        np.testing.assert_allclose(actual_gradient[:-1, :-1], interior[:-1, :-1], rtol=1e-4,
                                   atol=1e-5 * np.abs(interior).max())
        assert cosine(actual_gradient.ravel(), expected_gradient) > 0.99


def test_total_objective_and_gradient_direction(setup):
    """The whole objective (content + style + TV) as L-BFGS sees it. Its value differs from neural-style's by the TV
    border term only, and so does its gradient: the content and style parts agree to 1e-4, so the gradient error is
    the TV's. With random weights the TV gradient is ~6000× the content and style gradient on these noise images
    (~20× on a 48×64 photo), so at 48×64 the total's cosine is the TV's, > 0.99; at 512 px the TV's own
    cosine is > 0.999 (next test)."""
    for seed in (3, 9):
        x = image(seed)
        perceptual, perceptual_gradient = value_and_gradient(setup["reference"].perceptual, x)
        tv, tv_gradient = value_and_gradient(setup["reference"].tv, x)
        ours_tv, ours_tv_gradient = value_and_gradient(tfstyle_tv(setup["options"]), x)
        value, gradient = value_and_gradient(lambda v: setup["tfstyle"](v) + tfstyle_tv(setup["options"])(v), x)
        expected_gradient = perceptual_gradient + tv_gradient
        assert abs(value - (perceptual + tv)) < tv * (1 / HEIGHT + 1 / WIDTH) + 1e-5 * perceptual
        assert (np.linalg.norm(gradient - expected_gradient)
                <= np.linalg.norm(ours_tv_gradient - tv_gradient) + 1e-4 * np.linalg.norm(perceptual_gradient))
        assert cosine(gradient, expected_gradient) > 0.99


@pytest.mark.parametrize("source", ["noise", "sample:astronaut", "init"])
@pytest.mark.parametrize("height, width", [(384, 512), (512, 512)])
def test_tv_at_output_size(source, height, width):
    """At neural-style's 512 px the TV border difference is small: value within 2e-3 (1/H + 1/W = 4.6e-3 at
    384×512), gradient cosine > 0.999 (measured 0.9993–0.9997). No network: TV is on pixels."""
    from tfstyle.io import load_image, resize_image

    if source == "noise":
        x = image(17, height, width)
    elif source == "init":
        x = tf.constant(neural_style_init(height, width)[None])
    else:
        x = tf.constant(resize_image(load_image(source), size=(height, width))[None])
    options = neural_style_objective(height, width)
    expected, expected_gradient = value_and_gradient(lambda v: TV_WEIGHT * neural_style_tv(v), x)
    actual, actual_gradient = value_and_gradient(tfstyle_tv(options), x)
    assert abs(actual / expected - 1) < 2e-3
    assert cosine(actual_gradient, expected_gradient) > 0.999


def test_several_styles_differ_by_a_constant(extractor):
    """neural-style blends style targets, tfstyle blends losses: Σ b_k ‖G − A_k‖² = ‖G − Σ b_k A_k‖² + const, so the
    objectives differ by an image-independent constant and have the same gradient."""
    content, styles, blend = image(10), [image(11), image(12, 40, 40)], [1.0, 3.0]
    options = neural_style_objective(HEIGHT, WIDTH)
    reference = NeuralStyle(extractor, content, styles, blend).perceptual
    ours = tfstyle_loss(extractor, options, content, styles, blend)
    offsets = []
    for seed in (13, 14):
        x = image(seed)
        expected, expected_gradient = value_and_gradient(reference, x)
        actual, actual_gradient = value_and_gradient(ours, x)
        offsets.append((actual - expected, expected))
        assert relative_error(actual_gradient, expected_gradient) < 1e-4
    (first, scale), (second, _) = offsets
    assert first > 0  # the constant Σ b_k ‖A_k‖² − ‖Σ b_k A_k‖² ≥ 0 (convexity)
    assert second == pytest.approx(first, abs=1e-5 * scale)


# --- the numbers -----------------------------------------------------------------------------------------------------


def test_preset_numbers():
    options = neural_style_objective(384, 512)
    assert options["normalize"] is False
    assert options["content_weight"] == 5.0 and options["content_layers"] == {"block4_conv2": 1.0}
    assert options["style_weight"] == 400 * 86 / 2 ** 18 == 0.1312255859375
    np.testing.assert_allclose(list(options["style_layers"].values()), np.array([64, 16, 4, 1, 1]) / 86)
    assert list(options["style_layers"]) == list(STYLE_LAYERS)
    assert options["tv_weight"] == pytest.approx(1e-3 * 0.5 * 255 ** 2 * 3 * 383 * 511)
    assert neural_style_objective(512, 384) == options  # TV counts (H−1)(W−1) pairs: symmetric
    assert neural_style_objective(512, 512)["tv_weight"] == pytest.approx(97.5375 * 511 ** 2)
    # the arguments scale their terms linearly
    scaled = neural_style_objective(384, 512, content_weight=1.0, style_weight=1000.0, tv_weight=0.0)
    assert scaled["content_weight"] == 1.0 and scaled["style_weight"] == pytest.approx(10 * options["style_weight"])
    assert scaled["tv_weight"] == 0.0


def test_preset_with_other_layers():
    """Several content layers each carry the full content weight in neural-style: α = n·a with weights 1/n."""
    options = neural_style_objective(64, 64, content_layers="block4_conv2, block5_conv2",
                                     style_layers=["block3_conv1", "block1_conv1"])
    assert options["content_weight"] == 10.0
    assert options["content_layers"] == {"block4_conv2": 0.5, "block5_conv2": 0.5}
    assert options["style_layers"] == pytest.approx({"block3_conv1": 1 / 17, "block1_conv1": 16 / 17})
    assert options["style_weight"] == pytest.approx(4 * 100 * (1 / 256 ** 2 + 1 / 64 ** 2))
    assert neural_style_objective(64, 64, backbone="vgg16") == neural_style_objective(64, 64)


@pytest.mark.parametrize("application", ["VGG19", "VGG16"])
def test_channel_counts_match_keras(application):
    model = getattr(keras.applications, application)(include_top=False, weights=None)
    spec = get_spec(application.lower())
    for name in spec.layers:
        assert vgg_channels(name) == model.get_layer(name).output.shape[-1], name
    assert set(VGG_BLOCK_CHANNELS) == {1, 2, 3, 4, 5}


@pytest.mark.parametrize("kwargs, message", [
    (dict(height=0, width=64), r"^height must be an integer >= 2; Received: height=0$"),
    (dict(height=-48, width=64), r"^height must be an integer >= 2; Received: height=-48$"),
    (dict(height=1, width=64), r"^height must be an integer >= 2; Received: height=1$"),
    (dict(height=48.5, width=64), r"^height must be an integer >= 2; Received: height=48.5$"),
    (dict(height=True, width=64), r"^height must be an integer >= 2; Received: height=True$"),
    (dict(height=48, width=0), r"^width must be an integer >= 2; Received: width=0$"),
    (dict(height=48, width=64, style_weight=-1.0),
     r"^style_weight must be a finite number >= 0; Received: style_weight=-1.0$"),
    (dict(height=48, width=64, tv_weight=float("nan")), r"^tv_weight must be a finite number >= 0"),
    (dict(height=48, width=64, backbone="resnet50"), r"^neural_style_objective needs a VGG backbone"),
    (dict(height=48, width=64, backbone="vgg99"), r"^unknown backbone 'vgg99'"),
    (dict(height=48, width=64, style_layers={"block1_conv1": 2.0}), r"neural-style has no per-layer weights"),
    (dict(height=48, width=64, style_layers=[]), r"^style_layers must name at least one layer$"),
    (dict(height=48, width=64, content_layers=["block6_conv1"]), r"^unknown layer block6_conv1 for backbone vgg19"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(OptionError, match=message):
        neural_style_objective(**kwargs)


def test_init_is_neural_styles_random_start():
    """Its Caffe input is 0.001·N(0, 1): neural-style's `-init random` (NumPy noise, not Torch's)."""
    x = neural_style_init(HEIGHT, WIDTH, seed=0)
    assert x.shape == (HEIGHT, WIDTH, 3) and x.dtype == np.float32
    caffe = np.asarray(preprocess(tf.constant(x[None]), "caffe"), np.float64)
    assert abs(caffe.mean()) < 1e-4 and caffe.std() == pytest.approx(1e-3, rel=0.05)
    np.testing.assert_allclose(x.mean(axis=(0, 1)), np.array(IMAGENET_BGR_MEAN[::-1]) / 255, atol=1e-5)
    np.testing.assert_array_equal(neural_style_init(HEIGHT, WIDTH, seed=0), x)
    with pytest.raises(OptionError, match=r"^width must be a positive integer; Received: width=0$"):
        neural_style_init(HEIGHT, 0)


def test_options_run_through_stylize():
    """The preset is a valid set of `stylize` options (two L-BFGS steps on a 48×64 random VGG19)."""
    import tfstyle

    content, style = image(15)[0].numpy(), image(16)[0].numpy()
    options = neural_style_objective(HEIGHT, WIDTH)
    result = tfstyle.stylize(content, style, backbone="vgg19", weights=None, size=WIDTH, steps=2,
                             init=neural_style_init(HEIGHT, WIDTH), progress=False, verbose=False, **options)
    assert result.image.shape == (HEIGHT, WIDTH, 3)
    assert all(np.isfinite(values).all() for values in result.history.values())
