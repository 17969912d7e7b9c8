"""AdaIN: the AdaIN and reflection-padding layers, the decoder, the shared encoder and `AdaINModel`.

Models are `weights=None` VGG16s with a narrow decoder (`decoder_width=0.125`) on 32 px images: the default relu4_1
encoder for forward checks, relu2_1 where a test traces a train step or writes files (the same code, about three times
faster). One slow test trains on the real offline `vgg16_hed`. The two-replica `MirroredStrategy` check runs in a
subprocess, because logical CPU devices must be configured before TensorFlow initialises its devices.
"""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from tfstyle.adain import (AdaIN, AdaINEncoder, AdaINModel, ReflectionPadding2D, build_decoder, decoder_plan,
                           default_style_layers)
from tfstyle.errors import OptionError, WeightsError
from tfstyle.ops import total_variation

REPO = pathlib.Path(__file__).resolve().parents[1]
TINY = {"backbone": "vgg16", "weights": None, "decoder_width": 0.125}
VGG16_LAYERS = ("block1_conv1, block1_conv2, block1_pool, block2_conv1, block2_conv2, block2_pool, block3_conv1, "
                "block3_conv2, block3_conv3, block3_pool, block4_conv1, block4_conv2, block4_conv3, block4_pool, "
                "block5_conv1, block5_conv2, block5_conv3, block5_pool")


def random_images(batch=2, size=32, seed=0):
    return np.random.default_rng(seed).random((batch, size, size, 3)).astype("float32")


def tiny_model(seed=1, **options):
    keras.utils.set_random_seed(seed)
    return AdaINModel(**{**TINY, **options})


def all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


def np_mean_std(x, epsilon=1e-5):
    x = np.asarray(x, np.float64)
    return x.mean(axis=(1, 2)), np.sqrt(x.var(axis=(1, 2)) + epsilon)


def np_adain(content, style, epsilon=1e-5):
    (mc, sc), (ms, ss) = np_mean_std(content, epsilon), np_mean_std(style, epsilon)
    return ss[:, None, None] * (np.asarray(content, np.float64) - mc[:, None, None]) / sc[:, None, None] \
        + ms[:, None, None]


# --- AdaIN layer ---------------------------------------------------------------------------------------------------

def test_adain_layer_by_hand():
    content = np.array([[[[1.0], [3.0]]]], "float32")  # μ 2, σ 1
    style = np.array([[[[10.0], [20.0]], [[10.0], [20.0]]]], "float32")  # μ 15, σ 5, other size
    np.testing.assert_allclose(AdaIN(epsilon=0.0)([content, style]), [[[[10.0], [20.0]]]], rtol=1e-6)


def test_adain_layer_matches_formula_with_epsilon_and_broadcasts_style():
    rng = np.random.default_rng(3)
    content = rng.normal(size=(2, 5, 4, 3)).astype("float32")
    style = rng.normal(loc=3.0, scale=2.0, size=(1, 7, 6, 3)).astype("float32")
    out = AdaIN()([content, style])
    assert tuple(out.shape) == content.shape
    np.testing.assert_allclose(out, np_adain(content, np.repeat(style, 2, axis=0)), rtol=1e-4, atol=1e-4)


def test_adain_layer_config_round_trip():
    layer = AdaIN(epsilon=1e-3, name="mix")
    assert layer.get_config()["epsilon"] == 1e-3
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(copy) is AdaIN and copy.epsilon == 1e-3 and copy.name == "mix"
    assert AdaIN.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(OptionError) as info:
        AdaIN(epsilon=-1)
    assert str(info.value) == "epsilon must be a number >= 0; Received: epsilon=-1"


# --- ReflectionPadding2D -------------------------------------------------------------------------------------------

def test_reflection_padding_by_hand():
    x = np.arange(1, 10, dtype="float32").reshape(1, 3, 3, 1)
    expected = [[5, 4, 5, 6, 5], [2, 1, 2, 3, 2], [5, 4, 5, 6, 5], [8, 7, 8, 9, 8], [5, 4, 5, 6, 5]]
    np.testing.assert_array_equal(np.asarray(ReflectionPadding2D(1)(x))[0, :, :, 0], expected)
    # asymmetric: one row on top, two columns on the right
    out = np.asarray(ReflectionPadding2D(((1, 0), (0, 2)))(x))[0, :, :, 0]
    np.testing.assert_array_equal(out, [[4, 5, 6, 5, 4], [1, 2, 3, 2, 1], [4, 5, 6, 5, 4], [7, 8, 9, 8, 7]])
    layer = ReflectionPadding2D((2, 1))
    assert layer.compute_output_shape((None, 10, None, 4)) == (None, 14, None, 4)
    assert tuple(layer(np.zeros((2, 3, 5, 4), "float32")).shape) == (2, 7, 7, 4)


