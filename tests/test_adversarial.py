"""Tests of tfstyle.losses.adversarial: golden values, the gradient penalty's effect on the critic, objects, errors."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfstyle import losses
from tfstyle.errors import OptionError
from tfstyle.losses import adversarial

RNG = np.random.default_rng(7)


def tiny_critic(dtype="float32", seed=3):
    """A small nonlinear conv critic with a PatchGAN-style score map (B, 4, 4, 1) for 8×8×3 images."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((8, 8, 3), dtype=dtype),
        keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="tanh", dtype=dtype),
        keras.layers.Conv2D(1, 3, padding="same", dtype=dtype),
    ])


def linear_critic(w):
    """D(x) = Σ w·x per sample: ∇_x D = w everywhere."""
    w = tf.constant(w)
    return lambda x: tf.reduce_sum(w * x, axis=[1, 2, 3])[:, None]


# --- LSGAN ----------------------------------------------------------------------------------------------------------


def test_lsgan_losses_by_hand():
    real = np.array([[[[1.0], [0.0]], [[2.0], [1.0]]]])    # (r − 1)² = 0, 1, 1, 0 → mean 0.5
    fake = np.array([[[[0.0], [1.0]], [[-1.0], [2.0]]]])   # f² = 0, 1, 1, 4 → 1.5; (f − 1)² = 1, 0, 4, 1 → 1.5
    np.testing.assert_allclose(losses.lsgan_discriminator_loss(real, fake), [0.5 * (0.5 + 1.5)])
    np.testing.assert_allclose(losses.lsgan_generator_loss(fake), [1.5])
    # a batch of two: per-sample values, and the object's mean over batch and map
    real2, fake2 = np.concatenate([real, np.ones_like(real)]), np.concatenate([fake, np.zeros_like(fake)])
    np.testing.assert_allclose(losses.lsgan_discriminator_loss(real2, fake2), [1.0, 0.0])
    np.testing.assert_allclose(losses.lsgan_generator_loss(fake2), [1.5, 1.0])
    objective = losses.LSGAN()
    np.testing.assert_allclose(objective.discriminator_loss(real2, fake2), 0.5)
    np.testing.assert_allclose(objective.generator_loss(fake2), 1.25)


def test_losses_accept_vector_column_and_map_scores():
    scores = np.array([0.5, 2.0])
    for shaped in (scores, scores[:, None], np.broadcast_to(scores[:, None, None, None], (2, 3, 3, 1))):
        np.testing.assert_allclose(losses.lsgan_generator_loss(shaped), [0.25, 1.0])
        np.testing.assert_allclose(losses.wgan_generator_loss(shaped), [-0.5, -2.0])
        assert losses.LSGAN().generator_loss(shaped).shape == ()


def test_half_precision_scores_are_computed_in_float32():
    fake = np.full((1, 2, 2, 1), 300.0, dtype=np.float16)   # 299² overflows float16
    loss = losses.lsgan_generator_loss(fake)
    assert loss.dtype == tf.float32
    np.testing.assert_allclose(loss, [299.0**2])


# --- non-saturating GAN ---------------------------------------------------------------------------------------------


def test_vanilla_losses_by_hand():
    log3 = math.log(3.0)
    real = np.array([[0.0], [log3]])      # −log σ(0) = log 2; −log σ(log 3) = log(4/3)
    fake = np.array([[0.0], [-log3]])     # −log(1 − σ(0)) = log 2; −log(1 − σ(−log 3)) = log(4/3)
    np.testing.assert_allclose(losses.vanilla_discriminator_loss(real, fake), [math.log(2), math.log(4 / 3)])
    # generator: −log σ(0) = log 2; −log σ(−log 3) = log 4
    np.testing.assert_allclose(losses.vanilla_generator_loss(fake), [math.log(2), math.log(4)])
    np.testing.assert_allclose(losses.VanillaGAN().generator_loss(fake), math.log(8) / 2, rtol=1e-12)


