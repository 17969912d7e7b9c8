"""Tests of tfstyle.losses: golden values, the Gatys and Gram ≡ MMD identities, gradients, configs."""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfstyle import losses, ops
from tfstyle.backbones import FeatureExtractor
from tfstyle.errors import OptionError

from gradients import numerical_gradient, tape_gradient

RNG = np.random.default_rng(99)


def np_unnormalized_gram(x):
    """Ĝ = F Fᵀ with F the N×M matrix of one sample (N channels, M = H·W positions), as Gatys et al. write it."""
    f = x.reshape(-1, x.shape[-1]).T
    return f @ f.T


def dynamic_spec(channels, dtype=tf.float32):
    return tf.TensorSpec([None, None, None, channels], dtype)


# --- content --------------------------------------------------------------------------------------------------------


def test_content_loss_by_hand_and_paper_relation():
    features = np.array([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [1.0, 1.0]]]])
    target = np.array([[[[0.0, 2.0], [3.0, 2.0]], [[1.0, 0.0], [1.0, 1.0]]]])
    # squared differences 1, 0, 0, 4, 1, 0, 0, 0 → mean 6/8
    np.testing.assert_allclose(losses.content_loss(features, target), [0.75])
    # Gatys: ½ Σ (F − P)² = ½ · H·W·C · mean
    np.testing.assert_allclose(0.5 * np.sum((features - target) ** 2), 0.5 * 8 * 0.75)
    loss = losses.ContentLoss()
    np.testing.assert_allclose(loss(target, features), 0.75, rtol=1e-6)
    np.testing.assert_allclose(loss.representation(target), target)


def test_content_loss_broadcasts_target():
    features = RNG.normal(size=(3, 2, 3, 2))
    target = RNG.normal(size=(1, 2, 3, 2))
    np.testing.assert_allclose(
        losses.content_loss(features, target), np.mean((features - target) ** 2, axis=(1, 2, 3)), rtol=1e-12
    )


# --- Gram -----------------------------------------------------------------------------------------------------------


def test_gram_style_loss_by_hand():
    features = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])  # G = [[.5, 0], [0, .5]]
    target = np.array([[[0.5, 1.0], [1.0, 0.0]]])  # G − A = [[0, −1], [−1, .5]] → Σ² = 2.25
    np.testing.assert_allclose(losses.gram_style_loss(features, target), [0.25 * 2.25 / 4])


def test_gram_style_loss_equals_gatys_e_l():
    """With unnormalised Grams Ĝ = FFᵀ (N = C, M = H·W): E_l = Σ(Ĝ − Â)² / (4 N² M²) exactly."""
    features = RNG.normal(size=(2, 3, 4, 5))
    style = RNG.normal(size=(2, 3, 4, 5))
    n, m = 5, 12
    e_l = [
        np.sum((np_unnormalized_gram(features[i]) - np_unnormalized_gram(style[i])) ** 2) / (4 * n**2 * m**2)
        for i in range(2)
    ]
    loss = losses.GramStyleLoss(dtype="float64", reduction=None)
    np.testing.assert_allclose(loss(style, features), e_l, rtol=1e-12)
    np.testing.assert_allclose(loss.compare(features, loss.representation(style)), e_l, rtol=1e-12)


def test_gram_style_loss_is_mmd_poly2_over_4c2():
    """mmd2(x, y, "poly", 2, 0) = ‖G_x − G_y‖_F² = 4·C²·gram_style_loss, also for different spatial sizes."""
    x = RNG.normal(size=(2, 3, 5, 4))
    y = RNG.normal(size=(2, 6, 2, 4))
    channels = 4
    gram = losses.gram_style_loss(x, ops.gram_matrix(y))
    mmd = ops.mmd2(x, y, "poly", degree=2, c=0.0)
    np.testing.assert_allclose(mmd, 4 * channels**2 * gram, rtol=1e-12)
    # the same through an explicit double loop over positions with k(a, b) = (aᵀb)²
    for i in range(2):
        xs, ys = x[i].reshape(-1, 4), y[i].reshape(-1, 4)
        double_loop = (
            np.mean([(a @ b) ** 2 for a in xs for b in xs])
            + np.mean([(a @ b) ** 2 for a in ys for b in ys])
            - 2 * np.mean([(a @ b) ** 2 for a in xs for b in ys])
        )
        np.testing.assert_allclose(double_loop, 4 * channels**2 * gram[i], rtol=1e-10)
    mmd_loss = losses.MMDStyleLoss(kernel="poly", degree=2, dtype="float64", reduction=None)
    np.testing.assert_allclose(mmd_loss(y, x), mmd, rtol=1e-12)