def test_reflection_padding_config_round_trip_and_bad_padding():
    layer = ReflectionPadding2D(((1, 0), (0, 2)), name="pad")
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(copy) is ReflectionPadding2D and copy.padding == ((1, 0), (0, 2)) and copy.name == "pad"
    with pytest.raises(OptionError) as info:
        ReflectionPadding2D(-1)
    assert str(info.value) == ("padding must be an int >= 0, (height, width) or ((top, bottom), (left, right)); "
                               "Received: padding=-1")


# --- decoder -------------------------------------------------------------------------------------------------------

def conv_layers(model):
    return [layer for layer in all_layers(model) if isinstance(layer, keras.layers.Conv2D)]


def test_decoder_structure_relu4_1():
    decoder = build_decoder(512)
    convs = conv_layers(decoder)
    assert [conv.filters for conv in convs] == [256, 256, 256, 256, 128, 128, 64, 64, 3]
    assert [layer.name for layer in convs] == [
        "decoder_block4_conv1", "decoder_block3_conv4", "decoder_block3_conv3", "decoder_block3_conv2",
        "decoder_block3_conv1", "decoder_block2_conv2", "decoder_block2_conv1", "decoder_block1_conv2",
        "decoder_block1_conv1"]
    assert all(conv.kernel_size == (3, 3) and conv.padding == "valid" for conv in convs)
    assert [conv.activation.__name__ for conv in convs] == ["relu"] * 8 + ["linear"]
    ups = [layer for layer in decoder.layers if isinstance(layer, keras.layers.UpSampling2D)]
    assert [(up.size, up.interpolation) for up in ups] == [((2, 2), "nearest")] * 3
    layer_types = [type(layer).__name__ for layer in decoder.layers[1:]]
    assert not [name for name in layer_types if "Normalization" in name]
    assert set(layer_types) == {"ReflectionPadding2D", "Conv2D", "UpSampling2D"}
    # every conv reads a reflection padding of 1
    for conv in convs:
        padding = conv._inbound_nodes[0].parent_nodes[0].operation
        assert isinstance(padding, ReflectionPadding2D) and padding.padding == ((1, 1), (1, 1))
    assert decoder.count_params() == 3_505_219  # the reference decoder's parameter count
    assert decoder.dtype == "float32"
    assert tuple(decoder(np.zeros((1, 8, 8, 512), "float32")).shape) == (1, 64, 64, 3)


def test_decoder_output_shape_for_64px_features_and_width():
    decoder = build_decoder(512, width=0.125)
    assert [conv.filters for conv in conv_layers(decoder)] == [32, 32, 32, 32, 16, 16, 8, 8, 3]
    out = decoder(np.random.default_rng(0).random((1, 64, 64, 512)).astype("float32"))
    assert tuple(out.shape) == (1, 512, 512, 3)
    assert np.isfinite(np.asarray(out)).all()
    half = build_decoder(512, width=0.5)
    assert [conv.filters for conv in conv_layers(half)] == [128, 128, 128, 128, 64, 64, 32, 32, 3]


def test_decoder_relu3_1_is_the_tail_of_the_relu4_1_decoder():
    decoder = build_decoder(256, encoder_layer="block3_conv1")
    full = [name for name, filters in decoder_plan("block4_conv1") if filters]
    assert [conv.name[len("decoder_"):] for conv in conv_layers(decoder)] == full[4:]
    assert [conv.filters for conv in conv_layers(decoder)] == [128, 128, 64, 64, 3]
    assert len([layer for layer in decoder.layers if isinstance(layer, keras.layers.UpSampling2D)]) == 2
    assert tuple(decoder(np.zeros((2, 4, 6, 256), "float32")).shape) == (2, 16, 24, 3)