def test_vanilla_losses_match_keras_binary_crossentropy():
    real, fake = RNG.normal(size=(3, 2, 2, 1)), RNG.normal(size=(3, 2, 2, 1))
    bce = lambda label, logits: keras.losses.binary_crossentropy(  # noqa: E731
        np.full(logits.shape, label), logits, from_logits=True).numpy().reshape(3, -1).mean(axis=1)
    np.testing.assert_allclose(losses.vanilla_discriminator_loss(real, fake),
                               0.5 * (bce(1.0, real) + bce(0.0, fake)), rtol=1e-6)
    np.testing.assert_allclose(losses.vanilla_generator_loss(fake), bce(1.0, fake), rtol=1e-6)


def test_vanilla_losses_are_stable_for_large_logits():
    big = tf.constant([[1000.0], [-1000.0]])
    np.testing.assert_allclose(losses.vanilla_discriminator_loss(big, -big), [0.0, 1000.0])
    with tf.GradientTape() as tape:
        tape.watch(big)
        loss = tf.reduce_sum(losses.vanilla_generator_loss(big))
    np.testing.assert_allclose(loss, 1000.0)
    np.testing.assert_allclose(tape.gradient(loss, big), [[0.0], [-1.0]])


# --- WGAN -----------------------------------------------------------------------------------------------------------


def test_wgan_losses_by_hand():
    real = np.array([[[[1.0], [3.0]]], [[[0.0], [0.0]]]])   # per-sample means 2, 0
    fake = np.array([[[[0.0], [1.0]]], [[[4.0], [-2.0]]]])  # per-sample means 0.5, 1
    np.testing.assert_allclose(losses.wgan_critic_loss(real, fake), [-1.5, 1.0])
    np.testing.assert_allclose(losses.wgan_generator_loss(fake), [-0.5, -1.0])
    objective = losses.WGANGP()
    np.testing.assert_allclose(objective.discriminator_loss(real, fake), -0.25)
    np.testing.assert_allclose(objective.generator_loss(fake), -0.75)


# --- gradient penalty: values ---------------------------------------------------------------------------------------


def test_gradient_penalty_of_a_linear_critic_is_exact_and_independent_of_epsilon():
    w = RNG.normal(size=(1, 2, 2, 3))
    expected = 10.0 * (np.linalg.norm(w) - 1.0) ** 2
    real, fake = RNG.normal(size=(4, 2, 2, 3)), RNG.normal(size=(4, 2, 2, 3))
    critic = linear_critic(w)
    for options in ({"seed": 0}, {"seed": 123}, {"epsilon": np.zeros((4, 1, 1, 1))}, {"epsilon": 1.0}, {}):
        np.testing.assert_allclose(losses.gradient_penalty(critic, real, fake, **options), expected, rtol=1e-9)
    np.testing.assert_allclose(losses.gradient_penalty(critic, real, fake, weight=2.5), expected / 4, rtol=1e-9)
    assert float(losses.gradient_penalty(critic, real, fake, weight=0)) == 0.0


def test_gradient_penalty_reduces_a_score_map_by_its_mean_or_sum():
    v = tf.constant([3.0, 4.0])                                          # ‖v‖ = 5
    critic = lambda x: tf.reduce_sum(v * x, axis=-1, keepdims=True)    # noqa: E731  map (B, 2, 2, 1)
    real, fake = tf.zeros((2, 2, 2, 2)), tf.ones((2, 2, 2, 2))
    # mean over 4 positions: ∇ = v/4 at each of 4 pixels → ‖∇‖ = 5·2/4 = 2.5; sum: ∇ = v → ‖∇‖ = 5·2 = 10
    np.testing.assert_allclose(losses.gradient_penalty(critic, real, fake), 10 * 1.5**2, rtol=1e-6)
    np.testing.assert_allclose(losses.gradient_penalty(critic, real, fake, map_reduction="sum"), 10 * 9.0**2,
                               rtol=1e-6)