def test_gram_style_loss_broadcasts_target_of_batch_one():
    loss = losses.GramStyleLoss(dtype="float64", reduction=None)
    features = RNG.normal(size=(3, 4, 4, 2))
    target = loss.representation(RNG.normal(size=(1, 5, 5, 2)))
    assert target.shape == (1, 2, 2)
    out = loss.compare(features, target)
    each = [float(loss.compare(features[i : i + 1], target)[0]) for i in range(3)]
    np.testing.assert_allclose(out, each, rtol=1e-12)


# --- MMD ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel": "gaussian"},
        {"kernel": "gaussian", "sigma": 2.0},
        {"kernel": "linear"},
        {"kernel": "poly", "degree": 2, "c": 1.0},
        {"kernel": "poly", "degree": 3, "c": 0.5},
    ],
)
def test_mmd_style_loss_compare_equals_mmd2(kwargs):
    x = RNG.normal(size=(2, 5, 6, 3))
    y = RNG.normal(size=(1, 4, 7, 3))
    loss = losses.MMDStyleLoss(max_positions=20, seed=5, dtype="float64", reduction=None, **kwargs)
    target = loss.representation(y)
    expected = ops.mmd2(x, y, max_positions=20, seed=5, **kwargs)
    np.testing.assert_allclose(loss.compare(x, target), expected, rtol=1e-12)
    np.testing.assert_allclose(loss(y, x), expected, rtol=1e-12)
    function = losses.mmd_style_loss(x, target, max_positions=20, seed=5, **kwargs)
    np.testing.assert_allclose(function, expected, rtol=1e-12)
    # all target vectors: the blocks of the 30 feature positions (K = 2 of 20) each take their own 20 of them
    assert target.shape == (1, 28, 3)


def test_mmd_style_loss_defaults():
    loss = losses.MMDStyleLoss()
    assert (loss.kernel, loss.degree, loss.c, loss.sigma, loss.max_positions, loss.seed) == (
        "gaussian",
        2,
        0.0,
        None,
        256,
        0,
    )
    # the function has the same block size
    assert inspect.signature(losses.mmd_style_loss).parameters["max_positions"].default == loss.max_positions


def test_mmd_style_loss_under_tf_function_with_precomputed_target():
    loss = losses.MMDStyleLoss(max_positions=30)
    target = loss.representation(RNG.normal(size=(1, 8, 8, 3)).astype("float32"))

    @tf.function(input_signature=[dynamic_spec(3)])
    def value_and_grad(image_features):
        with tf.GradientTape() as tape:
            tape.watch(image_features)
            value = tf.reduce_sum(loss.compare(image_features, target))
        return value, tape.gradient(value, image_features)

    features = RNG.normal(size=(1, 7, 9, 3)).astype("float32")
    v1, g1 = value_and_grad(features)
    v2, g2 = value_and_grad(features)
    assert np.isfinite(v1) and np.all(np.isfinite(g1))
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_allclose(v1, loss.compare(features, target)[0], rtol=1e-5)


# --- mean / std -----------------------------------------------------------------------------------------------------


def test_mean_std_style_loss_by_hand():
    # channel 0: 1, 3 → μ 2, σ 1; channel 1: 0, 4 → μ 2, σ 2; target μ (0, 2), σ (1, 0)
    features = np.array([[[[1.0, 0.0], [3.0, 4.0]]]])
    target = (np.array([[0.0, 2.0]]), np.array([[1.0, 0.0]]))
    # means: (4 + 0)/2; stds: (0 + 4)/2
    np.testing.assert_allclose(losses.mean_std_style_loss(features, target, epsilon=0.0), [4.0])