def test_decoder_config_round_trip():
    decoder = build_decoder(16, width=0.125, encoder_layer="block2_conv1")
    copy = keras.Model.from_config(decoder.get_config())
    copy.set_weights(decoder.get_weights())
    x = np.random.default_rng(0).random((1, 4, 4, 16)).astype("float32")
    np.testing.assert_array_equal(copy(x), decoder(x))


def test_decoder_input_scale_divides_the_features_and_has_no_weights():
    plain = build_decoder(16, width=0.125, encoder_layer="block2_conv1")
    scaled = build_decoder(16, width=0.125, encoder_layer="block2_conv1", input_scale=20.0)
    assert [w.path for w in scaled.weights] == [w.path for w in plain.weights]  # weights files stay compatible
    scaled.set_weights(plain.get_weights())
    x = np.random.default_rng(0).random((1, 4, 4, 16)).astype("float32") * 20.0
    np.testing.assert_allclose(scaled(x), plain(x / 20.0), rtol=1e-5, atol=1e-6)
    assert "decoder_input_scale" not in [layer.name for layer in plain.layers]
    copy = keras.Model.from_config(scaled.get_config())
    copy.set_weights(scaled.get_weights())
    np.testing.assert_array_equal(copy(x), scaled(x))
    with pytest.raises(OptionError) as info:
        build_decoder(16, encoder_layer="block2_conv1", input_scale=0)
    assert str(info.value) == "the decoder's input_scale must be a positive number; Received: input_scale=0"


@pytest.mark.parametrize("kwargs,message", [
    ({"width": 0}, "decoder width must be a number in (0, 4]; Received: width=0"),
    ({"encoder_layer": "block4_conv2"},
     "the AdaIN decoder mirrors one of block1_conv1, block2_conv1, block3_conv1, block4_conv1; "
     "Received: encoder_layer='block4_conv2'"),
    ({"encoder_channels": 0}, "encoder_channels must be a positive integer; Received: encoder_channels=0"),
])
def test_decoder_bad_options(kwargs, message):
    with pytest.raises(OptionError) as info:
        build_decoder(**kwargs)
    assert str(info.value) == message


# --- encoder -------------------------------------------------------------------------------------------------------

def test_encoder_is_one_network_for_encoding_and_style_layers():
    encoder = AdaINEncoder("vgg16", weights=None)
    assert encoder.encoder_layer == "block4_conv1"
    assert encoder.style_layers == ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")
    assert encoder.layers == encoder.style_layers  # encoder layer shared with the last style layer
    assert len(conv_layers(encoder.model)) == 8  # VGG16 up to block4_conv1, once
    assert encoder.model.trainable_weights == []
    assert (encoder.channels, encoder.downsampling) == (512, 8)
    features = encoder(random_images(1))
    assert {name: tuple(value.shape) for name, value in features.items()} == {
        "block1_conv1": (1, 32, 32, 64), "block2_conv1": (1, 16, 16, 128), "block3_conv1": (1, 8, 8, 256),
        "block4_conv1": (1, 4, 4, 512)}
    np.testing.assert_array_equal(encoder.encode(random_images(1)), features["block4_conv1"])


def test_encoder_relu3_1_defaults_and_custom_style_layers():
    assert default_style_layers("vgg19", "block3_conv1") == ("block1_conv1", "block2_conv1", "block3_conv1")
    encoder = AdaINEncoder("vgg19", "block3_conv1", style_layers=["block2_conv1"], weights=None)
    assert encoder.layers == ("block2_conv1", "block3_conv1")
    assert (encoder.channels, encoder.downsampling) == (256, 4)
    assert len(conv_layers(encoder.model)) == 5  # VGG19: 2 + 2 + block3_conv1


def test_encoder_bad_options():
    with pytest.raises(OptionError) as info:
        AdaINEncoder("vgg16", "block4_conv9", weights=None)
    assert str(info.value) == f"unknown layer block4_conv9 for backbone vgg16; valid layers: {VGG16_LAYERS}"
    with pytest.raises(OptionError) as info:
        AdaINEncoder("vgg16", style_layers=["block1_conv1", "conv9"], weights=None)
    assert str(info.value) == f"unknown layer conv9 for backbone vgg16; valid layers: {VGG16_LAYERS}"
    with pytest.raises(OptionError) as info:
        AdaINEncoder("resnet50", weights=None)
    assert str(info.value) == ("the AdaIN encoder needs a VGG backbone (vgg19, vgg16, vgg16_hed); "
                               "Received: backbone='resnet50'")
    with pytest.raises(OptionError, match="the AdaIN decoder mirrors one of"):
        AdaINEncoder("vgg16", "block5_conv1", weights=None)