def test_gradient_penalty_is_finite_where_the_input_gradient_is_zero():
    critic = tiny_critic()
    zero_critic = lambda x: 0.0 * critic(x)   # noqa: E731
    real, fake = tf.zeros((2, 8, 8, 3)), tf.ones((2, 8, 8, 3))
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(zero_critic, real, fake, seed=0)
    np.testing.assert_allclose(penalty, 10.0 * (math.sqrt(adversarial.GRADIENT_NORM_EPSILON) - 1) ** 2, rtol=1e-6)
    for gradient in tape.gradient(penalty, critic.trainable_weights):
        assert gradient is None or np.all(np.isfinite(gradient))


# --- gradient penalty: the interpolation coefficients ---------------------------------------------------------------


def recorded_interpolates(batch, **options):
    """x̂ for real = 0 and fake = 1, i.e. ε broadcast over each image."""
    seen = []

    def critic(x):
        seen.append(x)
        return tf.reduce_sum(x, axis=[1, 2, 3])[:, None]

    losses.gradient_penalty(critic, tf.zeros((batch, 2, 3, 1)), tf.ones((batch, 2, 3, 1)), **options)
    return seen[0].numpy()


def test_epsilon_is_uniform_per_sample_and_reproducible():
    x = recorded_interpolates(4000, seed=5)
    per_sample = x[:, 0, 0, 0]
    np.testing.assert_array_equal(x, np.broadcast_to(per_sample[:, None, None, None], x.shape))  # one ε per sample
    assert per_sample.min() >= 0.0 and per_sample.max() <= 1.0
    assert abs(per_sample.mean() - 0.5) < 0.02 and abs(per_sample.std() - math.sqrt(1 / 12)) < 0.01   # U[0, 1]
    np.testing.assert_array_equal(recorded_interpolates(6, seed=5), recorded_interpolates(6, seed=5))
    np.testing.assert_array_equal(recorded_interpolates(6, seed=[5, 1]), recorded_interpolates(6, seed=[5, 1]))
    assert not np.array_equal(recorded_interpolates(6, seed=5), recorded_interpolates(6, seed=6))
    assert not np.array_equal(recorded_interpolates(6, seed=[5, 1]), recorded_interpolates(6, seed=[5, 2]))


def test_epsilon_from_a_generator_advances_and_replays():
    for make in (lambda: tf.random.Generator.from_seed(11), lambda: keras.random.SeedGenerator(11)):
        generator = make()
        first, second = recorded_interpolates(5, seed=generator), recorded_interpolates(5, seed=generator)
        assert not np.array_equal(first, second)
        np.testing.assert_array_equal(recorded_interpolates(5, seed=make()), first)


# --- gradient penalty: effect on the critic's weights ---------------------------------------------------------------


def critic_gradients(critic, real, fake, with_penalty, seed=0):
    with tf.GradientTape() as tape:
        loss = losses.WGANGP().discriminator_loss(critic(real), critic(fake))
        if with_penalty:
            loss += losses.gradient_penalty(critic, real, fake, seed=seed)
    return tape.gradient(loss, critic.trainable_weights)


def test_gradient_penalty_changes_the_critic_weight_gradients():
    """The penalty must reach the critic's weights (double backprop); the PyTorch reference's wgangp never adds it."""
    critic = tiny_critic()
    real, fake = tf.constant(RNG.uniform(size=(2, 8, 8, 3)), tf.float32), tf.constant(RNG.uniform(size=(2, 8, 8, 3)),
                                                                                      tf.float32)
    without = critic_gradients(critic, real, fake, with_penalty=False)
    with_penalty = critic_gradients(critic, real, fake, with_penalty=True)
    flat = lambda gradients: np.concatenate([np.ravel(g) for g in gradients])  # noqa: E731
    change = np.linalg.norm(flat(with_penalty) - flat(without)) / np.linalg.norm(flat(without))
    assert change > 0.1, change

    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(critic, real, fake, seed=0)
    penalty_gradients = dict(zip([w.path for w in critic.trainable_weights],
                                 tape.gradient(penalty, critic.trainable_weights)))
    for path, gradient in penalty_gradients.items():
        if path.endswith("kernel"):
            assert gradient is not None and np.linalg.norm(gradient) > 1e-4, path
    # the input gradient does not depend on the last layer's bias, so neither does the penalty
    last_bias = penalty_gradients[critic.layers[-1].bias.path]
    assert last_bias is None or not np.any(last_bias)