def test_mean_std_style_loss_matches_numpy():
    features = RNG.normal(size=(2, 4, 3, 5))
    style = RNG.normal(loc=1.0, scale=3.0, size=(1, 6, 6, 5))
    loss = losses.MeanStdStyleLoss(epsilon=1e-3, dtype="float64", reduction=None)
    mu, sd = features.mean(axis=(1, 2)), np.sqrt(features.var(axis=(1, 2)) + 1e-3)
    mu_t, sd_t = style.mean(axis=(1, 2)), np.sqrt(style.var(axis=(1, 2)) + 1e-3)
    expected = np.mean((mu - mu_t) ** 2, axis=1) + np.mean((sd - sd_t) ** 2, axis=1)
    np.testing.assert_allclose(loss(style, features), expected, rtol=1e-12)
    mean, std = loss.representation(style)
    assert mean.shape == std.shape == (1, 5)


# --- sliced Wasserstein ---------------------------------------------------------------------------------------------


def test_sliced_wasserstein_style_loss_by_hand():
    features = np.array([[[[3.0], [1.0], [2.0]]]])  # sorted (1, 2, 3)
    directions = np.array([[1.0]])
    target = (directions, np.array([[[0.0], [2.0], [4.0], [6.0]]]))  # N = 4: ranks ⌊(i + ½)·4/3⌋ = 0, 2, 3
    np.testing.assert_allclose(losses.sliced_wasserstein_style_loss(features, target), [(1 + 4 + 9) / 3])


@pytest.mark.parametrize("projections", [None, 2, 9])
def test_sliced_wasserstein_style_loss_compare_equals_sliced_wasserstein(projections):
    x = RNG.normal(size=(2, 4, 3, 4))
    y = RNG.normal(loc=0.5, size=(1, 5, 5, 4))
    loss = losses.SlicedWassersteinStyleLoss(projections=projections, seed=3, dtype="float64", reduction=None)
    directions, target_sorted = loss.representation(y)
    count = 4 if projections is None else projections
    assert directions.shape == (4, count) and target_sorted.shape == (1, 25, count)
    np.testing.assert_array_equal(directions, ops.projection_directions(4, count, seed=3))
    np.testing.assert_allclose(target_sorted, ops.sorted_projections(y, directions), rtol=1e-12)
    expected = ops.sliced_wasserstein(x, target_sorted, directions)
    np.testing.assert_allclose(loss.compare(x, (directions, target_sorted)), expected, rtol=1e-12)
    np.testing.assert_allclose(losses.sliced_wasserstein_style_loss(x, (directions, target_sorted)), expected,
                               rtol=1e-12)
    # as a Keras loss: y_true the target features, y_pred the features; here of one sample each
    np.testing.assert_allclose(loss(y, x[:1]), expected[:1], rtol=1e-12)
    assert float(loss.compare(y, (directions, target_sorted))[0]) == 0.0


def test_sliced_wasserstein_style_loss_keras_call_pairs_the_batch():
    loss = losses.SlicedWassersteinStyleLoss(projections=3)
    x = RNG.normal(size=(3, 4, 4, 2)).astype("float32")
    y = RNG.normal(size=(3, 5, 3, 2)).astype("float32")
    per_sample = [float(loss.compare(x[i : i + 1], loss.representation(y[i : i + 1]))[0]) for i in range(3)]
    np.testing.assert_allclose(loss(y, x), np.mean(per_sample), rtol=1e-6)
    np.testing.assert_allclose(losses.SlicedWassersteinStyleLoss(projections=3, reduction="sum")(y, x),
                               np.sum(per_sample), rtol=1e-6)


def test_sliced_wasserstein_style_loss_defaults():
    loss = losses.SlicedWassersteinStyleLoss()
    assert (loss.projections, loss.seed, loss.name, loss.supports_masks) == (
        None,
        0,
        "sliced_wasserstein_style_loss",
        False,
    )
    # the seed changes the directions, hence the value
    x, y = RNG.normal(size=(1, 4, 4, 3)), RNG.normal(size=(1, 4, 4, 3))
    other = losses.SlicedWassersteinStyleLoss(seed=1)
    assert not np.allclose(loss.representation(y)[0], other.representation(y)[0])
    assert float(loss(y, x)) != pytest.approx(float(other(y, x)), rel=1e-4)


@pytest.mark.parametrize("projections", [0, -1, True, False])
def test_sliced_wasserstein_style_loss_bad_projections(projections):
    with pytest.raises(OptionError) as info:
        losses.SlicedWassersteinStyleLoss(projections=projections)
    assert str(info.value) == f"projections must be a positive number or None; Received: projections={projections!r}"