# --- AdaINModel: forward, losses -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model4():
    """A tiny relu4_1 model (the default encoder layer), shared by the tests that only run it forward."""
    return tiny_model()


def test_model_call_accepts_pairs_and_dicts_and_does_not_clip(model4):
    model = model4
    content, style = random_images(2, seed=1), random_images(1, seed=2)
    out = np.asarray(model((content, style)))
    assert out.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(np.asarray(model({"content": content, "style": style})), out)
    f_c = model.encode(content)["block4_conv1"]
    expected = model.decoder(np_adain(f_c, np.repeat(model.encode(style)["block4_conv1"], 2, 0)).astype("float32"))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4 * np.abs(out).max())
    assert model.trainable_weights == model.decoder.trainable_weights
    assert len(conv_layers(model.encoder)) == 8 and len(conv_layers(model.decoder)) == 9  # one VGG, one decoder
    with pytest.raises(OptionError) as info:
        model({"content": content})
    assert "an AdaIN batch needs keys content and style; Received: keys=['content']" in str(info.value)


def test_compute_losses_by_hand(model4, monkeypatch):
    model = model4
    monkeypatch.setattr(model, "style_weight", 3.0)
    content, style = random_images(2, seed=1), random_images(2, seed=2)
    losses = {name: float(value) for name, value in model.compute_losses((content, style)).items()}

    features_c, features_s = model.encode(content), model.encode(style)
    t = np_adain(features_c["block4_conv1"], features_s["block4_conv1"]).astype("float32")
    features_g = {name: np.asarray(value, np.float64) for name, value in model.encode(model.decoder(t)).items()}
    content_loss = np.mean((features_g["block4_conv1"] - t) ** 2)
    per_layer = {}
    for layer in ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1"):
        (mg, sg), (ms, ss) = np_mean_std(features_g[layer]), np_mean_std(features_s[layer])
        per_layer[layer] = np.mean((mg - ms) ** 2) + np.mean((sg - ss) ** 2)
    style_loss = sum(per_layer.values())

    assert set(losses) == {"content", "style", "total", *(f"style/{layer}" for layer in per_layer)}
    np.testing.assert_allclose(losses["content"], content_loss, rtol=1e-3)
    for layer, value in per_layer.items():
        np.testing.assert_allclose(losses[f"style/{layer}"], value, rtol=1e-3)
    np.testing.assert_allclose(losses["style"], style_loss, rtol=1e-3)
    np.testing.assert_allclose(losses["total"], content_loss + 3.0 * style_loss, rtol=1e-3)


def test_compute_losses_adds_the_pixel_reconstruction_term():
    model = tiny_model(encoder_layer="block2_conv1", reconstruction_weight=2.5)
    content, style = random_images(2, seed=1), random_images(2, seed=2)
    losses = {name: float(value) for name, value in model.compute_losses((content, style)).items()}
    reconstruction = np.asarray(model.decoder(model.encode(content)["block2_conv1"]), np.float64)
    expected = np.mean((reconstruction - content) ** 2)  # g(f(c)) against c, pixels in [0, 1]
    np.testing.assert_allclose(losses["reconstruction"], expected, rtol=1e-4)
    np.testing.assert_allclose(losses["total"], losses["content"] + 10.0 * losses["style"] + 2.5 * expected,
                               rtol=1e-4)
    assert [metric.name for metric in model.metrics] == ["loss", "content_loss", "style_loss", "reconstruction_loss"]
    config = model.get_config()
    assert config["reconstruction_weight"] == 2.5
    assert AdaINModel.from_config(config).reconstruction_weight == 2.5
    assert "reconstruction" not in tiny_model(encoder_layer="block2_conv1").compute_losses((content, style))
    with pytest.raises(OptionError) as info:
        tiny_model(reconstruction_weight=float("nan"))
    assert str(info.value) == "reconstruction_weight must be a finite number >= 0; Received: reconstruction_weight=nan"