def test_gradient_penalty_gradient_matches_finite_differences_in_float64():
    critic = tiny_critic("float64")
    real, fake = RNG.uniform(size=(2, 8, 8, 3)), RNG.uniform(size=(2, 8, 8, 3))
    epsilon = np.array([0.3, 0.8]).reshape(2, 1, 1, 1)
    kernel = critic.layers[0].kernel
    penalty = lambda: losses.gradient_penalty(critic, real, fake, epsilon=epsilon)  # noqa: E731
    with tf.GradientTape() as tape:
        value = penalty()
    assert value.dtype == tf.float64
    analytic = tape.gradient(value, kernel).numpy()
    original, h = kernel.numpy(), 1e-6
    for index in [(0, 0, 0, 0), (1, 2, 2, 3)]:
        shifted = original.copy()
        shifted[index] += h
        kernel.assign(shifted)
        plus = float(penalty())
        shifted[index] -= 2 * h
        kernel.assign(shifted)
        minus = float(penalty())
        kernel.assign(original)
        np.testing.assert_allclose(analytic[index], (plus - minus) / (2 * h), rtol=1e-5)


def test_gradient_penalty_in_tf_function_equals_eager():
    critic = tiny_critic()
    real, fake = tf.constant(RNG.uniform(size=(2, 8, 8, 3)), tf.float32), tf.constant(RNG.uniform(size=(2, 8, 8, 3)),
                                                                                      tf.float32)

    def step(seed):
        with tf.GradientTape() as tape:
            penalty = losses.gradient_penalty(critic, real, fake, seed=seed)
        return penalty, tape.gradient(penalty, critic.layers[0].kernel)

    eager = step(tf.constant([4, 2]))
    graph = tf.function(step)(tf.constant([4, 2]))
    np.testing.assert_allclose(graph[0], eager[0], rtol=1e-5)
    np.testing.assert_allclose(graph[1], eager[1], rtol=1e-4, atol=1e-7)

    generator = tf.random.Generator.from_seed(1)
    compiled = tf.function(lambda: losses.gradient_penalty(critic, real, fake, seed=generator))
    assert float(compiled()) != float(compiled())   # a new ε at each call of the compiled step


# --- objects --------------------------------------------------------------------------------------------------------


def test_get_adversarial_resolves_names_and_aliases():
    assert type(losses.get_adversarial("lsgan")) is losses.LSGAN
    assert type(losses.get_adversarial("vanilla")) is losses.VanillaGAN
    for name in ("wgan-gp", "wgangp", "WGAN-GP"):
        assert type(losses.get_adversarial(name)) is losses.WGANGP
    objective = losses.get_adversarial("wgangp", gradient_penalty_weight=5.0, critic_steps=3)
    assert (objective.gradient_penalty_weight, objective.critic_steps) == (5.0, 3)
    assert losses.get_adversarial(objective) is objective


def test_objective_metadata():
    lsgan, vanilla, wgangp = losses.LSGAN(), losses.VanillaGAN(), losses.WGANGP()
    assert not lsgan.needs_gradient_penalty and not vanilla.needs_gradient_penalty and wgangp.needs_gradient_penalty
    assert (lsgan.critic_steps, vanilla.critic_steps, wgangp.critic_steps) == (1, 1, 5)
    assert wgangp.gradient_penalty_weight == 10.0 and lsgan.gradient_penalty_weight == 0.0
    assert wgangp.recommended_optimizer == {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9}
    assert lsgan.recommended_optimizer == {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}
    keras.optimizers.Adam(**wgangp.recommended_optimizer)
    assert not losses.WGANGP(gradient_penalty_weight=0).needs_gradient_penalty
    assert float(lsgan.gradient_penalty(None, tf.zeros((1, 2, 2, 1)), tf.zeros((1, 2, 2, 1)))) == 0.0


