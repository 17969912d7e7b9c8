"""CycleGAN networks: shared layers, SAGAN self-attention, the ResNet and U-Net generators, the PatchGAN discriminator.

Networks are tiny (1–8 filters, 16–48 px); the parameter-count checks build the full-size reference networks
without calling them.
"""

import copy
import math
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfstyle.adain.layers import ReflectionPadding2D as AdaINReflectionPadding2D
from tfstyle.cyclegan import (GENERATORS, PatchGANDiscriminator, ResNetGenerator, SelfAttention, UNetGenerator,
                              build_discriminator, build_generator)
from tfstyle.errors import OptionError
from tfstyle.layers import ReflectionPadding2D, conv_init, instance_norm


def images(batch=2, height=16, width=16, seed=0):
    """Random images in [-1, 1]."""
    return np.random.default_rng(seed).uniform(-1, 1, (batch, height, width, 3)).astype("float32")


def set_attention_weights(layer, rng, gamma):
    for weight in layer.weights:
        if weight.name == "gamma":
            weight.assign(gamma)
        elif weight.trainable:
            weight.assign(rng.normal(size=weight.shape).astype(weight.dtype))


def np_self_attention(x, layer, pool_keys=False):
    """Float64 numpy SelfAttention with `layer`'s weights (x: (B, H, W, C))."""
    def conv1x1(x, conv):
        conv = getattr(conv, "layer", conv)  # unwrap SpectralNormalization (inference uses the stored kernel)
        kernel, bias = np.asarray(conv.kernel, np.float64), np.asarray(conv.bias, np.float64)
        return x @ kernel[0, 0] + bias

    def pool(x):  # 2×2 max pooling of even sides
        b, h, w, c = x.shape
        return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))

    x = np.asarray(x, np.float64)
    b, h, w, c = x.shape
    query, key, value = (conv1x1(x, conv) for conv in (layer.query_conv, layer.key_conv, layer.value_conv))
    if pool_keys:
        key, value = pool(key), pool(value)
    query, key, value = (t.reshape(b, -1, t.shape[-1]) for t in (query, key, value))
    energy = query @ key.transpose(0, 2, 1)
    beta = np.exp(energy - energy.max(axis=-1, keepdims=True))
    beta /= beta.sum(axis=-1, keepdims=True)
    return float(layer.gamma.numpy()) * (beta @ value).reshape(b, h, w, c) + x


def assert_keras_round_trip(model, x, path):
    """`get_config`/`from_config` and `.keras` save/load (safe mode) give the same config and the same outputs."""
    config = model.get_config()
    assert type(model).from_config(copy.deepcopy(config)).get_config() == config  # plain Models consume it
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model) and loaded.get_config() == config
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-5, atol=1e-6)
    return loaded


# --- shared layers -------------------------------------------------------------------------------------------------

def test_reflection_padding_moved_keeps_import_path_and_registered_name():
    assert AdaINReflectionPadding2D is ReflectionPadding2D
    assert keras.saving.get_registered_name(ReflectionPadding2D) == "tfstyle>ReflectionPadding2D"
    x = np.arange(1, 4, dtype="float32").reshape(1, 1, 3, 1)
    np.testing.assert_array_equal(np.ravel(ReflectionPadding2D(((0, 0), (1, 1)))(x)), [2, 1, 2, 3, 2])


def test_keras_file_written_before_the_move_still_loads(tmp_path):
    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, ReflectionPadding2D(1, name="pad")(inputs))
    model.save(tmp_path / "new.keras")
    # Rewrite the file as the old layout wrote it: the layer's module was tfstyle.adain.layers.
    with zipfile.ZipFile(tmp_path / "new.keras") as new, zipfile.ZipFile(tmp_path / "old.keras", "w") as old:
        for item in new.infolist():
            data = new.read(item)
            if item.filename == "config.json":
                text = data.decode()
                assert '"module": "tfstyle.layers"' in text
                data = text.replace('"module": "tfstyle.layers"', '"module": "tfstyle.adain.layers"').encode()
            old.writestr(item, data)
    loaded = keras.saving.load_model(tmp_path / "old.keras")
    assert isinstance(loaded.get_layer("pad"), ReflectionPadding2D)
    np.testing.assert_array_equal(loaded(np.ones((1, 2, 2, 1), "float32")).shape, (1, 4, 4, 1))