def test_compute_losses_adds_the_total_variation_term_on_the_stylized_output():
    model = tiny_model(encoder_layer="block2_conv1", tv_weight=0.75)
    content, style = random_images(2, seed=1), random_images(2, seed=2)
    losses = {name: float(value) for name, value in model.compute_losses((content, style)).items()}
    output = np.asarray(model((content, style)), np.float64)  # g(t), unclipped
    dx, dy = np.diff(output, axis=2), np.diff(output, axis=1)
    expected = np.mean(np.mean(dx ** 2, axis=(1, 2, 3)) + np.mean(dy ** 2, axis=(1, 2, 3)))
    np.testing.assert_allclose(losses["total_variation"], expected, rtol=1e-4)
    np.testing.assert_allclose(losses["total"], losses["content"] + 10.0 * losses["style"] + 0.75 * expected,
                               rtol=1e-4)
    assert [metric.name for metric in model.metrics] == ["loss", "content_loss", "style_loss", "total_variation_loss"]
    config = model.get_config()
    assert config["tv_weight"] == 0.75 and AdaINModel.from_config(config).tv_weight == 0.75
    assert "tv_weight" not in tiny_model(encoder_layer="block2_conv1").get_config()  # plain configs unchanged
    assert "total_variation" not in tiny_model(encoder_layer="block2_conv1").compute_losses((content, style))
    with pytest.raises(OptionError) as info:
        tiny_model(tv_weight=-1.0)
    assert str(info.value) == "tv_weight must be a finite number >= 0; Received: tv_weight=-1.0"


def test_the_total_variation_term_smooths_a_training_step():
    """One step with a large λ_tv lowers the output's total variation more than the same step without it."""
    content, style = random_images(2, seed=1), random_images(2, seed=2)
    variations = {}
    for tv_weight in (0.0, 1e3):
        model = tiny_model(encoder_layer="block2_conv1", style_weight=0.0, tv_weight=tv_weight)
        model.compile(optimizer=keras.optimizers.SGD(1e-3))
        model.train_step((content, style))
        variations[tv_weight] = float(np.mean(total_variation(model((content, style)))))
    assert variations[1e3] < 0.5 * variations[0.0]


def shallow_content_distance(model, content, style, layer):
    """MSE between the output's features at `layer` and that layer's AdaIN target, in NumPy."""
    features = {name: np.asarray(model.encode(images)[layer], np.float64) for name, images in
                (("content", content), ("style", style), ("output", model((content, style))))}
    return np.mean((features["output"] - np_adain(features["content"], features["style"])) ** 2)


def test_compute_losses_adds_the_shallow_content_term_one_block_above_the_encoder():
    model = tiny_model(encoder_layer="block3_conv1", shallow_content_weight=0.5)
    assert model.shallow_content_layer == "block2_conv1"
    content, style = random_images(2, seed=1), random_images(2, seed=2)
    losses = {name: float(value) for name, value in model.compute_losses((content, style)).items()}
    expected = shallow_content_distance(model, content, style, "block2_conv1")
    assert expected > 0
    np.testing.assert_allclose(losses["shallow_content"], expected, rtol=1e-4)
    np.testing.assert_allclose(losses["total"], losses["content"] + 10.0 * losses["style"] + 0.5 * expected,
                               rtol=1e-4)
    assert [metric.name for metric in model.metrics] == ["loss", "content_loss", "style_loss", "shallow_content_loss"]
    config = model.get_config()
    assert config["shallow_content_weight"] == 0.5
    assert AdaINModel.from_config(config).shallow_content_weight == 0.5
    plain = tiny_model(encoder_layer="block3_conv1")
    assert "shallow_content_weight" not in plain.get_config()  # plain configs unchanged
    assert "shallow_content" not in plain.compute_losses((content, style))


def test_the_shallow_content_term_is_refused_where_it_has_no_layer():
    with pytest.raises(OptionError) as info:
        tiny_model(encoder_layer="block1_conv1", shallow_content_weight=1.0)
    assert str(info.value) == ("the shallow content term needs an encoder layer deeper than block1_conv1; "
                               "Received: encoder_layer='block1_conv1', shallow_content_weight=1.0")
    with pytest.raises(OptionError) as info:
        tiny_model(encoder_layer="block3_conv1", style_layers=["block1_conv1", "block3_conv1"],
                   shallow_content_weight=1.0)
    assert str(info.value) == ("the shallow content term reads block2_conv1: add it to style_layers; Received: "
                               "style_layers=['block1_conv1', 'block3_conv1']")
    with pytest.raises(OptionError) as info:
        tiny_model(shallow_content_weight=-1.0)
    assert str(info.value) == ("shallow_content_weight must be a finite number >= 0; "
                               "Received: shallow_content_weight=-1.0")
    assert tiny_model(encoder_layer="block1_conv1").shallow_content_layer is None  # allowed while off