def test_objective_gradient_penalty_uses_its_weight_and_reduction():
    v = tf.constant([3.0, 4.0])
    critic = lambda x: tf.reduce_sum(v * x, axis=-1, keepdims=True)   # noqa: E731
    real, fake = tf.zeros((2, 2, 2, 2)), tf.ones((2, 2, 2, 2))
    objective = losses.WGANGP(gradient_penalty_weight=2.0, map_reduction="sum")
    np.testing.assert_allclose(objective.gradient_penalty(critic, real, fake, seed=0), 2.0 * 81.0, rtol=1e-6)


def test_objective_configs_round_trip():
    for objective in (losses.LSGAN(), losses.VanillaGAN(),
                      losses.WGANGP(gradient_penalty_weight=1.0, critic_steps=2, map_reduction="sum")):
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(objective))
        assert type(restored) is type(objective) and restored.get_config() == objective.get_config()
    assert losses.WGANGP().get_config() == {"gradient_penalty_weight": 10.0, "critic_steps": 5, "map_reduction": "mean"}
    assert repr(losses.LSGAN()) == "LSGAN()"


# --- errors ---------------------------------------------------------------------------------------------------------


def test_errors_name_the_received_value():
    with pytest.raises(OptionError) as error:
        losses.get_adversarial("hinge")
    assert str(error.value) == ("unknown adversarial objective 'hinge'; "
                                "choose one of: lsgan, vanilla, wgan-gp (or wgangp)")
    with pytest.raises(OptionError) as error:
        losses.get_adversarial("lsgan", critic_steps=5)
    assert str(error.value) == ("lsgan does not take the option(s) critic_steps (valid options: none); "
                                "Received: {'critic_steps': 5}")
    with pytest.raises(OptionError) as error:
        losses.get_adversarial(losses.LSGAN(), critic_steps=5)
    assert str(error.value) == "cannot apply options to an existing adversarial objective; Received: ['critic_steps']"
    with pytest.raises(OptionError) as error:
        losses.WGANGP(gradient_penalty_weight=-1.0)
    assert str(error.value) == ("gradient_penalty_weight must be a finite number >= 0; "
                                "Received: gradient_penalty_weight=-1.0")
    with pytest.raises(OptionError) as error:
        losses.WGANGP(critic_steps=0)
    assert str(error.value) == "critic_steps must be an integer >= 1; Received: critic_steps=0"
    with pytest.raises(OptionError) as error:
        losses.WGANGP(map_reduction="max")
    assert str(error.value) == "map_reduction must be one of: mean, sum; Received: map_reduction='max'"

    critic, images = linear_critic(np.ones((1, 2, 2, 1))), np.zeros((1, 2, 2, 1))
    with pytest.raises(OptionError) as error:
        losses.gradient_penalty(critic, images, images, weight=float("nan"))
    assert str(error.value) == "weight must be a finite number >= 0; Received: weight=nan"
    with pytest.raises(OptionError) as error:
        losses.gradient_penalty(critic, images, images, seed="a")
    assert str(error.value) == ("seed must be None, an int, a pair of ints, a tf.random.Generator or a "
                                "keras.random.SeedGenerator; Received: seed='a'")
    with pytest.raises(OptionError) as error:
        losses.gradient_penalty(critic, np.zeros((2, 4)), np.zeros((2, 4)))
    assert str(error.value) == "gradient_penalty expects images of shape (B, H, W, C); Received: real.shape=(2, 4)"