def test_instance_norm_standardises_each_sample_and_channel_without_weights():
    x = np.random.default_rng(1).normal(2.0, 3.0, (2, 5, 4, 3)).astype("float32")
    layer = instance_norm()
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(layer(x), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-5)
    assert layer.weights == []
    affine = instance_norm(affine=True)
    affine.build(x.shape)
    assert sorted(w.name for w in affine.trainable_weights) == ["beta", "gamma"]
    with pytest.raises(OptionError, match=r"^affine must be True or False; Received: affine='yes'$"):
        instance_norm(affine="yes")


def test_conv_init_is_normal_0_02_and_new_per_call():
    first, second = conv_init(), conv_init()
    assert isinstance(first, keras.initializers.RandomNormal) and first.stddev == 0.02 and first.mean == 0.0
    a, b = np.asarray(first((64, 64))), np.asarray(second((64, 64)))
    assert not np.array_equal(a, b)
    assert abs(a.std() - 0.02) < 0.002 and abs(a.mean()) < 0.002


# --- SelfAttention -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pool_keys", [False, True])
def test_self_attention_starts_as_the_identity(pool_keys):
    x = np.random.default_rng(2).normal(size=(2, 6, 4, 16)).astype("float32")
    layer = SelfAttention(pool_keys=pool_keys)
    np.testing.assert_array_equal(layer(x), x)
    assert layer.gamma.shape == () and layer.gamma.trainable and float(layer.gamma.numpy()) == 0.0
    assert [tuple(w.shape) for w in layer.trainable_weights if len(w.shape) == 4] == \
        [(1, 1, 16, 2), (1, 1, 16, 2), (1, 1, 16, 16)]


def test_self_attention_by_hand():
    # Two positions with values 0 and 1, all 1×1 kernels 1, biases 0: energies x_i·x_j = [[0, 0], [0, 1]].
    layer = SelfAttention()
    x = np.array([[[[0.0], [1.0]]]], "float32")
    layer.build(x.shape)
    for weight in layer.weights:
        weight.assign(np.ones(weight.shape) if len(weight.shape) == 4 or weight.name == "gamma"
                      else np.zeros(weight.shape))
    e = math.e
    expected = [0.0 + 0.5, 1.0 + e / (1 + e)]  # softmax([0, 0])·[0, 1] and softmax([0, 1])·[0, 1], plus x
    np.testing.assert_allclose(np.ravel(layer(x)), expected, rtol=1e-6)
    assert layer.query_conv.filters == 1  # max(1, 1 // 8)


@pytest.mark.parametrize("pool_keys", [False, True])
def test_self_attention_matches_numpy(pool_keys):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 6, 8)).astype("float32")
    layer = SelfAttention(reduction=4, pool_keys=pool_keys)
    layer.build(x.shape)
    set_attention_weights(layer, rng, gamma=0.7)
    for weight in layer.trainable_weights:  # keep the energies moderate so the softmax is not one-hot
        if len(weight.shape) == 4:
            weight.assign(weight * 0.3)
    np.testing.assert_allclose(layer(x), np_self_attention(x, layer, pool_keys), rtol=1e-4, atol=1e-5)


def test_self_attention_gradient_matches_finite_differences():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1, 2, 3, 4))
    layer = SelfAttention(reduction=2, dtype="float64")
    layer.build(x.shape)
    set_attention_weights(layer, rng, gamma=1.0)
    probe = rng.normal(size=x.shape)

    def loss(value):
        return tf.reduce_sum(layer(value) * probe)

    x_var = tf.Variable(x)
    with tf.GradientTape() as tape:
        value = loss(x_var)
    gradient = tape.gradient(value, x_var).numpy()
    numeric = np.zeros_like(x)
    step = 1e-6
    for index in np.ndindex(x.shape):
        shift = np.zeros_like(x)
        shift[index] = step
        numeric[index] = (float(loss(x + shift)) - float(loss(x - shift))) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)
    assert np.abs(gradient - probe).max() > 1e-3  # the attention path contributes, not just the identity