def test_the_shallow_content_term_pulls_a_training_step_towards_its_target():
    """One step with a large λ_c' brings the output nearer the shallow AdaIN target than the same step without."""
    content, style = random_images(2, seed=1), random_images(2, seed=2)
    distances = {}
    for weight in (0.0, 1e2):
        model = tiny_model(encoder_layer="block3_conv1", style_weight=0.0, shallow_content_weight=weight)
        before = shallow_content_distance(model, content, style, "block2_conv1")
        model.compile(optimizer=keras.optimizers.SGD(1e-7))  # small: the random VGG's gradients are large
        model.train_step((content, style))
        distances[weight] = shallow_content_distance(model, content, style, "block2_conv1") / before
    assert distances[1e2] < 0.8 * distances[0.0]


def test_stylize_alpha(model4):
    model = model4
    content, style = random_images(1, seed=1), random_images(1, seed=2)
    f_c = model.encode(content)["block4_conv1"]
    np.testing.assert_allclose(model.stylize(content, style, alpha=0.0, clip=False), model.decoder(f_c),
                               rtol=1e-5, atol=1e-5)
    full = model.stylize(content, style, clip=False)
    np.testing.assert_allclose(full, model((content, style)), rtol=1e-5, atol=1e-5)
    t = 0.25 * np_adain(f_c, model.encode(style)["block4_conv1"]) + 0.75 * np.asarray(f_c)
    half = model.stylize(content[0], style[0], alpha=0.25)  # (H, W, 3) in, (H, W, 3) out, clipped
    assert half.shape == (32, 32, 3) and half.dtype == np.float32
    np.testing.assert_allclose(half, np.clip(model.decoder(t.astype("float32"))[0], 0, 1), rtol=1e-4, atol=1e-4)
    assert half.min() >= 0.0 and half.max() <= 1.0
    with pytest.raises(OptionError) as info:
        model.stylize(content, style, alpha=1.5)
    assert str(info.value) == "alpha must be a number in [0, 1]; Received: alpha=1.5"


def test_model_config_round_trip_and_defaults():
    model = AdaINModel(weights=None, encoder_layer="block2_conv1", decoder_width=0.125, style_weight=2.5)
    config = model.get_config()
    assert config == {"name": "adain_model", "trainable": True, "backbone": "vgg19", "weights": None,
                      "encoder_layer": "block2_conv1", "style_layers": ["block1_conv1", "block2_conv1"],
                      "style_weight": 2.5, "decoder_width": 0.125, "epsilon": 1e-5}
    assert AdaINModel.from_config(config).get_config() == config
    model.compile(optimizer="sgd", style_weight=4.0)  # compile may set a new λ
    assert model.style_weight == 4.0 and model.get_config()["style_weight"] == 4.0
    auto = AdaINModel("auto", weights=None, encoder_layer="block2_conv1", decoder_width=0.125)
    assert auto.get_config()["backbone"] in ("vgg19", "vgg16_hed")  # resolved once, never stored as auto
    with pytest.raises(OptionError) as info:
        AdaINModel(style_weight=-1.0, weights=None)
    assert str(info.value) == "style_weight must be a finite number >= 0; Received: style_weight=-1.0"


# --- AdaINModel: training, evaluation, saving ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained():
    """A tiny model after one `fit` step (Adam), with the weights before the step.

    The encoder stops at relu2_1: tracing the train step of a relu4_1 model takes about three times longer.
    """
    model = tiny_model(encoder_layer="block2_conv1")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = [np.array(w) for w in model.weights]
    pairs = (random_images(4, seed=1), random_images(4, seed=2))
    history = model.fit(*pairs, batch_size=2, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False).history
    return model, before, history, pairs


