"""Tiled evaluation of the objective (`tfstyle.optimize.tiling`): same terms and gradient as the untiled one."""

import numpy as np
import pytest
import tensorflow as tf

from tfstyle import losses, ops
from tfstyle.backbones import FeatureExtractor
from tfstyle.losses import PerceptualLoss
from tfstyle.optimize.tiling import TiledObjective, split_axis, tile_grid, total_variation_and_gradient

SHALLOW = ("block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2")
DEEPER = (*SHALLOW, "block3_conv1")
TV_WEIGHT = 0.3


def picture(height, width, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    image = np.stack([np.sin(7 * xx + k) * np.cos(5 * yy - 2 * k) for k in range(3)], axis=-1) * 0.35 + 0.5
    return np.clip(image + rng.normal(0, 0.05, image.shape), 0, 1).astype(np.float32)[None]


@pytest.fixture(scope="module")
def extractor():
    import keras

    keras.utils.set_random_seed(0)  # the same untrained network every run: the loss-decrease check is not luck
    return FeatureExtractor("vgg16", DEEPER, weights=None)


def criterion_for(extractor, style_loss="gram", content=("block2_conv2",), style=SHALLOW):
    criterion = PerceptualLoss(extractor, content_layers=list(content), style_layers=list(style),
                               style_loss=losses.get(style_loss), content_weight=2.0, style_weight=5.0)
    criterion.set_content(picture(64, 96, seed=1))
    criterion.set_styles([picture(40, 56, seed=2), picture(48, 48, seed=3)], [0.7, 0.3])
    return criterion


def untiled(criterion, image):
    image = tf.constant(image)
    with tf.GradientTape() as tape:
        tape.watch(image)
        terms = criterion(image)
        terms["tv"] = TV_WEIGHT * ops.total_variation(image)[0]
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
    gradient = tape.gradient(terms["total"], image).numpy()
    return {key: float(value) for key, value in terms.items()}, gradient


def relative_error(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(np.max(np.abs(np.asarray(b))), 1e-30))


def test_cores_cover_every_pixel_exactly_once():
    for height, width, tile, overlap, align in [(64, 96, 48, 16, 4), (100, 37, 40, 8, 8), (1000, 700, 512, 64, 16),
                                                 (30, 30, 48, 16, 16), (2048, 1365, 512, 64, 16)]:
        count = np.zeros((height, width), int)
        inside = np.zeros((height, width), int)
        for tile_ in tile_grid(height, width, tile, overlap, align):
            top, bottom, left, right = tile_.window
            core_top, core_bottom, core_left, core_right = tile_.core
            assert top % align == 0 and left % align == 0
            assert top <= core_top < core_bottom <= bottom and left <= core_left < core_right <= right
            # a core stays `overlap` inside its window except on the image borders
            assert core_top == 0 or core_top - top >= overlap
            assert core_bottom == height or bottom - core_bottom >= overlap
            assert core_left == 0 or core_left - left >= overlap
            assert core_right == width or right - core_right >= overlap
            count[core_top:core_bottom, core_left:core_right] += 1
            inside[top:bottom, left:right] += 1
        assert (count == 1).all()
        assert inside.min() >= 1


def test_split_axis_has_at_most_two_window_lengths():
    windows, cores = split_axis(1000, 512, 64, 16)
    assert {end - start for start, end in windows} == {512, 512 + (1000 - 512) % 16}
    assert windows[-1][1] == 1000 and cores[0][0] == 0 and cores[-1][1] == 1000


@pytest.mark.parametrize("style_loss", ["gram", "meanstd"])
def test_layer_positions_are_owned_exactly_once(extractor, style_loss):
    objective = TiledObjective(criterion_for(extractor, style_loss), TV_WEIGHT, tile_size=48, overlap=16)
    layout = objective.layout(64, 96)
    assert len(layout.tiles) > 4
    for name in objective.layers:
        _, height, width, _ = layout.grid[name]
        owned = np.zeros((height, width), int)
        for offsets, cores in zip(layout.offsets, layout.cores):
            row0, col0, _, _ = offsets[name]
            top, bottom, left, right = cores[name]
            owned[row0 + top:row0 + bottom, col0 + left:col0 + right] += 1
        assert (owned == 1).all(), name


@pytest.mark.parametrize("style_loss", ["gram", "meanstd"])
@pytest.mark.parametrize("layers", [SHALLOW, DEEPER], ids=["shallow", "block3"])
def test_tiled_terms_and_gradient_match_untiled(extractor, style_loss, layers):
    criterion = criterion_for(extractor, style_loss, style=layers)
    image = picture(64, 96, seed=4)
    expected_terms, expected_gradient = untiled(criterion, image)
    # overlap 16 covers block3_conv1's receptive field (±12 px) plus its stride (4)
    objective = TiledObjective(criterion, TV_WEIGHT, tile_size=48, overlap=16)
    assert len(objective.layout(64, 96).tiles) == 8
    terms, gradient = objective.value_and_gradient(image)
    assert set(terms) == set(expected_terms)
    for key, value in expected_terms.items():
        assert terms[key] == pytest.approx(value, rel=1e-4, abs=1e-7), key
    assert gradient.dtype == np.float32 and gradient.shape == image.shape
    assert relative_error(gradient, expected_gradient) < 1e-4


def test_tiled_targets_match_untiled_targets(extractor):
    criterion = criterion_for(extractor, style=DEEPER)
    objective = TiledObjective(criterion, TV_WEIGHT, tile_size=48, overlap=16)
    objective.set_content(picture(64, 96, seed=1))
    objective.set_styles([picture(40, 56, seed=2), picture(48, 48, seed=3)], [0.7, 0.3])
    for name, (target, scale) in criterion._content_targets.items():
        tiled, tiled_scale = objective.content_targets[name]
        assert relative_error(tiled, target) < 1e-5 and tiled_scale == pytest.approx(scale, rel=1e-5)
    for (blend, targets), (tiled_blend, tiled_targets) in zip(criterion._style_targets, objective.style_targets):
        assert tiled_blend == pytest.approx(blend)
        for name, (target, scale) in targets.items():
            assert relative_error(tiled_targets[name][0], target) < 1e-4
            assert tiled_targets[name][1] == pytest.approx(scale, rel=1e-4)


def test_single_tile_when_the_image_is_smaller_than_a_tile(extractor):
    criterion = criterion_for(extractor, style=DEEPER)
    image = picture(64, 96, seed=5)
    expected_terms, expected_gradient = untiled(criterion, image)
    terms, gradient = TiledObjective(criterion, TV_WEIGHT, tile_size=512).value_and_gradient(image)
    assert terms["total"] == pytest.approx(expected_terms["total"], rel=1e-5)
    assert relative_error(gradient, expected_gradient) < 1e-5


def test_mmd_raises(extractor):
    criterion = PerceptualLoss(extractor, content_layers=["block2_conv2"], style_layers=list(SHALLOW),
                               style_loss=losses.get("mmd"))
    with pytest.raises(ValueError, match="the MMD style loss cannot be tiled"):
        TiledObjective(criterion, TV_WEIGHT)


def test_tile_too_small_for_overlap_raises(extractor):
    objective = TiledObjective(criterion_for(extractor, style=DEEPER), TV_WEIGHT, tile_size=34, overlap=16)
    with pytest.raises(ValueError, match="tile_size must exceed 2·overlap"):
        objective.layout(64, 96)


def test_total_variation_gradient_matches_tape():
    image = picture(9, 13, seed=6)
    value, gradient = total_variation_and_gradient(image)
    tensor = tf.constant(image)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        expected = ops.total_variation(tensor)[0]
    assert value == pytest.approx(float(expected), rel=1e-5)
    assert relative_error(gradient, tape.gradient(expected, tensor).numpy()) < 1e-5


def test_adam_steps_with_the_tiled_gradient_decrease_the_loss(extractor):
    criterion = criterion_for(extractor, style=DEEPER)
    objective = TiledObjective(criterion, TV_WEIGHT, tile_size=48, overlap=16)
    image = picture(64, 96, seed=7)
    moment, second = np.zeros_like(image), np.zeros_like(image)
    totals = []
    for step in range(1, 6):
        terms, gradient = objective.value_and_gradient(image)
        totals.append(terms["total"])
        moment = 0.9 * moment + 0.1 * gradient
        second = 0.999 * second + 0.001 * gradient ** 2
        update = (moment / (1 - 0.9 ** step)) / (np.sqrt(second / (1 - 0.999 ** step)) + 1e-7)
        image = np.clip(image - 0.02 * update, 0.0, 1.0).astype(np.float32)
    totals.append(objective.value_and_gradient(image)[0]["total"])
    assert totals[-1] < 0.9 * totals[0]
    assert min(totals) == totals[-1], totals


def test_format_bytes():
    from tfstyle.optimize.memory import format_bytes

    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(3 * 2 ** 30) == "3 GiB"


def test_memory_estimate_of_tiled_runs_grows_with_the_pixels_not_the_activations(extractor):
    from tfstyle.optimize.memory import RUNTIME_BYTES, activation_bytes, estimate_memory

    # block1_conv1..block3_conv1 of VGG16 at 64x96: the input, conv1_1 and conv1_2 (64 channels, full size),
    # pool1 (64, /4 positions), conv2_1 and conv2_2 (128, /4), pool2 (128, /16), conv3_1 (256, /16)
    pixels = 64 * 96
    expected = 4 * pixels * (3 + 2 * 64 + 64 / 4 + 2 * 128 / 4 + 128 / 16 + 256 / 16)
    assert activation_bytes(extractor, 64, 96) == expected
    untiled = {size: estimate_memory(extractor, size, size, optimizer=None) for size in (1024, 2048, 4096)}
    tiled = {size: estimate_memory(extractor, size, size, tile_size=512, optimizer=None) for size in (1024, 2048, 4096)}
    assert all(tiled[size] < untiled[size] for size in (2048, 4096))
    # tiled: the part above the runtime and one tile's pass grows like the pixel count (×4 per doubling)
    fixed = tiled[1024] - (tiled[2048] - tiled[1024]) / 3
    assert (tiled[4096] - fixed) / (tiled[2048] - fixed) == pytest.approx(4.0, rel=1e-3)
    assert fixed > RUNTIME_BYTES
    lbfgs = estimate_memory(extractor, 1024, 1024, tile_size=512, optimizer="lbfgs", lbfgs_memory=5)
    assert lbfgs - tiled[1024] == 8 * 1024 * 1024 * 3 * (2 * 5 + 10)


def test_style_masks_raise(extractor):
    import inspect

    criterion = criterion_for(extractor)
    if "masks" not in inspect.signature(criterion.set_styles).parameters:
        pytest.skip("PerceptualLoss has no style masks")
    criterion.set_styles([picture(40, 56, seed=2)], masks=np.ones((1, 64, 96), np.float32))
    with pytest.raises(ValueError, match="style masks are not supported by the tiled objective"):
        TiledObjective(criterion, TV_WEIGHT)


# --- stylize with tiles ----------------------------------------------------------------------------------------------

def test_stylize_tiled_matches_untiled():
    import tfstyle

    options = dict(size=96, steps=3, backbone="vgg16", weights=None, progress=False, verbose=False,
                   style_layers=["block1_conv1", "block2_conv1", "block3_conv1"], content_layers=["block2_conv2"])
    untiled = tfstyle.stylize("sample:astronaut", "sample:waves", tile_size=None, **options)
    tiled = tfstyle.stylize("sample:astronaut", "sample:waves", tile_size=64, tile_overlap=24, **options)
    assert np.abs(tiled.image - untiled.image).max() < 1e-4
    np.testing.assert_allclose(tiled.history["total"], untiled.history["total"], rtol=1e-4)


@pytest.mark.parametrize("options,message", [
    ({"tile_size": 40, "tile_overlap": 24}, "tile_size must exceed 2·overlap by at least the feature stride"),
    ({"tile_size": 64, "style_loss": "mmd"}, "needs tiling .* which does not support the MMD style loss"),
    ({"tile_size": 64, "style_masks": [np.ones((96, 96))]}, "which does not support style masks"),
    ({"tile_size": 0}, "tile_size must be a positive number of pixels, 'auto' or None; received 0"),
    ({"tile_overlap": -1}, "tile_overlap must be zero or positive; received -1"),
])
def test_stylize_tile_option_errors(options, message):
    import tfstyle
    from tfstyle.errors import OptionError

    with pytest.raises(OptionError, match=message):
        tfstyle.stylize("sample:astronaut", "sample:waves", size=96, steps=1, backbone="vgg16", weights=None,
                        progress=False, verbose=False, **options)


def test_cli_tile_size_choices():
    from tfstyle.cli import parsing

    assert parsing.tile_choice("auto") == "auto" and parsing.tile_choice("none") is None
    assert parsing.tile_choice("512") == 512
