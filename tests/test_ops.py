"""Tests of tfstyle.ops: golden values against hand computations and explicit numpy loops."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfstyle import ops
from tfstyle.errors import OptionError
from tfstyle.ops.mmd import _mmd2_kernel_matrices

from gradients import dynamic_spec, numerical_gradient, tape_gradient

RNG = np.random.default_rng(1234)


# --- independent numpy references: explicit loops, nothing shared with the library ---------------------------------


def np_gram(x, normalize=True):
    b, h, w, c = x.shape
    out = np.zeros((b, c, c))
    for n, i, j, p, q in itertools.product(range(b), range(h), range(w), range(c), range(c)):
        out[n, p, q] += x[n, i, j, p] * x[n, i, j, q]
    return out / (h * w) if normalize else out


def np_positions(x):
    """The feature vectors of one sample, as a list."""
    return [x[i, j] for i in range(x.shape[0]) for j in range(x.shape[1])]


def np_kernel(kernel, degree=2, c=0.0, two_sigma2=None):
    if kernel == "linear":
        return lambda a, b: float(a @ b)
    if kernel == "poly":
        return lambda a, b: float((a @ b + c) ** degree)
    return lambda a, b: float(np.exp(-np.sum((a - b) ** 2) / two_sigma2))


def np_mmd2_one(xs, ys, k):
    """Biased MMD² of two lists of vectors with an explicit double loop over positions."""
    kxx = np.mean([k(a, b) for a in xs for b in xs])
    kyy = np.mean([k(a, b) for a in ys for b in ys])
    kxy = np.mean([k(a, b) for a in xs for b in ys])
    return kxx + kyy - 2 * kxy


def np_mmd2(x, y, kernel, degree=2, c=0.0, sigma=None):
    out = []
    for n in range(x.shape[0]):
        xs, ys = np_positions(x[n]), np_positions(y[n] if y.shape[0] > 1 else y[0])
        if kernel == "gaussian":
            if sigma is not None:
                two_sigma2 = 2 * sigma**2
            else:
                two_sigma2 = np.mean([np.sum((a - b) ** 2) for a in xs for b in ys])
        else:
            two_sigma2 = None
        out.append(np_mmd2_one(xs, ys, np_kernel(kernel, degree, c, two_sigma2)))
    return np.array(out)


def np_total_variation(image):
    b, h, w, c = image.shape
    out = np.zeros(b)
    for n in range(b):
        sx = sum(
            (image[n, i, j + 1, k] - image[n, i, j, k]) ** 2 for i in range(h) for j in range(w - 1) for k in range(c)
        )
        sy = sum(
            (image[n, i + 1, j, k] - image[n, i, j, k]) ** 2 for i in range(h - 1) for j in range(w) for k in range(c)
        )
        out[n] = (sx / (h * (w - 1) * c) if w > 1 else 0.0) + (sy / ((h - 1) * w * c) if h > 1 else 0.0)
    return out


# --- gram_matrix ----------------------------------------------------------------------------------------------------


def test_gram_matrix_by_hand():
    # 1×2×2×2: positions (1, 2), (3, 4), (0, 1), (2, 0)
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [2.0, 0.0]]]])
    # Σ a² = 1+9+0+4 = 14, Σ ab = 2+12+0+0 = 14, Σ b² = 4+16+1+0 = 21
    np.testing.assert_allclose(ops.gram_matrix(x, normalize=False), [[[14.0, 14.0], [14.0, 21.0]]])
    np.testing.assert_allclose(ops.gram_matrix(x), [[[3.5, 3.5], [3.5, 5.25]]])


@pytest.mark.parametrize("normalize", [True, False])
def test_gram_matrix_matches_loops(normalize):
    x = RNG.normal(size=(2, 3, 5, 4))
    np.testing.assert_allclose(ops.gram_matrix(x, normalize=normalize), np_gram(x, normalize), rtol=1e-12)


def test_gram_matrix_float32_and_dynamic_shape():
    x = RNG.normal(size=(2, 5, 3, 4)).astype("float32")
    fn = tf.function(ops.gram_matrix, input_signature=[dynamic_spec(4)])
    out = fn(x)
    assert out.dtype == tf.float32 and out.shape == (2, 4, 4)
    np.testing.assert_allclose(out, np_gram(x.astype("float64")), rtol=1e-5)


# --- mean_std and adain ---------------------------------------------------------------------------------------------


def test_mean_std_by_hand():
    # channel 0: 1, 3, 5, 7 → μ 4, var (9+1+1+9)/4 = 5; channel 1: 2, 2, 2, 2 → μ 2, var 0
    x = np.array([[[[1.0, 2.0], [3.0, 2.0]], [[5.0, 2.0], [7.0, 2.0]]]])
    mean, std = ops.mean_std(x, epsilon=0.0)
    np.testing.assert_allclose(mean, [[4.0, 2.0]])
    np.testing.assert_allclose(std, [[np.sqrt(5.0), 0.0]])
    _, std = ops.mean_std(x, epsilon=1e-2)
    np.testing.assert_allclose(std, [[np.sqrt(5.01), 0.1]])


def test_mean_std_matches_numpy_and_dynamic_shape():
    x = RNG.normal(size=(3, 4, 6, 5)).astype("float32")
    fn = tf.function(ops.mean_std, input_signature=[dynamic_spec(5)])
    mean, std = fn(x)
    np.testing.assert_allclose(mean, x.mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, np.sqrt(x.var(axis=(1, 2)) + 1e-5), rtol=1e-5)


def test_adain_by_hand():
    content = np.array([[[[1.0], [3.0]]]])  # μ 2, σ 1
    style = np.array([[[[10.0], [20.0]], [[10.0], [20.0]]]])  # μ 15, σ 5, other size
    np.testing.assert_allclose(ops.adain(content, style, epsilon=0.0), [[[[10.0], [20.0]]]])


def test_adain_output_has_style_statistics():
    content = RNG.normal(size=(2, 5, 4, 3))
    style = RNG.normal(loc=3.0, scale=2.0, size=(2, 7, 6, 3))
    out = ops.adain(content, style, epsilon=0.0)
    np.testing.assert_allclose(np.mean(out, axis=(1, 2)), style.mean(axis=(1, 2)), rtol=1e-10)
    np.testing.assert_allclose(np.std(out, axis=(1, 2)), style.std(axis=(1, 2)), rtol=1e-10)
    # explicit formula, with ε
    expected = np.sqrt(style.var(axis=(1, 2)) + 1e-5)[:, None, None] * (
        content - content.mean(axis=(1, 2))[:, None, None]
    ) / np.sqrt(content.var(axis=(1, 2)) + 1e-5)[:, None, None] + style.mean(axis=(1, 2))[:, None, None]
    np.testing.assert_allclose(ops.adain(content, style), expected, rtol=1e-10)


def test_adain_dynamic_shape():
    fn = tf.function(ops.adain, input_signature=[dynamic_spec(3), dynamic_spec(3)])
    content = RNG.normal(size=(1, 4, 6, 3)).astype("float32")
    style = RNG.normal(size=(1, 8, 2, 3)).astype("float32")
    np.testing.assert_allclose(fn(content, style), ops.adain(content, style), rtol=1e-5, atol=1e-5)


# --- total_variation ------------------------------------------------------------------------------------------------


def test_total_variation_by_hand():
    # 2×2, one channel: Δx = 1, 1 (2 pairs); Δy = 2, 2 (2 pairs) → 1 + 4
    image = np.array([[[[0.0], [1.0]], [[2.0], [3.0]]]])
    np.testing.assert_allclose(ops.total_variation(image), [5.0])


def test_total_variation_matches_loops_and_dynamic_shape():
    image = RNG.normal(size=(2, 3, 4, 2))
    np.testing.assert_allclose(ops.total_variation(image), np_total_variation(image), rtol=1e-12)
    fn = tf.function(ops.total_variation, input_signature=[dynamic_spec(2, tf.float64)])
    np.testing.assert_allclose(fn(image), np_total_variation(image), rtol=1e-12)


@pytest.mark.parametrize("shape", [(1, 1, 4, 2), (1, 4, 1, 2), (1, 1, 1, 2)])
def test_total_variation_single_row_or_column(shape):
    image = RNG.normal(size=shape)
    out = ops.total_variation(image).numpy()
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, np_total_variation(image), rtol=1e-12)


def test_total_variation_relation_to_jcjohnson():
    # ½ Σ(Δx² + Δy²) over all pairs = ½ (n_x·mean_x + n_y·mean_y); on a large image ≈ ½·H·W·C·TV
    image = RNG.normal(size=(1, 64, 64, 3))
    half_sum = 0.5 * (np.sum(np.diff(image, axis=2) ** 2) + np.sum(np.diff(image, axis=1) ** 2))
    np.testing.assert_allclose(half_sum, 0.5 * 64 * 64 * 3 * ops.total_variation(image)[0], rtol=0.02)


# --- mmd2 -----------------------------------------------------------------------------------------------------------


def test_mmd2_by_hand():
    x = np.array([[[[1.0], [2.0]]]])  # positions 1, 2
    y = np.array([[[[3.0]]]])  # position 3
    # linear: (μx − μy)² = (1.5 − 3)²
    np.testing.assert_allclose(ops.mmd2(x, y, "linear"), [2.25])
    # poly 2, c 0: mean(1, 4, 4, 16) + 81 − 2·mean(9, 36) = 6.25 + 81 − 45
    np.testing.assert_allclose(ops.mmd2(x, y, "poly"), [42.25])
    # poly 3, c 1: xx (2, 3, 3, 5)³ → mean(8, 27, 27, 125) = 46.75; yy 10³; xy (4, 7)³ → mean 203.5
    np.testing.assert_allclose(ops.mmd2(x, y, "poly", degree=3, c=1.0), [46.75 + 1000 - 407])
    # gaussian, σ = 1: xx mean(1, e^-.5, e^-.5, 1); yy 1; xy mean(e^-2, e^-.5)
    expected = (2 + 2 * np.exp(-0.5)) / 4 + 1 - (np.exp(-2) + np.exp(-0.5))
    np.testing.assert_allclose(ops.mmd2(x, y, "gaussian", sigma=1.0), [expected])
    # gaussian, σ from data: 2σ² = mean(4, 1) = 2.5
    expected = (2 + 2 * np.exp(-1 / 2.5)) / 4 + 1 - (np.exp(-4 / 2.5) + np.exp(-1 / 2.5))
    np.testing.assert_allclose(ops.mmd2(x, y, "gaussian"), [expected])


@pytest.mark.parametrize(
    "kernel, degree, c, sigma",
    [
        ("linear", 2, 0.0, None),
        ("poly", 1, 0.5, None),
        ("poly", 2, 0.0, None),
        ("poly", 2, 1.5, None),
        ("poly", 3, 0.5, None),
        ("gaussian", 2, 0.0, 1.3),
        ("gaussian", 2, 0.0, None),
    ],
)
def test_mmd2_matches_explicit_kernel_matrices(kernel, degree, c, sigma):
    x = RNG.normal(size=(2, 3, 2, 3))
    y = RNG.normal(loc=0.3, size=(2, 2, 4, 3))  # other spatial size
    out = ops.mmd2(x, y, kernel, degree=degree, c=c, sigma=sigma)
    np.testing.assert_allclose(out, np_mmd2(x, y, kernel, degree, c, sigma), rtol=1e-10)


@pytest.mark.parametrize(
    "kernel, degree, c", [("linear", 2, 0.0), ("poly", 1, 2.0), ("poly", 2, 0.0), ("poly", 2, 0.7)]
)
def test_mmd2_closed_forms_equal_kernel_matrix_path(kernel, degree, c):
    xs = RNG.normal(size=(2, 7, 4))
    ys = RNG.normal(size=(2, 5, 4))
    closed = ops.mmd2(xs, ys, kernel, degree=degree, c=c)
    matrices = _mmd2_kernel_matrices(tf.constant(xs), tf.constant(ys), kernel, degree, c, None)
    np.testing.assert_allclose(closed, matrices, rtol=1e-10)


def test_mmd2_poly2_is_gram_distance():
    """MMD² with k(a, b) = (aᵀb)² is ‖G_x − G_y‖_F² with normalised Grams, also for different spatial sizes."""
    x = RNG.normal(size=(2, 3, 4, 3))
    y = RNG.normal(size=(2, 5, 2, 3))
    gram_distance = np.sum((np_gram(x) - np_gram(y)) ** 2, axis=(1, 2))
    double_loop = np_mmd2(x, y, "poly", degree=2, c=0.0)
    np.testing.assert_allclose(double_loop, gram_distance, rtol=1e-10)
    np.testing.assert_allclose(ops.mmd2(x, y, "poly", degree=2, c=0.0), gram_distance, rtol=1e-10)


def test_mmd2_accepts_vector_sets_and_broadcasts_batch_of_one():
    x = RNG.normal(size=(3, 4, 4, 2))
    y = RNG.normal(size=(1, 3, 3, 2))
    for kernel in ("poly", "gaussian"):
        out = ops.mmd2(x, y, kernel)
        each = [float(ops.mmd2(x[i : i + 1], y, kernel)[0]) for i in range(3)]
        np.testing.assert_allclose(out, each, rtol=1e-10)
        sets = ops.mmd2(x.reshape(3, 16, 2), y.reshape(1, 9, 2), kernel)
        np.testing.assert_allclose(sets, out, rtol=1e-10)


def test_mmd2_is_zero_on_identical_sets():
    x = RNG.normal(size=(1, 4, 4, 3))
    for kernel in ("linear", "poly", "gaussian"):
        np.testing.assert_allclose(ops.mmd2(x, x, kernel), [0.0], atol=1e-12)
    constant = np.ones((1, 2, 2, 3))  # all distances zero: σ from data must not give nan
    np.testing.assert_allclose(ops.mmd2(constant, constant, "gaussian"), [0.0], atol=1e-12)


@pytest.mark.parametrize("kernel", ["linear", "poly", "gaussian"])
def test_mmd2_dynamic_shape_float32(kernel):
    fn = tf.function(
        lambda a, b: ops.mmd2(a, b, kernel, max_positions=8), input_signature=[dynamic_spec(3), dynamic_spec(3)]
    )
    x = RNG.normal(size=(2, 2, 3, 3)).astype("float32")
    y = RNG.normal(size=(2, 2, 2, 3)).astype("float32")
    out = fn(x, y)
    assert out.dtype == tf.float32 and out.shape == (2,)
    np.testing.assert_allclose(out, np_mmd2(x.astype("float64"), y.astype("float64"), kernel), rtol=1e-4, atol=1e-6)


# --- subsampling ----------------------------------------------------------------------------------------------------


def test_subsample_positions_is_fixed_subset():
    vectors = RNG.normal(size=(2, 50, 3))
    a = ops.subsample_positions(vectors, 10, seed=3).numpy()
    b = ops.subsample_positions(vectors, 10, seed=3).numpy()
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 10, 3)
    # the rows are rows of the input, in their original order, the same positions for both samples
    rows = [int(np.flatnonzero(np.all(vectors[0] == row, axis=1))[0]) for row in a[0]]
    assert rows == sorted(rows) and len(set(rows)) == 10
    np.testing.assert_array_equal(a[1], vectors[1, rows])
    other = ops.subsample_positions(vectors, 10, seed=4).numpy()
    assert not np.array_equal(a, other)
    np.testing.assert_array_equal(ops.subsample_positions(vectors, 50), vectors)
    np.testing.assert_array_equal(ops.subsample_positions(vectors, None), vectors)


def test_subsample_positions_same_inside_tf_function():
    vectors = RNG.normal(size=(1, 40, 2)).astype("float32")
    fn = tf.function(
        lambda v: ops.subsample_positions(v, 7, seed=1), input_signature=[tf.TensorSpec([None, None, 2])]
    )
    np.testing.assert_array_equal(fn(vectors), ops.subsample_positions(vectors, 7, seed=1))
    # fewer positions than max_positions with an unknown static size: unchanged
    np.testing.assert_array_equal(fn(vectors[:, :5]), vectors[:, :5])


def smooth_features(rng, size, channels, shift):
    """Smooth random feature maps: random sinusoids of the position plus a little noise."""
    i, j = np.meshgrid(np.arange(size) / size, np.arange(size) / size, indexing="ij")
    maps = []
    for _ in range(channels):
        fx, fy, phase = rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0), rng.uniform(0, 2 * np.pi)
        maps.append(np.sin(2 * np.pi * (fx * i + fy * j) + phase) + shift)
    x = np.stack(maps, axis=-1)[None] + 0.05 * rng.normal(size=(1, size, size, channels))
    return x


def np_permutation(count, seed):
    """The fixed permutation of `subsample_positions` and of the blocks: argsort of stateless uniforms."""
    return np.argsort(keras.random.uniform((count,), seed=seed).numpy())


def np_blocks(x, y, block, seed):
    """Blocks of one sample: K = ceil(m/b) wrapped blocks of x, each with its own wrapped subset of y (or all y)."""
    xs, ys = np_positions(x), np_positions(y)
    count = -(-len(xs) // block)
    px, py = np_permutation(len(xs), seed), np_permutation(len(ys), seed + 1)
    x_blocks = [[xs[px[(k * block + j) % len(xs)]] for j in range(block)] for k in range(count)]
    if len(ys) <= block:
        return x_blocks, [ys] * count
    return x_blocks, [[ys[py[(k * block + j) % len(ys)]] for j in range(block)] for k in range(count)]


def np_pair_mean(x_blocks, y_blocks):
    return np.mean([np.sum((a - b) ** 2) for xb, yb in zip(x_blocks, y_blocks) for a in xb for b in yb])


def np_block_two_sigma2(x, y, block, seed):
    return np_pair_mean(*np_blocks(x, y, block, seed))


def np_block_mmd2(x, y, kernel, block, seed, degree=2, c=0.0, sigma=None):
    """The block estimator written out with explicit loops (mean over blocks of the biased MMD² of each pair)."""
    out = []
    for n in range(x.shape[0]):
        x_blocks, y_blocks = np_blocks(x[n], y[n] if y.shape[0] > 1 else y[0], block, seed)
        two_sigma2 = None
        if kernel == "gaussian":
            two_sigma2 = 2 * sigma**2 if sigma is not None else np_pair_mean(x_blocks, y_blocks)
        k = np_kernel(kernel, degree, c, two_sigma2)
        out.append(np.mean([np_mmd2_one(xb, yb, k) for xb, yb in zip(x_blocks, y_blocks)]))
    return np.array(out)


@pytest.mark.parametrize(
    "kernel, degree, c, sigma, y_size",
    [
        ("gaussian", 2, 0.0, None, (3, 4)),  # n = 12 > b: a subset of y per block
        ("gaussian", 2, 0.0, None, (1, 4)),  # n = 4 ≤ b: all of y for every block
        ("gaussian", 2, 0.0, 0.8, (3, 4)),
        ("poly", 3, 0.5, None, (3, 4)),
    ],
)
def test_mmd2_blocks_match_explicit_block_estimator(kernel, degree, c, sigma, y_size):
    x = RNG.normal(size=(2, 3, 5, 2))  # m = 15 > b = 4: K = 4 blocks, the last one wraps around
    y = RNG.normal(loc=0.2, size=(2, *y_size, 2))
    out = ops.mmd2(x, y, kernel, degree=degree, c=c, sigma=sigma, max_positions=4, seed=3)
    np.testing.assert_allclose(out, np_block_mmd2(x, y, kernel, 4, 3, degree, c, sigma), rtol=1e-10)


def test_mmd2_at_most_block_size_is_the_exact_quadratic_form():
    """m ≤ b: x whole (no permutation), y subsampled to b as before; m ≤ b and n ≤ b: the exact form."""
    x = RNG.normal(size=(2, 3, 4, 3))
    y = RNG.normal(size=(2, 5, 5, 3))
    for kernel in ("gaussian", "poly"):
        exact = np_mmd2(x, y, kernel, degree=3)
        np.testing.assert_allclose(ops.mmd2(x, y, kernel, degree=3, max_positions=25), exact, rtol=1e-10)
        np.testing.assert_allclose(ops.mmd2(x, y, kernel, degree=3, max_positions=None), exact, rtol=1e-10)
        y_subset = ops.subsample_positions(y.reshape(2, 25, 3), 12, seed=6).numpy()
        expected = np_mmd2(x, y_subset.reshape(2, 3, 4, 3), kernel, degree=3)
        np.testing.assert_allclose(ops.mmd2(x, y, kernel, degree=3, max_positions=12, seed=5), expected, rtol=1e-10)


def test_mmd2_blocks_every_position_gets_a_gradient():
    """The key property: with m > b every position of x is in a block, so every position receives a gradient."""
    rng = np.random.default_rng(8)
    x = smooth_features(rng, 16, 3, 0.0).astype("float32")  # m = 256
    y = smooth_features(rng, 12, 3, 0.3).astype("float32")  # n = 144
    for block in (50, 100, 256 - 1):  # K = 6 (wraps), 3 (wraps), 2
        x_tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x_tensor)
            loss = ops.mmd2(x_tensor, y, "gaussian", max_positions=block, seed=2)
        grad = tape.gradient(loss, x_tensor).numpy()
        assert np.all(np.isfinite(grad))
        assert np.count_nonzero(np.any(grad != 0, axis=-1)) == 256


def test_mmd2_blocks_deterministic_eager_and_tf_function():
    rng = np.random.default_rng(8)
    x = smooth_features(rng, 16, 3, 0.0).astype("float32")
    y = smooth_features(rng, 12, 3, 0.3).astype("float32")

    def loss_and_grad(a, b):
        with tf.GradientTape() as tape:
            tape.watch(a)
            loss = ops.mmd2(a, b, "gaussian", max_positions=50, seed=2)
        return loss, tape.gradient(loss, a)

    eager_loss, eager_grad = loss_and_grad(tf.constant(x), tf.constant(y))
    again_loss, again_grad = loss_and_grad(tf.constant(x), tf.constant(y))
    np.testing.assert_array_equal(eager_loss, again_loss)
    np.testing.assert_array_equal(eager_grad, again_grad)
    static = tf.function(loss_and_grad, input_signature=[tf.TensorSpec(x.shape), tf.TensorSpec(y.shape)])
    dynamic = tf.function(loss_and_grad, input_signature=[dynamic_spec(3), dynamic_spec(3)])
    for fn in (static, dynamic):
        loss1, grad1 = fn(x, y)
        loss2, grad2 = fn(x, y)
        np.testing.assert_array_equal(loss1, loss2)
        np.testing.assert_array_equal(grad1, grad2)
        np.testing.assert_allclose(loss1, eager_loss, rtol=1e-5)
        np.testing.assert_allclose(grad1, eager_grad, rtol=1e-4, atol=1e-9)
        assert np.count_nonzero(np.any(grad1.numpy() != 0, axis=-1)) == 256
    # unknown sizes at most b: one block holding all of x, equal to the exact form up to rounding
    small = dynamic(x[:, :5, :6], y[:, :4, :5])[0]
    np.testing.assert_allclose(small, np_mmd2(x[:, :5, :6].astype("float64"), y[:, :4, :5].astype("float64"),
                                              "gaussian"), rtol=1e-5)


def test_mmd2_blocks_close_to_full():
    rng = np.random.default_rng(7)
    x = smooth_features(rng, 32, 4, 0.0)
    y = smooth_features(rng, 32, 4, 0.5)
    # 1024 positions in K = 4 blocks of 256: the block estimate is 1–3 % above the full value over seeds 0–5
    # (each block's biased form adds about 1/b of within-block terms); ±10 % asserted
    full = float(ops.mmd2(x, y, "gaussian", max_positions=None)[0])
    for seed in (0, 1):
        np.testing.assert_allclose(ops.mmd2(x, y, "gaussian", max_positions=256, seed=seed)[0], full, rtol=0.1)
    full3 = float(ops.mmd2(x, y, "poly", degree=3, max_positions=None)[0])
    np.testing.assert_allclose(ops.mmd2(x, y, "poly", degree=3, max_positions=256)[0], full3, rtol=0.1)


def test_mmd2_blocks_decrease_toward_zero_for_the_same_distribution():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(1, 32, 32, 4))
    values = []
    for shift in (1.0, 0.5, 0.25, 0.0):
        x = rng.normal(size=(1, 32, 32, 4)) + shift
        values.append(float(ops.mmd2(x, y, "gaussian", max_positions=128)[0]))
    assert values == sorted(values, reverse=True)
    # same distribution: only the bias of the biased per-block form is left, below 2/b (here ≈ 0.007 vs 0.24)
    assert 0 < values[-1] < 2 / 128 and values[-1] < 0.05 * values[0]


@pytest.mark.parametrize(
    "kernel, sigma, y_shape",
    [("gaussian", None, (1, 2, 5, 2)), ("gaussian", 0.9, (2, 1, 3, 2)), ("poly", None, (1, 2, 5, 2))],
)
def test_mmd2_blocks_gradient_matches_finite_differences(kernel, sigma, y_shape):
    """float64 central differences on m = 12, b = 4 (K = 3), for x and for y (a broadcast batch of 1 included)."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 3, 4, 2))
    y = rng.normal(loc=0.3, size=y_shape)
    fixed = sigma
    if kernel == "gaussian" and sigma is None:
        # σ from the data is held constant for the gradient: compare with finite differences at that fixed width
        fixed = [float(np.sqrt(np_block_two_sigma2(x[i], y[min(i, len(y) - 1)], 4, 1) / 2)) for i in range(2)]
        for i in range(2):
            np.testing.assert_allclose(
                ops.mmd2(x[i : i + 1], y[min(i, len(y) - 1)][None], kernel, max_positions=4, seed=1),
                ops.mmd2(x[i : i + 1], y[min(i, len(y) - 1)][None], kernel, sigma=fixed[i], max_positions=4, seed=1),
                rtol=1e-12,
            )

    def loss(a, b, width):
        return ops.mmd2(a, b, kernel, degree=3, c=0.5, sigma=width, max_positions=4, seed=1)

    def total(a, b, widths):
        if not isinstance(widths, list):
            return tf.reduce_sum(loss(a, b, widths))
        return sum(loss(a[i : i + 1], b if b.shape[0] == 1 else b[i : i + 1], widths[i])[0] for i in range(2))

    np.testing.assert_allclose(
        tape_gradient(lambda a: total(a, y, sigma), x),
        numerical_gradient(lambda a: total(a, y, fixed), x),
        rtol=1e-5,
        atol=1e-8,
    )
    np.testing.assert_allclose(
        tape_gradient(lambda b: total(x, b, sigma), y),
        numerical_gradient(lambda b: total(x, b, fixed), y),
        rtol=1e-5,
        atol=1e-8,
    )