def test_fit_one_step_changes_only_the_decoder(trained):
    model, before, history, _ = trained
    assert set(history) == {"loss", "content_loss", "style_loss"}
    assert all(np.isfinite(values[-1]) for values in history.values())
    assert history["loss"][-1] == pytest.approx(history["content_loss"][-1] + 10.0 * history["style_loss"][-1],
                                                rel=1e-4)
    trainable = {id(w) for w in model.trainable_weights}
    for weight, old in zip(model.weights, before):
        if id(weight) in trainable:
            assert not np.array_equal(np.asarray(weight), old), weight.path
        else:
            np.testing.assert_array_equal(np.asarray(weight), old)
    assert int(model.optimizer.iterations) == 1


def test_evaluate_uses_compute_losses(trained, monkeypatch):
    model, _, _, (content, style) = trained
    calls = []
    original = AdaINModel.compute_losses

    def spy(self, batch, training=False):
        calls.append(training)
        return original(self, batch, training)

    monkeypatch.setattr(AdaINModel, "compute_losses", spy)
    model.compile(optimizer=model.optimizer)  # drop the traced functions so evaluate traces through the spy
    logs = model.evaluate(content[:2], style[:2], batch_size=2, verbose=0, return_dict=True)
    assert calls and not any(calls)
    expected = original(model, (content[:2], style[:2]))
    assert logs == pytest.approx({"loss": float(expected["total"]), "content_loss": float(expected["content"]),
                                  "style_loss": float(expected["style"])}, rel=1e-4)