def test_sliced_wasserstein_style_loss_refuses_masks():
    loss = losses.SlicedWassersteinStyleLoss()
    features = np.zeros((1, 2, 2, 3))
    with pytest.raises(OptionError) as info:
        loss.compare_masked(features, loss.representation(features), np.ones((1, 2, 2, 1)))
    assert str(info.value) == "style_masks support the gram and meanstd style losses"


@pytest.fixture(scope="module")
def tiny_hed():
    keras.utils.set_random_seed(0)
    return FeatureExtractor("vgg16_hed", ["block1_conv1", "block2_conv1"], weights=None)


def test_sliced_wasserstein_in_a_perceptual_loss(tiny_hed):
    """The normalisation divides each layer by compare(zeros, target) = mean_k mean_i T_k(i)², which for K = C
    orthonormal directions is the style features' energy mean(S²) (Σ_k (s·v_k)² = ‖s‖²)."""
    rng = np.random.default_rng(12)
    content, style = rng.random((1, 24, 24, 3)).astype("float32"), rng.random((1, 24, 24, 3)).astype("float32")
    kwargs = dict(content_layers=["block2_conv1"], style_layers=["block1_conv1", "block2_conv1"], style_weight=10.0,
                  style_loss=losses.SlicedWassersteinStyleLoss())
    loss = losses.PerceptualLoss(tiny_hed, **kwargs)
    raw = losses.PerceptualLoss(tiny_hed, normalize=False, **kwargs)
    for each in (loss, raw):
        each.set_content(content)
        each.set_styles([style])
    assert float(loss(style)["style"]) == pytest.approx(0.0, abs=1e-6)
    style_features = tiny_hed(style)
    at_content, raw_at_content = loss(content), raw(content)
    for name in kwargs["style_layers"]:
        energy = np.mean(np.square(np.asarray(style_features[name], np.float64)))
        np.testing.assert_allclose(float(at_content[f"style/{name}"]), float(raw_at_content[f"style/{name}"]) / energy,
                                   rtol=1e-4)
    # all-zero features of the style's size score exactly style weight × layer weight. (An all-zero *image* does not:
    # VGG's preprocessing subtracts the mean colour, so its features are not zero.)
    zeros = {name: tf.zeros_like(value) for name, value in style_features.items()}
    at_zero = loss(content, features=zeros)
    assert float(at_zero["style/block1_conv1"]) == pytest.approx(5.0, rel=1e-5)
    assert float(at_zero["style"]) == pytest.approx(10.0, rel=1e-5)
    with pytest.raises(OptionError, match=r"^style_masks support the gram and meanstd style losses$"):
        loss.set_styles([style], masks=np.ones((1, 24, 24)))


# --- total variation ------------------------------------------------------------------------------------------------


def test_total_variation_loss_ignores_y_true():
    image = np.array([[[[0.0], [1.0]], [[2.0], [3.0]]], [[[0.0], [0.0]], [[0.0], [0.0]]]])
    np.testing.assert_allclose(losses.total_variation_loss(image), [5.0, 0.0])
    loss = losses.TotalVariationLoss()
    np.testing.assert_allclose(loss(None, image), 2.5)
    np.testing.assert_allclose(loss(np.zeros_like(image), image), 2.5)
    assert losses.TotalVariationLoss(reduction="sum")(None, image).numpy() == pytest.approx(5.0)


def test_losses_reduce_over_batch():
    features = RNG.normal(size=(3, 4, 4, 2)).astype("float32")
    target = RNG.normal(size=(3, 4, 4, 2)).astype("float32")
    for loss in (losses.ContentLoss(), losses.GramStyleLoss(), losses.MMDStyleLoss(), losses.MeanStdStyleLoss(),
                 losses.SlicedWassersteinStyleLoss()):
        per_sample = loss.compare(features, loss.representation(target))
        assert per_sample.shape == (3,)
        np.testing.assert_allclose(loss(target, features), np.mean(per_sample), rtol=1e-6)


# --- gradients: central finite differences in float64 against tf.GradientTape ---------------------------------------