def test_self_attention_pooled_keys_in_a_functional_model_with_dynamic_size(tmp_path):
    inputs = keras.Input((None, None, 8))
    model = keras.Model(inputs, SelfAttention(pool_keys=True, spectral_norm=True, name="attention")(inputs))
    layer = model.get_layer("attention")
    set_attention_weights(layer, np.random.default_rng(5), gamma=0.5)
    for shape in [(1, 8, 8, 8), (2, 5, 7, 8)]:  # odd sides: "same" pooling keeps every position
        x = np.random.default_rng(6).normal(size=shape).astype("float32")
        y = model(x)
        assert tuple(y.shape) == shape and not np.allclose(y, x)
    x = np.random.default_rng(7).normal(size=(1, 4, 6, 8)).astype("float32")
    np.testing.assert_allclose(model(x), np_self_attention(x, layer, pool_keys=True), rtol=1e-4, atol=1e-5)
    model.save(tmp_path / "attention.keras")
    loaded = keras.saving.load_model(tmp_path / "attention.keras")
    assert loaded.get_layer("attention").get_config() == layer.get_config()
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-5, atol=1e-6)


def test_self_attention_config_round_trip_and_errors():
    layer = SelfAttention(reduction=2, pool_keys=True, spectral_norm=True, kernel_initializer=conv_init(),
                          name="sa")
    config = layer.get_config()
    assert {k: config[k] for k in ("reduction", "pool_keys", "spectral_norm", "name")} == \
        {"reduction": 2, "pool_keys": True, "spectral_norm": True, "name": "sa"}
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(copy) is SelfAttention and copy.get_config() == config
    with pytest.raises(OptionError, match=r"^reduction must be an integer >= 1; Received: reduction=0$"):
        SelfAttention(reduction=0)
    with pytest.raises(OptionError, match=r"^pool_keys must be True or False; Received: pool_keys=1$"):
        SelfAttention(pool_keys=1)


# --- generators ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("upsampling, height, width", [("transpose", 16, 16), ("resize", 16, 24)])
def test_resnet_generator_shapes_and_range(upsampling, height, width):
    generator = ResNetGenerator(blocks=2, filters=4, upsampling=upsampling)
    y = np.asarray(generator(images(2, height, width) * 50))  # large inputs push the tanh towards ±1
    assert y.shape == (2, height, width, 3)
    assert np.abs(y).max() <= 1.0 and y.std() > 0.01
    assert generator.size_multiple == 4
    assert generator.get_layer("up2_conv").__class__ is (
        keras.layers.Conv2DTranspose if upsampling == "transpose" else keras.layers.Conv2D)


@pytest.mark.parametrize("upsampling, depth, height, width", [("transpose", 3, 16, 24), ("resize", 4, 32, 16)])
def test_unet_generator_shapes_and_range(upsampling, depth, height, width):
    generator = UNetGenerator(depth=depth, filters=4, upsampling=upsampling)
    y = np.asarray(generator(images(2, height, width)))
    assert y.shape == (2, height, width, 3) and np.abs(y).max() <= 1.0
    assert generator.size_multiple == 2 ** depth
    assert generator.get_layer(f"down{depth}_conv").filters == 4 * 2 ** (depth - 1)


def test_unet_layout_norms_and_dropout_as_in_the_reference():
    generator = UNetGenerator(depth=8, filters=1, max_filters=4, dropout=0.5)  # built only, never called
    names = {layer.name for layer in generator.layers}
    assert {f"down{i}_norm" for i in range(1, 9)} & names == {f"down{i}_norm" for i in range(2, 8)}
    assert {f"down{i}_lrelu" for i in range(1, 9)} & names == {f"down{i}_lrelu" for i in range(2, 9)}
    assert {f"up{i}_dropout" for i in range(1, 9)} & names == {"up5_dropout", "up6_dropout", "up7_dropout"}
    assert [generator.get_layer(f"down{i}_conv").filters for i in range(1, 9)] == [1, 2, 4, 4, 4, 4, 4, 4]
    assert "up1_norm" not in names and generator.get_layer("up1_conv").filters == 3
    assert "dropout" not in str([layer.name for layer in UNetGenerator(depth=8, filters=1).layers])


def test_unet_attention_sits_in_the_decoder_at_the_requested_resolution():
    generator = build_generator("unet_attention", depth=4, filters=2)
    assert generator.attention == (8,)
    attention = generator.get_layer("up4_attention")
    assert isinstance(attention, SelfAttention)
    probe = keras.Model(generator.input, attention.output)
    assert tuple(probe(images(1, 32, 48)).shape) == (1, 4, 6, 2 * 8)  # skip (8) + upsampled (8) channels at 1/8
    two = UNetGenerator(depth=4, filters=2, attention=(4, 2))
    assert two.attention == (2, 4)
    assert [layer.name for layer in two.layers if isinstance(layer, SelfAttention)] == \
        ["up3_attention", "up2_attention"]