# --- argument checks ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kernel": "rbf"}, "unknown kernel 'rbf'; choose one of: linear, poly, gaussian"),
        ({"degree": 0}, "degree must be a positive integer; Received: degree=0"),
        ({"degree": 2.5}, "degree must be a positive integer; Received: degree=2.5"),
        ({"sigma": 0.0}, "sigma must be positive or None; Received: sigma=0.0"),
        ({"max_positions": 0}, "max_positions must be a positive integer or None; Received: max_positions=0"),
        ({"seed": "a"}, "seed must be an integer; Received: seed='a'"),
    ],
)
def test_mmd2_bad_options(kwargs, message):
    x = np.zeros((1, 2, 2, 1))
    with pytest.raises(OptionError) as info:
        ops.mmd2(x, x, **kwargs)
    assert str(info.value) == message


def test_mmd2_bad_rank():
    with pytest.raises(OptionError) as info:
        ops.mmd2(np.zeros((2, 3)), np.zeros((2, 3)))
    assert str(info.value) == "expected features of shape (B, H, W, C) or (B, P, C); Received: shape=(2, 3)"


@pytest.mark.parametrize("normalize", [True, False])
def test_gram_gradient_matches_autodiff_of_the_plain_product(normalize):
    # gram_matrix writes its gradient out by hand (symmetric product); it must equal plain autodiff.
    rng = np.random.default_rng(3)
    x = tf.constant(rng.normal(size=(2, 3, 4, 5)))
    weights = tf.constant(rng.normal(size=(2, 5, 5)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours = tf.reduce_sum(weights * ops.gram_matrix(x, normalize=normalize))
        plain = tf.einsum("bhwc,bhwd->bcd", x, x) / (12.0 if normalize else 1.0)
        reference = tf.reduce_sum(weights * plain)
    np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tape.gradient(ours, x).numpy(), tape.gradient(reference, x).numpy(), rtol=1e-10)
