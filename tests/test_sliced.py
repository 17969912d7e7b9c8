"""Tests of tfstyle.ops.sliced: the directions, golden values against an explicit numpy loop, gradients, shapes."""

import numpy as np
import pytest
import tensorflow as tf

from tfstyle import ops

from gradients import dynamic_spec, numerical_gradient, tape_gradient

RNG = np.random.default_rng(2021)


# --- independent numpy references: explicit loops, nothing shared with the library ---------------------------------


def np_sliced_wasserstein(x, y, directions):
    """SW² per sample: project, sort, target rank ⌊(i + ½)·N/M⌋ in exact integer arithmetic, mean of squares."""
    channels, count = directions.shape
    out = []
    for n in range(x.shape[0]):
        xs = x[n].reshape(-1, channels)
        ys = (y[n] if y.shape[0] > 1 else y[0]).reshape(-1, channels)
        m, big_n = len(xs), len(ys)
        total = 0.0
        for k in range(count):
            px = sorted(float(v @ directions[:, k]) for v in xs)
            py = sorted(float(v @ directions[:, k]) for v in ys)
            for i in range(m):
                total += (px[i] - py[((2 * i + 1) * big_n) // (2 * m)]) ** 2
        out.append(total / (count * m))
    return np.array(out)


# --- projection_directions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3, 8])
def test_directions_are_an_orthonormal_basis_by_default(channels):
    directions = ops.projection_directions(channels, seed=4)
    assert directions.shape == (channels, channels) and directions.dtype == np.float32
    np.testing.assert_allclose(directions.T @ directions, np.eye(channels), atol=1e-6)
    np.testing.assert_array_equal(ops.projection_directions(channels, channels, seed=4), directions)


def test_more_directions_than_channels_have_unit_norm():
    directions = ops.projection_directions(3, 8, seed=1)
    assert directions.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(directions, axis=0), np.ones(8), rtol=1e-6)
    # they are taken from successive orthonormal bases: the first C are the default draw, the next C another basis
    np.testing.assert_array_equal(directions[:, :3], ops.projection_directions(3, seed=1))
    np.testing.assert_allclose(directions[:, 3:6].T @ directions[:, 3:6], np.eye(3), atol=1e-6)
    assert not np.allclose(np.abs(directions[:, 3:6]), np.abs(directions[:, :3]))
    # fewer than C: unit norm and mutually orthogonal
    few = ops.projection_directions(6, 2, seed=1)
    np.testing.assert_allclose(few.T @ few, np.eye(2), atol=1e-6)


def test_directions_are_deterministic_per_seed():
    a = ops.projection_directions(5, 7, seed=3)
    np.testing.assert_array_equal(a, ops.projection_directions(5, 7, seed=3))
    assert not np.allclose(a, ops.projection_directions(5, 7, seed=4))


@pytest.mark.parametrize(
    "args, message",
    [
        ((0,), "need channels ≥ 1 and count ≥ 1; received channels=0, count=0"),
        ((3, 0), "need channels ≥ 1 and count ≥ 1; received channels=3, count=0"),
        ((3, -2), "need channels ≥ 1 and count ≥ 1; received channels=3, count=-2"),
    ],
)
def test_directions_bad_sizes(args, message):
    with pytest.raises(ValueError) as info:
        ops.projection_directions(*args)
    assert str(info.value) == message


# --- sorted_projections ---------------------------------------------------------------------------------------------


def test_sorted_projections_by_hand_and_vector_sets():
    # positions (1, 0), (0, 2), (3, 1), (2, 2); directions e_0 and (1, −1)
    x = np.array([[[[1.0, 0.0], [0.0, 2.0]], [[3.0, 1.0], [2.0, 2.0]]]])
    directions = np.array([[1.0, 1.0], [0.0, -1.0]])
    # projections: e_0 → 1, 0, 3, 2; (1, −1) → 1, −2, 2, 0
    expected = [[[0.0, -2.0], [1.0, 0.0], [2.0, 1.0], [3.0, 2.0]]]
    np.testing.assert_allclose(ops.sorted_projections(x, directions), expected)
    np.testing.assert_allclose(ops.sorted_projections(x.reshape(1, 4, 2), directions), expected)


# --- sliced_wasserstein ---------------------------------------------------------------------------------------------


def test_sliced_wasserstein_by_hand():
    x = np.array([[[[3.0], [1.0], [2.0]]]])  # M = 3 positions, one channel
    directions = np.array([[1.0, -1.0]])
    # target N = 4: column 0 the sorted projections on +1, column 1 on −1
    target = np.array([[[0.0, -6.0], [2.0, -4.0], [4.0, -2.0], [6.0, 0.0]]])
    # ranks ⌊(i + ½)·4/3⌋ = 0, 2, 3. On +1: sorted (1, 2, 3) vs (0, 4, 6) → 1 + 4 + 9 = 14;
    # on −1: sorted (−3, −2, −1) vs (−6, −2, 0) → 9 + 0 + 1 = 10. Mean over 3 positions and 2 directions:
    # 24 / 6.
    np.testing.assert_allclose(ops.sliced_wasserstein(x, target, directions), [4.0])
    # M = 2 positions against the same N = 4: ranks ⌊(i + ½)·2⌋ = 1, 3
    np.testing.assert_allclose(ops.sliced_wasserstein(x[:, :, :2], target[..., :1], directions[:, :1]),
                               [((1 - 2) ** 2 + (3 - 6) ** 2) / 2])


@pytest.mark.parametrize(
    "x_shape, y_shape, count",
    [
        ((2, 3, 4, 3), (2, 3, 4, 3), None),  # N = M
        ((2, 3, 4, 3), (1, 5, 2, 3), None),  # N < M, a target batch of 1 broadcast
        ((1, 2, 3, 3), (1, 4, 5, 3), 7),  # N > M, more directions than channels
        ((2, 5, 3, 2), (2, 2, 7, 2), 1),  # N < M, one direction
    ],
)
def test_sliced_wasserstein_matches_explicit_loops(x_shape, y_shape, count):
    x = RNG.normal(size=x_shape)
    y = RNG.normal(loc=0.4, scale=1.5, size=y_shape)
    directions = ops.projection_directions(x_shape[-1], count, seed=2).astype(np.float64)
    out = ops.sliced_wasserstein(x, ops.sorted_projections(y, directions), directions)
    assert out.shape == (x_shape[0],)
    np.testing.assert_allclose(out, np_sliced_wasserstein(x, y, directions), rtol=1e-12)


def test_sliced_wasserstein_is_zero_for_the_same_distribution():
    x = RNG.normal(size=(1, 4, 5, 3))
    directions = ops.projection_directions(3, 5, seed=0)
    target = ops.sorted_projections(x, directions)
    assert float(ops.sliced_wasserstein(x, target, directions)[0]) == 0.0
    # the same feature vectors at other positions (and in another layout): the same sorted projections
    shuffled = RNG.permutation(x.reshape(-1, 3)).reshape(1, 2, 10, 3)
    np.testing.assert_allclose(ops.sliced_wasserstein(shuffled, target, directions), [0.0], atol=1e-12)
    # each vector twice: every rank resamples to its own value
    doubled = np.concatenate([x, x[:, ::-1]], axis=1)
    np.testing.assert_allclose(ops.sliced_wasserstein(doubled, target, directions), [0.0], atol=1e-12)
    # but a change of the vectors is seen
    assert float(ops.sliced_wasserstein(x + 0.1 * RNG.normal(size=x.shape), target, directions)[0]) > 1e-4


def test_sliced_wasserstein_broadcasts_a_target_of_batch_one():
    x = RNG.normal(size=(3, 3, 3, 2))
    directions = ops.projection_directions(2, 3, seed=6)
    target = ops.sorted_projections(RNG.normal(size=(1, 4, 4, 2)), directions)
    out = ops.sliced_wasserstein(x, target, directions)
    each = [float(ops.sliced_wasserstein(x[i : i + 1], target, directions)[0]) for i in range(3)]
    np.testing.assert_allclose(out, each, rtol=1e-12)


def test_sliced_wasserstein_gradient_matches_finite_differences():
    """float64 central differences at a random point (no ties between projections), M = 9 against N = 12."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 3, 3, 2))
    directions = ops.projection_directions(2, 3, seed=1).astype(np.float64)
    target = ops.sorted_projections(rng.normal(size=(1, 4, 3, 2)), directions)
    projections = np.einsum("bhwc,ck->bhwk", x, directions).reshape(2, -1, 3)
    gaps = np.diff(np.sort(projections, axis=1), axis=1)
    assert gaps.min() > 1e-3  # far from a tie at the scale of the step

    def fn(v):
        return tf.reduce_sum(ops.sliced_wasserstein(v, target, directions))

    np.testing.assert_allclose(tape_gradient(fn, x), numerical_gradient(fn, x), rtol=1e-5, atol=1e-8)


def test_sliced_wasserstein_gradient_pulls_towards_the_target_of_its_rank():
    """∂SW²/∂f_p = 2/(K·M) Σ_k (f_p·v_k − T_k(rank of p)) v_k, written out per position."""
    rng = np.random.default_rng(9)
    x = rng.normal(size=(1, 2, 3, 2))
    directions = ops.projection_directions(2, seed=5).astype(np.float64)
    y = rng.normal(size=(1, 3, 3, 2))
    target = np.sort(np.einsum("bhwc,ck->bhwk", y, directions).reshape(1, -1, 2), axis=1)
    flat = x.reshape(-1, 2)
    m, n, count = len(flat), target.shape[1], directions.shape[1]
    expected = np.zeros_like(flat)
    for k in range(count):
        projected = flat @ directions[:, k]
        for rank, p in enumerate(np.argsort(projected)):
            quantile = target[0, ((2 * rank + 1) * n) // (2 * m), k]
            expected[p] += 2 / (count * m) * (projected[p] - quantile) * directions[:, k]
    gradient = tape_gradient(lambda v: tf.reduce_sum(ops.sliced_wasserstein(v, target, directions)), x)
    np.testing.assert_allclose(gradient.reshape(-1, 2), expected, rtol=1e-10, atol=1e-14)


def test_sliced_wasserstein_dynamic_shape_float32():
    directions = ops.projection_directions(3, 4, seed=0)
    x = RNG.normal(size=(2, 3, 5, 3)).astype("float32")
    y = RNG.normal(size=(1, 4, 2, 3)).astype("float32")
    target = ops.sorted_projections(y, directions)

    fixed_target = tf.function(lambda f: ops.sliced_wasserstein(f, target, directions),
                               input_signature=[dynamic_spec(3)])
    both_dynamic = tf.function(lambda f, t: ops.sliced_wasserstein(f, t, directions),
                               input_signature=[dynamic_spec(3), tf.TensorSpec([None, None, 4], tf.float32)])
    expected = np_sliced_wasserstein(x.astype("float64"), y.astype("float64"), directions.astype("float64"))
    for fn in (fixed_target, lambda f: both_dynamic(f, target)):
        out = fn(x)
        assert out.dtype == tf.float32 and out.shape == (2,)
        np.testing.assert_allclose(out, expected, rtol=1e-5)
    # the same trace on other sizes
    other = RNG.normal(size=(1, 6, 1, 3)).astype("float32")
    np.testing.assert_allclose(
        fixed_target(other),
        np_sliced_wasserstein(other.astype("float64"), y.astype("float64"), directions.astype("float64")),
        rtol=1e-5,
    )


def test_sliced_wasserstein_ranks_are_exact_on_large_maps():
    m_side, n_shape = 256, (200, 300)  # M = 65 536 positions of the features, N = 60 000 of the target
    n = n_shape[0] * n_shape[1]
    target = np.arange(n, dtype=np.float64)[None, :, None]  # T(r) = r
    # all-zero features: SW² = mean_i T(rank_i)² = mean_i rank_i²
    value = ops.sliced_wasserstein(np.zeros((1, m_side, m_side, 1)), target, np.ones((1, 1)))
    ranks = ((2 * np.arange(m_side**2) + 1) * n) // (2 * m_side**2)
    np.testing.assert_allclose(value, [np.mean(ranks.astype(np.float64) ** 2)], rtol=1e-13)