GRADIENT_CASES = {
    "content": losses.ContentLoss(dtype="float64"),
    "gram": losses.GramStyleLoss(dtype="float64"),
    "mmd_gaussian_sigma": losses.MMDStyleLoss(kernel="gaussian", sigma=1.5, dtype="float64"),
    "mmd_linear": losses.MMDStyleLoss(kernel="linear", dtype="float64"),
    "mmd_poly2": losses.MMDStyleLoss(kernel="poly", degree=2, c=0.5, dtype="float64"),
    "mmd_poly3": losses.MMDStyleLoss(kernel="poly", degree=3, c=1.0, dtype="float64"),
    "mmd_subsampled": losses.MMDStyleLoss(kernel="gaussian", sigma=1.0, max_positions=5, seed=3, dtype="float64"),
    "meanstd": losses.MeanStdStyleLoss(dtype="float64"),
    "sliced_wasserstein": losses.SlicedWassersteinStyleLoss(projections=3, seed=1, dtype="float64"),
}


@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_gradient_matches_finite_differences(name):
    loss = GRADIENT_CASES[name]
    rng = np.random.default_rng(3)
    features = rng.normal(size=(2, 3, 3, 2))
    target = rng.normal(size=(2, 3, 3, 2)) if name == "content" else rng.normal(size=(1, 4, 3, 2))
    representation = loss.representation(target)

    def fn(x):
        return tf.reduce_sum(loss.compare(x, representation))

    np.testing.assert_allclose(tape_gradient(fn, features), numerical_gradient(fn, features), rtol=1e-5, atol=1e-8)


def test_gradient_of_keras_call_matches_finite_differences():
    loss = losses.GramStyleLoss(dtype="float64")
    rng = np.random.default_rng(4)
    features, target = rng.normal(size=(2, 2, 3, 2)), rng.normal(size=(2, 3, 2, 2))
    fn = lambda x: loss(target, x)  # noqa: E731
    np.testing.assert_allclose(tape_gradient(fn, features), numerical_gradient(fn, features), rtol=1e-5, atol=1e-8)


def test_gradient_total_variation_matches_finite_differences():
    loss = losses.TotalVariationLoss(dtype="float64")
    image = np.random.default_rng(5).normal(size=(2, 3, 4, 2))
    fn = lambda x: loss(None, x)  # noqa: E731
    np.testing.assert_allclose(tape_gradient(fn, image), numerical_gradient(fn, image), rtol=1e-5, atol=1e-8)


def test_gaussian_bandwidth_from_data_is_held_constant_for_the_gradient():
    """With sigma=None the gradient is that of the loss with σ fixed at its data value (stop_gradient)."""
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(1, 3, 3, 2)), rng.normal(size=(1, 2, 3, 2))
    xs, ys = x.reshape(-1, 2), y.reshape(-1, 2)
    mean_sq = np.mean([np.sum((a - b) ** 2) for a in xs for b in ys])  # 2σ²
    fixed = losses.MMDStyleLoss(sigma=float(np.sqrt(mean_sq / 2)), dtype="float64")
    adaptive = losses.MMDStyleLoss(dtype="float64")
    np.testing.assert_allclose(adaptive(y, x), fixed(y, x), rtol=1e-12)
    fixed_grad = numerical_gradient(lambda v: fixed(y, v), x)
    np.testing.assert_allclose(tape_gradient(lambda v: adaptive(y, v), x), fixed_grad, rtol=1e-5, atol=1e-8)


# --- configs and serialization --------------------------------------------------------------------------------------

CONFIG_CASES = [
    losses.ContentLoss(name="c", reduction="sum", dtype="float64"),
    losses.GramStyleLoss(name="g", reduction=None),
    losses.MMDStyleLoss(kernel="poly", degree=3, c=0.5, sigma=None, max_positions=128, seed=7, name="m"),
    losses.MMDStyleLoss(kernel="gaussian", sigma=2.0, max_positions=None),
    losses.MMDStyleLoss(),
    losses.MeanStdStyleLoss(epsilon=1e-3, reduction="sum"),
    losses.TotalVariationLoss(name="tv", reduction="sum"),
    losses.SlicedWassersteinStyleLoss(projections=5, seed=3, name="sw", reduction="sum"),
    losses.SlicedWassersteinStyleLoss(),
]


@pytest.mark.parametrize("loss", CONFIG_CASES, ids=lambda loss: type(loss).__name__)
def test_config_round_trip(loss):
    config = loss.get_config()
    clone = type(loss).from_config(config)
    assert clone.get_config() == config
    assert type(clone) is type(loss)
    serialized = keras.saving.serialize_keras_object(loss)
    assert serialized["registered_name"] == f"tfstyle>{type(loss).__name__}"
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(loss) and restored.get_config() == config


