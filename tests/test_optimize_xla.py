"""XLA in the optimization loop (`jit_compile=True`): same numbers as the plain graph, and the fallbacks.

Tolerance: XLA orders float32 operations differently, so values and gradients are compared with rtol 1e-4 (the
gradient also with atol 1e-4 × its largest entry); measured differences are about 1e-6. The images are smooth
random patterns without flat regions, where max pooling would have ties that XLA may break differently.
"""

import numpy as np
import pytest
import tensorflow as tf

from tfstyle import ops
from tfstyle.backbones import FeatureExtractor
from tfstyle.losses import GramStyleLoss, MMDStyleLoss, PerceptualLoss
from tfstyle.optimize import loop
from tfstyle.optimize.loop import compile_objective, optimize_image

SIZE = 32
RTOL = 1e-4


def pattern(seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    image = np.stack([np.sin(5 * xx + k + seed) * np.cos(3 * yy - k) for k in range(3)], axis=-1) * 0.3 + 0.5
    return np.clip(image + rng.normal(0, 0.05, image.shape), 0, 1).astype(np.float32)[None]


@pytest.fixture(scope="module")
def extractor():
    tf.keras.utils.set_random_seed(0)
    return FeatureExtractor("vgg16_hed", ("block1_conv1", "block2_conv1"), weights=None)


def perceptual_objective(extractor, style_loss=None):
    """Content, style and TV terms as `stylize` adds them, on the tiny backbone."""
    criterion = PerceptualLoss(extractor, ["block2_conv1"], ["block1_conv1", "block2_conv1"],
                               style_loss=style_loss or GramStyleLoss(), style_weight=10.0)
    criterion.set_content(pattern(0))
    criterion.set_styles([pattern(1)[:, ::-1].copy()])

    def objective(image):
        terms = criterion(image)
        terms["tv"] = 0.1 * ops.total_variation(image)[0]
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        return terms

    return objective


def evaluate(compiled, image):
    terms, gradient = compiled(tf.constant(image))
    return {key: float(value) for key, value in terms.items()}, gradient.numpy()


def assert_same(a, b):
    (terms, gradient), (other_terms, other_gradient) = a, b
    assert other_terms.keys() == terms.keys()
    for key in terms:
        assert other_terms[key] == pytest.approx(terms[key], rel=RTOL), key
    np.testing.assert_allclose(other_gradient, gradient, rtol=RTOL, atol=RTOL * np.abs(gradient).max())


@pytest.fixture
def compiled_functions(monkeypatch):
    """Every function the loop compiles during a test, to check which of them ran with XLA."""
    made = []

    class Recorded(loop._XlaOrGraph):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(loop, "_XlaOrGraph", Recorded)
    return made


def test_xla_value_and_gradient_match_the_plain_graph(extractor):
    objective = perceptual_objective(extractor)
    image = pattern(2)
    plain, xla = compile_objective(objective, image.shape), compile_objective(objective, image.shape, True)
    assert_same(evaluate(plain, image), evaluate(xla, image))
    assert plain.jit_compile is False and xla.jit_compile is True
    assert set(evaluate(xla, image)[0]) >= {"total", "content", "style", "tv", "style/block1_conv1"}


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_a_run_with_xla_gives_the_same_image(extractor, compiled_functions, optimizer):
    objective = perceptual_objective(extractor)
    plain = optimize_image(objective, pattern(3), optimizer=optimizer, steps=6)
    xla = optimize_image(objective, pattern(3), optimizer=optimizer, steps=6, jit_compile=True)
    assert [f.jit_compile for f in compiled_functions] == [False, True]
    assert xla.reason == plain.reason == "done" and xla.steps == 6
    assert np.abs(xla.image - pattern(3)[0]).max() > 0.01  # the runs did move the image
    np.testing.assert_allclose(xla.image, plain.image, atol=1e-4)
    np.testing.assert_allclose(xla.history["total"], plain.history["total"], rtol=RTOL)


def with_host_term(objective):
    """`objective` plus a term computed in Python by `tf.numpy_function`, an op XLA cannot compile."""

    def host_objective(image):
        terms = objective(image)
        terms["host"] = tf.reshape(tf.numpy_function(lambda x: np.float32(x.mean()), [image], tf.float32), ())
        terms["total"] = terms["total"] + terms["host"]
        return terms

    return host_objective


def test_an_objective_xla_cannot_compile_runs_in_the_plain_graph(extractor, compiled_functions):
    objective = with_host_term(perceptual_objective(extractor))
    image = pattern(4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="unsupported operations"):
        tf.function(lambda x: objective(x)["total"], jit_compile=True)(tf.constant(image))

    fallback = compile_objective(objective, image.shape, jit_compile=True)
    assert_same(evaluate(compile_objective(objective, image.shape), image), evaluate(fallback, image))
    assert fallback.jit_compile is False
    assert evaluate(fallback, image)[0]["host"] == pytest.approx(float(image.mean()))
    for optimizer in ("lbfgs", "adam"):
        result = optimize_image(objective, image, optimizer=optimizer, steps=3, jit_compile=True)
        assert result.reason == "done" and result.steps == 3
    assert [f.jit_compile for f in compiled_functions[-2:]] == [False, False]


def test_an_objective_that_draws_random_numbers_is_not_compiled_with_xla(extractor):
    # The MMD loss forms its blocks from a permutation drawn with a fixed seed; XLA would draw another one.
    objective = perceptual_objective(extractor, MMDStyleLoss(max_positions=64))
    image = tf.constant(pattern(5))
    total = tf.function(lambda x: objective(x)["total"])
    xla_total = tf.function(lambda x: objective(x)["total"], jit_compile=True)
    assert float(xla_total(image)) != pytest.approx(float(total(image)), rel=1e-3)

    compiled = compile_objective(objective, image.shape, jit_compile=True)
    assert evaluate(compiled, image)[0]["total"] == pytest.approx(float(total(image)), rel=1e-6)
    assert compiled.jit_compile is False


class Quadratic:
    """An objective that computes its own NumPy gradient (as the tiled objective does) and cannot be traced."""

    target = np.linspace(0.0, 1.0, 4 * 4 * 3, dtype=np.float32).reshape(1, 4, 4, 3)

    def value_and_gradient(self, image):
        return {"total": float(np.sum((image - self.target) ** 2))}, 2 * (image - self.target)

    def __call__(self, image):
        raise AssertionError("an objective with value_and_gradient must not be traced")


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_objectives_with_their_own_gradient_are_called_as_they_are(optimizer):
    result = optimize_image(Quadratic(), np.full((4, 4, 3), 0.5, np.float32), optimizer=optimizer, steps=20,
                            learning_rate=0.05, jit_compile=True)
    assert result.reason in ("done", "converged")
    assert result.history["total"][-1] < 0.5 * result.history["total"][0]