@pytest.mark.parametrize("attention, message", [
    ((1,), r"^attention at full resolution \(factor 1\) would need an \(H·W\)² attention map; use a factor of "
           r"at least 2; Received: attention=\(1,\)$"),
    (16, r"^attention factors must be distinct and among 2, 4, 8 \(the decoder resolutions for depth=4\); "
         r"Received: attention=16$"),
    ((4, 4), r"^attention factors must be distinct and among 2, 4, 8 \(the decoder resolutions for depth=4\); "
             r"Received: attention=\(4, 4\)$"),
    ("8", r"^attention must be a tuple of downsampling factors such as \(8,\); Received: attention='8'$"),
])
def test_unet_attention_placement_errors(attention, message):
    with pytest.raises(OptionError, match=message):
        UNetGenerator(depth=4, filters=2, attention=attention)


@pytest.mark.parametrize("cls, options, message", [
    (ResNetGenerator, {"blocks": -1}, r"^blocks must be an integer >= 0; Received: blocks=-1$"),
    (ResNetGenerator, {"filters": 2.0}, r"^filters must be an integer >= 1; Received: filters=2.0$"),
    (ResNetGenerator, {"upsampling": "bilinear"},
     r"^upsampling must be one of transpose, resize; Received: upsampling='bilinear'$"),
    (UNetGenerator, {"norm": "batch"}, r"^norm must be one of instance, none; Received: norm='batch'$"),
    (UNetGenerator, {"dropout": 1.0}, r"^dropout must be a number in \[0, 1\); Received: dropout=1.0$"),
    (UNetGenerator, {"filters": 8, "max_filters": 4},
     r"^max_filters must be >= filters=8; Received: max_filters=4$"),
    (PatchGANDiscriminator, {"n_layers": 0}, r"^n_layers must be an integer >= 1; Received: n_layers=0$"),
    (PatchGANDiscriminator, {"spectral_norm": "yes"},
     r"^spectral_norm must be True or False; Received: spectral_norm='yes'$"),
])
def test_network_option_errors(cls, options, message):
    with pytest.raises(OptionError, match=message):
        cls(**options)


def test_build_generator_registry():
    assert tuple(GENERATORS) == ("resnet", "unet", "unet_attention")
    with pytest.raises(OptionError, match=r"^generator must be one of resnet, unet, unet_attention; "
                                          r"Received: generator='vgg'$"):
        build_generator("vgg")
    generator = build_generator("resnet", blocks=1, filters=2, name="photo_to_ink")
    assert isinstance(generator, ResNetGenerator) and generator.name == "photo_to_ink" and generator.blocks == 1
    unet = build_generator("unet", depth=3, filters=2)
    assert isinstance(unet, UNetGenerator) and unet.attention == ()
    assert build_generator("unet_attention", depth=4, filters=2, attention=(2,)).attention == (2,)
    critic = build_discriminator(n_layers=2, filters=2, norm="none")
    assert isinstance(critic, PatchGANDiscriminator) and critic.norm == "none"


@pytest.mark.parametrize("build, size", [
    (lambda: ResNetGenerator(blocks=1, filters=4, upsampling="resize", name="g"), (16, 24)),
    (lambda: UNetGenerator(depth=3, filters=4, attention=(4,), dropout=0.5), (16, 16)),
    (lambda: PatchGANDiscriminator(n_layers=2, filters=4, spectral_norm=True, attention=True), (32, 32)),
])
def test_network_config_and_keras_file_round_trip(build, size, tmp_path):
    keras.utils.set_random_seed(8)
    model = build()
    for layer in model.layers:
        if isinstance(layer, SelfAttention):  # γ ≠ 0, so the outputs depend on the attention weights too
            layer.gamma.assign(0.5)
    x = images(1, *size)
    loaded = assert_keras_round_trip(model, x, tmp_path / "network.keras")
    if hasattr(model, "size_multiple"):
        assert loaded.size_multiple == model.size_multiple


# --- discriminator -------------------------------------------------------------------------------------------------

def test_patchgan_output_shape_and_receptive_field():
    discriminator = PatchGANDiscriminator(n_layers=3, filters=4)
    assert tuple(discriminator(images(2, 32, 48)).shape) == (2, 2, 4, 1)
    assert discriminator.receptive_field == 70
    assert PatchGANDiscriminator(n_layers=2, filters=2).receptive_field == 34
    with_attention = PatchGANDiscriminator(n_layers=3, filters=2, attention=True)
    assert [layer.name for layer in with_attention.layers if isinstance(layer, SelfAttention)] == \
        ["conv3_attention"]  # after C256 (the third, last stride-2 block)
    assert with_attention.get_layer("conv3").filters == 8