def test_config_holds_every_constructor_argument():
    config = losses.MMDStyleLoss(kernel="poly", degree=3, c=0.5, sigma=1.0, max_positions=64, seed=2).get_config()
    assert {k: config[k] for k in ("kernel", "degree", "c", "sigma", "max_positions", "seed")} == {
        "kernel": "poly",
        "degree": 3,
        "c": 0.5,
        "sigma": 1.0,
        "max_positions": 64,
        "seed": 2,
    }
    assert {"name", "reduction", "dtype"} <= set(config)
    assert losses.MeanStdStyleLoss(epsilon=0.1).get_config()["epsilon"] == 0.1


def test_mmd_config_round_trip_keeps_the_default_block_size():
    loss = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(losses.MMDStyleLoss()))
    assert loss.max_positions == 256 and loss.get_config()["max_positions"] == 256
    x = RNG.normal(size=(1, 20, 20, 3)).astype("float32")  # 400 positions > 256: two blocks
    y = RNG.normal(size=(1, 18, 18, 3)).astype("float32")
    np.testing.assert_array_equal(loss(y, x), losses.MMDStyleLoss()(y, x))
    np.testing.assert_allclose(loss(y, x), ops.mmd2(x, y, "gaussian", max_positions=256), rtol=1e-6)


def test_sliced_wasserstein_config_round_trip_keeps_the_directions():
    loss = losses.SlicedWassersteinStyleLoss(projections=5, seed=3)
    config = loss.get_config()
    assert (config["projections"], config["seed"]) == (5, 3)
    clone = losses.SlicedWassersteinStyleLoss.from_config(config)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    x = RNG.normal(size=(1, 4, 5, 3)).astype("float32")
    y = RNG.normal(size=(1, 5, 4, 3)).astype("float32")
    for other in (clone, restored):
        assert (other.projections, other.seed) == (5, 3)
        np.testing.assert_array_equal(other.representation(y)[0], loss.representation(y)[0])
        np.testing.assert_array_equal(other(y, x), loss(y, x))
    assert losses.SlicedWassersteinStyleLoss().get_config()["projections"] is None


def test_round_trip_computes_the_same_value():
    loss = losses.MMDStyleLoss(kernel="gaussian", max_positions=10, seed=4)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    x = RNG.normal(size=(1, 4, 5, 3)).astype("float32")
    y = RNG.normal(size=(1, 5, 4, 3)).astype("float32")
    np.testing.assert_array_equal(loss(y, x), restored(y, x))


# --- registry and argument errors -----------------------------------------------------------------------------------


def test_get_builds_style_losses():
    assert isinstance(losses.get("gram"), losses.GramStyleLoss)
    mmd = losses.get("mmd", kernel="linear", max_positions=8)
    assert isinstance(mmd, losses.MMDStyleLoss) and mmd.kernel == "linear" and mmd.max_positions == 8
    assert losses.get("meanstd", epsilon=0.5).epsilon == 0.5
    sw = losses.get("sw", projections=6, seed=2)
    assert isinstance(sw, losses.SlicedWassersteinStyleLoss) and (sw.projections, sw.seed) == (6, 2)
    assert losses.STYLE_LOSSES["sw"] is losses.SlicedWassersteinStyleLoss
    existing = losses.GramStyleLoss()
    assert losses.get(existing) is existing


def test_get_unknown_name():
    with pytest.raises(OptionError) as info:
        losses.get("foo")
    assert str(info.value) == "unknown style loss 'foo'; choose one of: gram, mmd, meanstd, sw"


def test_mmd_style_loss_bad_kernel():
    with pytest.raises(OptionError) as info:
        losses.MMDStyleLoss(kernel="rbf")
    assert str(info.value) == "unknown kernel 'rbf'; choose one of: linear, poly, gaussian"


def test_base_class_requires_both_halves():
    loss = losses.FeatureComparisonLoss()
    with pytest.raises(NotImplementedError, match="FeatureComparisonLoss does not define representation"):
        loss(np.zeros((1, 2, 2, 1)), np.zeros((1, 2, 2, 1)))
