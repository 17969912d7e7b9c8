"""The optimization loop, the perceptual loss and `stylize`."""

import numpy as np
import pytest
import tensorflow as tf

import tfstyle
from tfstyle.backbones import FeatureExtractor
from tfstyle.errors import OptionError
from tfstyle.losses import MultiBackboneLoss, PerceptualLoss, layer_weights
from tfstyle.optimize import Callback, SaveEvery, optimize_image
from tfstyle.optimize.callbacks import PrintLosses, numbered_path

TARGET = np.linspace(0.0, 1.0, 8 * 8 * 3, dtype=np.float32).reshape(1, 8, 8, 3)


def quadratic(image):
    """A convex objective whose minimum inside [0, 1] is TARGET."""
    return {"total": tf.reduce_mean(tf.square(image - TARGET)) * 100.0}


def smooth_image(size=48, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    image = np.stack([np.sin(6 * xx + k) * np.cos(4 * yy - k) for k in range(3)], axis=-1) * 0.4 + 0.5
    return np.clip(image + rng.normal(0, 0.03, image.shape), 0, 1).astype(np.float32)


@pytest.mark.parametrize("optimizer,steps", [("adam", 300), ("lbfgs", 30)])
def test_both_optimizers_reach_the_minimum(optimizer, steps):
    result = optimize_image(quadratic, np.full((8, 8, 3), 0.5, np.float32), optimizer=optimizer, steps=steps,
                            learning_rate=0.02)
    assert result.reason in ("done", "converged")
    assert np.abs(result.image - TARGET[0]).max() < 0.02
    assert len(result.history["total"]) == result.steps
    assert result.history["total"][-1] < 0.01 * result.history["total"][0]


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_image_stays_in_bounds(optimizer):
    # The unconstrained minimum lies outside [0, 1]: the image must stop at the bounds.
    def push_out(image):
        return {"total": tf.reduce_sum(tf.square(image - 2.0))}

    result = optimize_image(push_out, np.full((4, 4, 3), 0.5, np.float32), optimizer=optimizer, steps=50,
                            learning_rate=0.1)
    assert result.image.min() >= 0.0 and result.image.max() <= 1.0
    assert result.image.min() > 0.95


class InterruptAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_step(self, info):
        if info.step == self.step:
            raise KeyboardInterrupt


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_ctrl_c_returns_the_current_image(optimizer):
    result = optimize_image(quadratic, np.full((8, 8, 3), 0.5, np.float32), optimizer=optimizer, steps=100,
                            callbacks=[InterruptAt(3)])
    assert result.reason == "interrupted"
    assert result.steps == 3
    assert not np.allclose(result.image, 0.5)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_nan_loss_keeps_the_last_good_image(optimizer):
    calls = tf.Variable(0)

    def breaks_later(image):
        calls.assign_add(1)
        loss = tf.reduce_mean(tf.square(image - TARGET))
        return {"total": tf.where(calls > 2, tf.constant(np.nan, tf.float32), loss)}

    result = optimize_image(breaks_later, np.full((8, 8, 3), 0.5, np.float32), optimizer=optimizer, steps=50)
    assert result.reason == "diverged"
    assert 1 <= result.steps < 3
    assert np.isfinite(result.image).all()
    assert all(np.isfinite(result.history["total"]))


def test_bad_options():
    with pytest.raises(OptionError, match="unknown optimizer 'sgd'; choose one of: lbfgs, adam"):
        optimize_image(quadratic, TARGET, optimizer="sgd")
    with pytest.raises(OptionError, match="steps must be at least 1; received 0"):
        optimize_image(quadratic, TARGET, steps=0)


def test_callbacks_save_and_print(tmp_path, capsys):
    saver = SaveEvery(numbered_path(tmp_path / "out.png"), every=2)
    optimize_image(quadratic, np.full((8, 8, 3), 0.5, np.float32), optimizer="adam", steps=5,
                   callbacks=[saver, PrintLosses(every=2)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out_0002.png", "out_0004.png"]
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in printed] == ["2/5", "4/5", "5/5"]


def test_layer_weights():
    assert layer_weights(None, ("a", "b")) == {"a": 0.5, "b": 0.5}
    assert layer_weights({"a": 1, "b": 3}, ()) == {"a": 0.25, "b": 0.75}
    assert layer_weights("a, b", ()) == {"a": 0.5, "b": 0.5}
    with pytest.raises(ValueError):
        layer_weights({"a": 0}, ())


@pytest.fixture(scope="module")
def tiny_extractor():
    keras_seed = tf.keras.utils.set_random_seed if hasattr(tf, "keras") else None
    if keras_seed:
        keras_seed(0)
    return FeatureExtractor("vgg16", ["block1_conv1", "block2_conv1", "block3_conv1"], weights=None)


def test_perceptual_loss_is_zero_at_its_targets_and_normalised(tiny_extractor):
    content, style = smooth_image(32, 0)[None], smooth_image(32, 1)[::-1][None].copy()
    loss = PerceptualLoss(tiny_extractor, content_layers=["block2_conv1"],
                          style_layers=["block1_conv1", "block3_conv1"], content_weight=2.0, style_weight=10.0)
    loss.set_content(content)
    loss.set_styles([style])
    at_content = {k: float(v) for k, v in loss(content).items()}
    at_style = {k: float(v) for k, v in loss(style).items()}
    assert at_content["content"] == pytest.approx(0.0, abs=1e-7)
    assert at_style["style"] == pytest.approx(0.0, abs=1e-6)
    assert at_content["style"] == pytest.approx(at_content["style/block1_conv1"] + at_content["style/block3_conv1"])
    # Normalisation: a zero feature map scores exactly weight × layer weight (each term divided by its energy).
    zeros = {name: tf.zeros_like(f) for name, f in tiny_extractor(content).items()}
    at_zero = {k: float(v) for k, v in loss(content, features=zeros).items()}
    assert at_zero["content"] == pytest.approx(2.0, rel=1e-5)
    assert at_zero["style/block1_conv1"] == pytest.approx(5.0, rel=1e-5)


def test_style_blend_weights_mix_the_targets(tiny_extractor):
    a, b = smooth_image(32, 2)[None], smooth_image(32, 3)[:, ::-1][None].copy()
    loss = PerceptualLoss(tiny_extractor, content_layers=["block1_conv1"], style_layers=["block2_conv1"])
    loss.set_content(a)
    loss.set_styles([a, b], blend_weights=[3, 1])
    only_b = float(loss(a)["style"])  # distance to a is 0, so only b's quarter remains
    loss.set_styles([b])
    assert only_b == pytest.approx(0.25 * float(loss(a)["style"]), rel=1e-5)


def test_multi_backbone_loss_adds_weighted_members(tiny_extractor):
    content, style = smooth_image(32, 4)[None], smooth_image(32, 5)[None]
    member = PerceptualLoss(tiny_extractor, content_layers=["block1_conv1"], style_layers=["block2_conv1"])
    combined = MultiBackboneLoss({"vgg16": member}, {"vgg16": 1e3})
    combined.set_content(content)
    combined.set_styles([style])
    terms = combined(style)
    assert float(terms["style"]) == pytest.approx(1e3 * float(member(style)["style"]), rel=1e-5)
    assert "vgg16/style/block2_conv1" in terms


def test_stylize_runs_on_a_random_network():
    result = tfstyle.stylize(smooth_image(40, 6), smooth_image(48, 7), backbone="vgg16", weights=None, size=40,
                             steps=4, optimizer="adam", style_layers=["block1_conv1", "block2_conv1"],
                             content_layers=["block2_conv1"], progress=False)
    assert result.image.shape == (40, 40, 3) and result.image.dtype == np.float32
    assert set(result.history) >= {"total", "content", "style", "tv", "style/block1_conv1", "content/block2_conv1"}
    assert len(result.history["total"]) == 4
    assert result.info["backbone"] == "vgg16" and result.info["reason"] == "done"


@pytest.mark.parametrize("options,message", [
    ({"size": 0}, "size must be positive; received 0"),
    ({"style_weight": -1}, "style_weight must be zero or positive; received -1"),
    ({"init": "bogus"}, "unknown init 'bogus'; choose one of: content, palette, noise, style, or an image path"),
    ({"size": 16}, "the output is 16x16 pixels but vgg16 needs at least 32 on each side; increase size"),
    ({"style_blend_weights": [1, 2]}, "got 2 style blend weights for 1 style images"),
    ({"structure_weight": 1.0}, "structure_weight > 0 needs a structure network (structure='laplacian', 'hed' or a "
                                ".keras depth model); Received: structure=None, structure_weight=1.0"),
    ({"structure": "laplacian", "structure_weight": -1}, "structure_weight must be zero or positive; received -1"),
    ({"structure": "laplacian", "structure_weight": 1.0, "tile_size": 32},
     "a 40x40 output needs tiling (about"),
])
def test_stylize_rejects_bad_options(options, message):
    kwargs = {"backbone": "vgg16", "weights": None, "size": 40, "steps": 1, "progress": False, **options}
    with pytest.raises(OptionError) as error:
        tfstyle.stylize(smooth_image(40, 6), smooth_image(40, 7), **kwargs)
    assert str(error.value) == message or message.endswith("(about") and str(error.value).startswith(message) \
        and str(error.value).endswith("which does not support the structure term; use a smaller size or "
                                      "tile_size=None")


STRUCTURE_RUN = dict(backbone="vgg16", weights=None, size=48, steps=30, optimizer="adam", learning_rate=0.05,
                     style_layers=["block1_conv1"], content_layers=["block2_conv1"], content_weight=0.0,
                     tv_weight=0.0, init="noise", progress=False)


def test_structure_term_is_normalised_and_keeps_the_content_structure():
    from tfstyle.losses.structure import LaplacianStructure

    content, style = smooth_image(48, 6), smooth_image(48, 7)
    plain = tfstyle.stylize(content, style, **STRUCTURE_RUN)
    held = tfstyle.stylize(content, style, structure="laplacian:2", structure_weight=10.0, **STRUCTURE_RUN)
    assert "structure" not in plain.history and "structure" not in plain.info
    assert held.info["structure"] == "laplacian pool 2 (structure proxy, not depth)" and held.info["structure_is_proxy"]

    def normalised_error(image):  # the term by hand: mean((D(x) − D(c))²) / mean(D(c)²)
        network = LaplacianStructure(pool=2)
        target = network(content[None]).numpy()
        return float(np.mean((network(image[None]).numpy() - target) ** 2) / np.mean(target ** 2))

    # the logged term is λ_d times the normalised error (checked at the noise start, where it is large)
    start = tfstyle.stylize(content, style, structure="laplacian:2", structure_weight=10.0,
                            **dict(STRUCTURE_RUN, steps=1))
    assert start.history["structure"][0] == pytest.approx(
        start.history["total"][0] - start.history["style"][0] - start.history["content"][0] - start.history["tv"][0])
    assert start.history["structure"][0] > 1.0
    # with the term the result's Laplacian is much closer to the content's than without it
    assert normalised_error(held.image) < 0.5 * normalised_error(plain.image)
    assert held.history["structure"][-1] == pytest.approx(10.0 * normalised_error(held.image), rel=0.2)


@pytest.mark.slow
def test_stylize_on_real_offline_weights_transfers_style():
    content = tfstyle.load_image("sample:astronaut")
    result = tfstyle.stylize(content, "sample:mosaic", backbone="vgg16_hed", size=96, steps=40, progress=False,
                             verbose=False)
    style = result.history["style"]
    assert style[-1] < style[0] / 5, f"style loss fell only from {style[0]:.3g} to {style[-1]:.3g}"
    resized = tfstyle.io.resize_image(content, size=result.image.shape[:2])
    assert np.abs(result.image - resized).mean() > 0.03


def test_preserve_colors_luminance_keeps_the_content_chroma():
    from tfstyle.ops.colour import rgb_to_yiq

    content = smooth_image(40, 8)
    result = tfstyle.stylize(content, smooth_image(40, 9), backbone="vgg16", weights=None, size=40, steps=3,
                             optimizer="adam", learning_rate=0.05, style_layers=["block1_conv1"],
                             content_layers=["block2_conv1"], preserve_colors="luminance", progress=False)
    out, original = rgb_to_yiq(result.image), rgb_to_yiq(content)
    inside = (result.image > 0.01).all(-1) & (result.image < 0.99).all(-1)
    assert inside.mean() > 0.5
    np.testing.assert_allclose(out[inside][:, 1:], original[inside][:, 1:], atol=2e-3)
    assert np.abs(out[..., 0] - original[..., 0]).mean() > 1e-3  # the luminance was stylized


@pytest.mark.parametrize("mode", ["histogram", "coral"])
def test_preserve_colors_recolours_the_style(mode, monkeypatch):
    import sys

    stylize_module = sys.modules["tfstyle.optimize.stylize"]  # the package re-exports the function of that name
    seen = {}
    original = stylize_module._prepare_colours

    def spy(mode_, content, styles):
        content_out, styles_out = original(mode_, content, styles)
        seen["styles"] = styles_out
        return content_out, styles_out

    monkeypatch.setattr(stylize_module, "_prepare_colours", spy)
    content, style = smooth_image(40, 10), smooth_image(40, 11)[..., ::-1].copy()
    tfstyle.stylize(content, style, backbone="vgg16", weights=None, size=40, steps=1, optimizer="adam",
                    style_layers=["block1_conv1"], content_layers=["block1_conv1"], preserve_colors=mode,
                    progress=False)
    recoloured = seen["styles"][0]
    np.testing.assert_allclose(recoloured.reshape(-1, 3).mean(0), content.reshape(-1, 3).mean(0), atol=0.02)


def test_preserve_colors_rejects_unknown_modes():
    with pytest.raises(OptionError) as error:
        tfstyle.stylize(smooth_image(40, 6), smooth_image(40, 7), backbone="vgg16", weights=None, size=40,
                        steps=1, preserve_colors="sepia", progress=False)
    assert str(error.value) == "unknown preserve_colors 'sepia'; choose one of: luminance, histogram, coral"


def test_stylize_logs_to_tensorboard(tmp_path):
    from tfstyle.logging import read_scalars, read_tags

    result = tfstyle.stylize(smooth_image(40, 12), smooth_image(40, 13), backbone="vgg16", weights=None, size=40,
                             steps=3, optimizer="adam", style_layers=["block1_conv1"],
                             content_layers=["block2_conv1"], logdir=tmp_path, log_images_every=2, progress=False)
    scalars = read_scalars(tmp_path)
    assert [step for step, _ in scalars["loss/total"]] == [1, 2, 3]
    np.testing.assert_allclose([value for _, value in scalars["style/block1_conv1"]],
                               result.history["style/block1_conv1"], rtol=1e-6)
    tags = read_tags(tmp_path)
    assert "image" in tags["images"] and "options" in tags["text"]


def test_palette_init_is_the_content_in_the_style_colours():
    from tfstyle.ops.colour import match_histograms
    from tfstyle.optimize.stylize import _initial_image

    rng = np.random.default_rng(0)
    content, style = rng.random((12, 16, 3)).astype(np.float32), rng.random((20, 20, 3)).astype(np.float32) ** 3
    np.testing.assert_array_equal(_initial_image("palette", content, [style], 0), match_histograms(content, style))
    moved = _initial_image("palette", content, [style], 0)
    # the style's darker palette, the content's arrangement
    assert abs(moved.mean() - style.mean()) < 0.02 < abs(content.mean() - style.mean())
    assert np.corrcoef(moved[..., 0].ravel(), content[..., 0].ravel())[0, 1] > 0.85


def test_loss_defaults_per_backbone():
    from tfstyle.optimize.presets import neural_style_objective
    from tfstyle.optimize.stylize import LOSS_DEFAULTS, _loss_options

    hed = _loss_options({"vgg16_hed": 1.0}, None, None, None, None, None, None)
    assert (hed.content_weight, hed.style_weight, hed.normalize) == (3.0, 10.0, True)
    assert hed.content_layers == LOSS_DEFAULTS["vgg16_hed"]["content_layers"] and hed.tv_weight(64, 64) == 0.1
    chosen = _loss_options({"vgg16_hed": 1.0}, 0.5, 2.0, 0.0, False, ["block4_conv2"], None)
    assert (chosen.content_weight, chosen.style_weight, chosen.normalize) == (0.5, 2.0, False)
    assert chosen.content_layers == ["block4_conv2"] and chosen.tv_weight(64, 64) == 0.0
    other = _loss_options({"vgg16": 1.0}, None, None, None, None, None, None)
    assert (other.content_weight, other.style_weight, other.content_layers) == (1.0, 10.0, None)
    mixed = _loss_options({"vgg19": 1.0, "inception_v3": 1e3}, None, None, None, None, None, None)
    assert mixed.normalize and mixed.content_weight == 1.0
    # vgg19: neural-style's objective, its weights read in its units, the TV weight per level size
    ns = _loss_options({"vgg19": 1.0}, 2.5, None, None, None, None, None)
    expected = neural_style_objective(384, 512, content_weight=2.5)
    assert not ns.normalize and ns.content_weight == expected["content_weight"]
    assert ns.style_weight == expected["style_weight"] and ns.style_layers == expected["style_layers"]
    assert ns.tv_weight(384, 512) == expected["tv_weight"] > ns.tv_weight(192, 256)
    assert _loss_options({"vgg19": 1.0}, None, None, None, True, None, None).normalize


def test_vgg19_runs_neural_style_objective():
    result = tfstyle.stylize(np.random.default_rng(0).random((48, 64, 3)), "sample:waves", size=64, steps=2,
                             backbone="vgg19", weights=None, progress=False, verbose=False)
    assert set(result.history) >= {"content/block4_conv2", "style/block1_conv1", "tv"}
    assert result.info["steps"] == 2


def test_palette_init_with_style_masks_recolours_each_region_only():
    from tfstyle.ops.colour import match_histograms
    from tfstyle.optimize.stylize import _initial_image

    rng = np.random.default_rng(1)
    content = rng.random((8, 10, 3)).astype(np.float32)
    styles = [rng.random((9, 9, 3)).astype(np.float32) ** 3, 1 - rng.random((9, 9, 3)).astype(np.float32) ** 3]
    masks = np.zeros((2, 8, 10), np.float32)
    masks[0, :, :4], masks[1, :, 4:7] = 1.0, 0.5  # columns 7-9 are in no region
    image = _initial_image("palette", content, styles, 0, masks)
    np.testing.assert_allclose(image[:, :4], match_histograms(content, styles[0])[:, :4], atol=1e-6)
    np.testing.assert_allclose(image[:, 4:7], 0.5 * match_histograms(content, styles[1])[:, 4:7]
                               + 0.5 * content[:, 4:7], atol=1e-6)
    np.testing.assert_array_equal(image[:, 7:], content[:, 7:])