def test_patchgan_receptive_field_matches_the_input_gradient():
    # Without instance norm (which couples all positions) one score depends on exactly a 70×70 input patch.
    discriminator = PatchGANDiscriminator(n_layers=3, filters=2, norm="none")
    x = tf.Variable(images(1, 128, 128))
    with tf.GradientTape() as tape:
        score = discriminator(x)[0, 7, 7, 0]
    touched = np.abs(tape.gradient(score, x).numpy()[0]).sum(axis=-1) > 0
    rows, cols = np.flatnonzero(touched.any(axis=1)), np.flatnonzero(touched.any(axis=0))
    assert rows[-1] - rows[0] + 1 == cols[-1] - cols[0] + 1 == discriminator.receptive_field == 70


def test_spectral_norm_discriminator_trains_one_step():
    keras.utils.set_random_seed(9)
    discriminator = PatchGANDiscriminator(n_layers=2, filters=4, spectral_norm=True, attention=True)
    before = {w.path: np.array(w.numpy()) for w in discriminator.weights}
    optimizer = keras.optimizers.Adam(1e-2)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((discriminator(images(2, 32, 32), training=True) - 1.0) ** 2)
    gradients = tape.gradient(loss, discriminator.trainable_weights)
    assert all(g is not None for g in gradients)
    optimizer.apply_gradients(zip(gradients, discriminator.trainable_weights))
    changed = {w.path for w in discriminator.weights if not np.array_equal(w.numpy(), before[w.path])}
    assert any("scores" in path and "vector_u" in path for path in changed)  # the power iteration ran,
    assert any("attention" in path and "vector_u" in path for path in changed)  # also inside the attention block
    assert any(path.endswith("gamma") for path in changed)
    assert any("scores" in path and "kernel" in path for path in changed)


@pytest.mark.parametrize("name", ["resnet", "unet_attention"])
def test_generator_fit_step(name):
    keras.utils.set_random_seed(10)
    options = {"resnet": {"blocks": 1, "filters": 4}, "unet_attention": {"depth": 4, "filters": 4}}[name]
    generator = build_generator(name, **options)
    generator.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mae", run_eagerly=True)  # tracing costs ~5 s
    x = images(2, 16, 16)
    before = [np.array(w.numpy()) for w in generator.trainable_weights]
    history = generator.fit(x, x, epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before, generator.trainable_weights))


@pytest.mark.parametrize("dtype, output_dtype", [("float64", "float64"), ("mixed_float16", "float32")])
def test_network_dtype_policies(dtype, output_dtype):
    for model in (ResNetGenerator(blocks=1, filters=2, dtype=dtype),
                  UNetGenerator(depth=2, filters=2, attention=(2,), dtype=dtype),
                  PatchGANDiscriminator(n_layers=1, filters=2, attention=True, dtype=dtype)):
        assert model.get_config()["dtype"] == dtype
        assert model(images(1, 8, 8)).dtype == output_dtype  # a mixed policy still returns float32


# --- sizes of the reference networks -------------------------------------------------------------------------------

def test_parameter_counts_match_the_reference_networks():
    # Counted by hand from the reference layer lists (every conv with a bias, affine-free instance norm):
    # resnet_9blocks ngf 64: 7×7 3→64, 3×3 64→128, 128→256, 18 × 3×3 256→256, 3×3ᵀ 256→128, 128→64, 7×7 64→3.
    assert ResNetGenerator(blocks=9, filters=64).count_params() == 11_378_179
    # basic (70×70) ndf 64: 4×4 3→64, 64→128, 128→256, 256→512, 512→1.
    assert PatchGANDiscriminator(n_layers=3, filters=64).count_params() == 2_764_737
    expected = (3 * 64 * 16 + 64) + (64 * 128 * 16 + 128) + (128 * 256 * 16 + 256) + (256 * 512 * 16 + 512) \
        + 3 * (512 * 512 * 16 + 512) + (512 * 512 * 16 + 512) \
        + (512 * 512 * 16 + 512) + 3 * (1024 * 512 * 16 + 512) + (1024 * 256 * 16 + 256) \
        + (512 * 128 * 16 + 128) + (256 * 64 * 16 + 64) + (128 * 3 * 16 + 3)
    assert expected == 54_409_603
    assert UNetGenerator(depth=8, filters=64).count_params() == expected