def test_keras_file_round_trip(trained, tmp_path):
    model, _, _, (content, style) = trained
    model.save(tmp_path / "adain.keras")
    loaded = keras.models.load_model(tmp_path / "adain.keras")
    assert type(loaded) is AdaINModel and loaded.get_config() == model.get_config()
    expected = np.asarray(model((content, style)))
    np.testing.assert_array_equal(loaded((content, style)), expected)
    assert int(loaded.optimizer.iterations) == 1  # compiled state comes back
    np.testing.assert_allclose(loaded.predict((content, style), batch_size=2, verbose=0), expected,
                               rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_weights_file_round_trip(tmp_path):
    model, other = tiny_model(seed=1, encoder_layer="block2_conv1"), tiny_model(seed=2, encoder_layer="block2_conv1")
    content, style = random_images(1, seed=1), random_images(1, seed=2)
    assert not np.array_equal(other((content, style)), model((content, style)))
    model.save_weights(tmp_path / "adain.weights.h5")
    other.load_weights(tmp_path / "adain.weights.h5")
    for a, b in zip(other.decoder.weights, model.decoder.weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(other((content, style)), model((content, style)))


def test_decoder_only_weights(tmp_path):
    model, other = tiny_model(seed=1, encoder_layer="block2_conv1"), tiny_model(seed=2, encoder_layer="block2_conv1")
    path = model.save_decoder(tmp_path / "decoder.weights.h5")
    assert path.is_file() and [p.name for p in tmp_path.iterdir()] == ["decoder.weights.h5"]
    other.load_decoder(path)
    for a, b in zip(other.decoder.weights, model.decoder.weights):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(WeightsError, match="cannot load decoder weights from .*decoder_width=0.25"):
        tiny_model(encoder_layer="block2_conv1", decoder_width=0.25).load_decoder(path)
    with pytest.raises(WeightsError) as info:
        other.load_decoder(tmp_path / "missing.weights.h5")
    assert str(info.value) == f"decoder weights file not found: {tmp_path / 'missing.weights.h5'}"
    with pytest.raises(OptionError) as info:
        model.save_decoder(tmp_path / "decoder.h5")
    assert str(info.value) == (f"decoder weights file must end in .weights.h5; "
                               f"Received: path='{tmp_path / 'decoder.h5'}'")


DISTRIBUTED = textwrap.dedent("""
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import pathlib
    import tempfile
    import keras
    import numpy as np
    import PIL.Image
    from tfstyle.adain import AdaINModel, train_adain

    rng = np.random.default_rng(0)
    pairs = (rng.random((4, 32, 32, 3), dtype="float32"), rng.random((4, 32, 32, 3), dtype="float32"))
    initial = []

    def one_step(strategy):
        with strategy.scope():
            model = AdaINModel("vgg16", weights=None, encoder_layer="block2_conv1", decoder_width=0.125)
            initial[:] = initial or model.get_weights()
            model.set_weights(initial)
            model.compile(optimizer=keras.optimizers.SGD(1e-4))  # SGD: a wrong gradient scale shows in the step
        history = model.fit(tf.data.Dataset.from_tensor_slices(pairs).batch(4), verbose=0, shuffle=False).history
        step = np.concatenate([(a - b).ravel() for a, b in zip(model.get_weights(), initial)])
        return {key: values[-1] for key, values in history.items()}, step

    def three_steps_of_train_adain(strategy, root):
        # train_adain's own loop (the CLI's): distributed dataset, strategy.run, reduced logs
        losses = []
        result = train_adain(root / "content", root / "style", root / f"run{strategy.num_replicas_in_sync}",
                             backbone="vgg16", weights=None, encoder_layer="block2_conv1", decoder_width=0.125,
                             steps=3, batch_size=4, crop_size=32, resize_to=40, learning_rate=1e-3,
                             checkpoint_every=0, logdir=None, progress=False, verbose=False, strategy=strategy,
                             on_step=lambda step, values: losses.append(values["loss"]))
        return losses, np.concatenate([w.ravel() for w in result.model.decoder.get_weights()])

    logs_one, step_one = one_step(tf.distribute.get_strategy())
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    logs_two, step_two = one_step(strategy)
    with tempfile.TemporaryDirectory() as root:
        root = pathlib.Path(root)
        for folder, seed in (("content", 1), ("style", 2)):
            (root / folder).mkdir()
            images = np.random.default_rng(seed).integers(0, 256, (4, 48, 56, 3), dtype=np.uint8)
            for index, image in enumerate(images):
                PIL.Image.fromarray(image).save(root / folder / f"{index}.png")
        loop_one, decoder_one = three_steps_of_train_adain(tf.distribute.get_strategy(), root)
        loop_two, decoder_two = three_steps_of_train_adain(strategy, root)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "one": logs_one, "two": logs_two,
                      "step_norm": float(np.linalg.norm(step_one)),
                      "step_difference": float(np.linalg.norm(step_one - step_two)),
                      "loop_one": loop_one, "loop_two": loop_two,
                      "loop_decoder_difference": float(np.abs(decoder_one - decoder_two).max())}))
""")


def _start_distributed_check():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", DISTRIBUTED], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=REPO)


@pytest.fixture(scope="module", autouse=True)
def distributed_check(request):
    """Start the MirroredStrategy subprocess with the module's first test, so its ~15 s overlap the other tests."""
    selected = any(item.name == "test_mirrored_strategy_step_equals_one_device_step" for item in request.session.items)
    process = _start_distributed_check() if selected else None
    yield process
    if process is not None and process.poll() is None:
        process.kill()
        process.communicate()


def test_mirrored_strategy_step_equals_one_device_step(distributed_check):
    process = distributed_check or _start_distributed_check()
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["two"] == pytest.approx(report["one"], rel=1e-4)
    assert report["step_norm"] > 0
    # Without dividing the loss by the number of replicas the step would be twice as long (difference = step_norm).
    assert report["step_difference"] < 1e-3 * report["step_norm"]
    # train_adain's loop on two replicas: the same batches, the same three losses and the same decoder
    assert len(report["loop_two"]) == 3
    assert report["loop_two"] == pytest.approx(report["loop_one"], rel=1e-4)
    assert report["loop_one"][2] != report["loop_one"][0]
    assert report["loop_decoder_difference"] < 1e-5


# --- slow: the real offline encoder --------------------------------------------------------------------------------

@pytest.mark.slow
def test_training_on_vgg16_hed_lowers_the_loss():
    """On the bundled vgg16_hed, 15 Adam steps on one pair lower the total loss at least 10-fold (~100× seen)."""
    keras.utils.set_random_seed(0)
    model = AdaINModel("vgg16_hed", decoder_width=0.25)
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    content = np.stack([xx, yy, 0.5 * (xx + yy)], axis=-1)[None].astype("float32")
    style = random_images(1, size=64, seed=5)
    first = float(model.compute_losses((content, style))["total"])
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(content, style, batch_size=1, epochs=15, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    last = float(model.compute_losses((content, style))["total"])
    assert last < first / 10, (first, last)
    image = model.stylize(content, style)
    assert image.shape == (1, 64, 64, 3) and 0 <= image.min() and image.max() <= 1
    assert image.std() > 0.01 and np.abs(image - content).mean() > 0.01  # neither flat nor the content
