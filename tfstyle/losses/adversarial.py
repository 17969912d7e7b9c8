"""Adversarial objectives: LSGAN, the non-saturating GAN and WGAN with gradient penalty (WGAN-GP).

The discriminator (critic) gives raw scores: logits for the non-saturating GAN, unbounded values for LSGAN and WGAN,
either one per image (B, 1) or a PatchGAN map (B, h, w, 1). The plain functions return one value per sample, the
mean over the score map, shape (B,), like `tfstyle.losses.content_loss`; real and fake scores must then have the
same batch size. The objects (`LSGAN`, `VanillaGAN`, `WGANGP`, from `get_adversarial`) return scalars, the mean over
the batch and the map, and carry what a training loop needs besides the losses: whether a gradient penalty is due
and its weight, the critic steps per generator step and the optimizer settings of the method's authors.

Example:
    >>> import numpy as np
    >>> objective = get_adversarial("lsgan")
    >>> real_scores, fake_scores = np.ones((2, 4, 4, 1)), np.zeros((2, 4, 4, 1))
    >>> float(objective.discriminator_loss(real_scores, fake_scores)), float(objective.generator_loss(fake_scores))
    (0.0, 1.0)
"""

import inspect
import math
import numbers

import keras
import tensorflow as tf
from keras import ops

from tfstyle.errors import OptionError

# Added to the squared gradient norm under the square root: the derivative of sqrt is infinite at 0, so a critic
# with a zero input gradient somewhere (a dead ReLU region, a constant critic at initialisation) would give NaN
# weight gradients; with it the gradient of the penalty is finite (and zero) there. It changes a norm of 1 by 5e-13.
GRADIENT_NORM_EPSILON = 1e-12

MAP_REDUCTIONS = ("mean", "sum")


def _scores(scores):
    """Scores as a float tensor; half precision (mixed-precision discriminators) is promoted to float32."""
    scores = ops.convert_to_tensor(scores)
    dtype = keras.backend.standardize_dtype(scores.dtype)
    if dtype in ("float16", "bfloat16") or not dtype.startswith("float"):
        scores = ops.cast(scores, "float32")
    return scores


def _per_sample_mean(values):
    """Mean over every axis but the first: (B,) for (B,), (B, 1) or (B, h, w, 1)."""
    if len(values.shape) <= 1:
        return values
    return ops.mean(values, axis=tuple(range(1, len(values.shape))))


# --- LSGAN ----------------------------------------------------------------------------------------------------------


def lsgan_discriminator_loss(real_scores, fake_scores):
    """LSGAN discriminator loss as CycleGAN uses it: real scores pulled to 1 and fake scores to 0, per sample.

    `L_D = ½ · [mean((D(y) − 1)²) + mean(D(G(x))²)]`, each mean over the sample's score map. CycleGAN halves the
    discriminator's objective so that D learns more slowly than G; the result is the LSGAN paper's
    `½ E[(D(x) − b)²] + ½ E[(D(G(z)) − a)²]` with a = 0, b = 1.

    Args:
        real_scores: scores of real images, shape (B,), (B, 1) or (B, h, w, 1).
        fake_scores: scores of generated images, the same batch size.

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> lsgan_discriminator_loss(np.array([[1.0], [0.0]]), np.array([[0.0], [2.0]])).numpy()   # ½(0+0), ½(1+4)
        array([0. , 2.5])

    Reference:
        Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017 (eq. 2); Zhu, Park, Isola & Efros,
        "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks", ICCV 2017 (sec. 4).
    """
    real_scores, fake_scores = _scores(real_scores), _scores(fake_scores)
    return 0.5 * (_per_sample_mean(ops.square(real_scores - 1.0)) + _per_sample_mean(ops.square(fake_scores)))


def lsgan_generator_loss(fake_scores):
    """LSGAN generator loss: the scores of generated images pulled to 1 (the "real" label), per sample.

    `L_G = mean((D(G(x)) − 1)²)` over the sample's score map (LSGAN's `½ E[(D(G(z)) − c)²]` with c = 1, without the
    ½, as in CycleGAN).

    Args:
        fake_scores: scores of generated images, shape (B,), (B, 1) or (B, h, w, 1).

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> lsgan_generator_loss(np.array([[[[1.0], [3.0]]]])).numpy()   # mean(0, 4)
        array([2.])

    Reference:
        Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017 (eq. 2); Zhu et al., ICCV 2017.
    """
    return _per_sample_mean(ops.square(_scores(fake_scores) - 1.0))


# --- non-saturating GAN ---------------------------------------------------------------------------------------------


def vanilla_discriminator_loss(real_scores, fake_scores):
    """GAN discriminator loss on logits: binary cross-entropy with real = 1 and fake = 0, per sample.

    `L_D = ½ · [mean(BCE(D(y), 1)) + mean(BCE(D(G(x)), 0))]` over the sample's logit map, with
    `BCE(s, 1) = −log σ(s) = softplus(−s)` and `BCE(s, 0) = −log(1 − σ(s)) = softplus(s)`. Written with softplus,
    the loss never forms σ(s) and stays finite and exact for logits of any size (σ(40) is 1 in float32 and
    −log(1 − σ(40)) would be inf). The ½ matches the LSGAN loss of CycleGAN.

    Args:
        real_scores: logits for real images, shape (B,), (B, 1) or (B, h, w, 1).
        fake_scores: logits for generated images, the same batch size.

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> vanilla_discriminator_loss(np.zeros((1, 1)), np.zeros((1, 1))).numpy()   # ½(log 2 + log 2)
        array([0.69314718])

    Reference:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014 (eq. 1).
    """
    real_scores, fake_scores = _scores(real_scores), _scores(fake_scores)
    return 0.5 * (_per_sample_mean(ops.softplus(-real_scores)) + _per_sample_mean(ops.softplus(fake_scores)))


def vanilla_generator_loss(fake_scores):
    """Non-saturating GAN generator loss on logits: BCE of the generated images' logits against "real", per sample.

    `L_G = mean(BCE(D(G(x)), 1)) = mean(softplus(−D(G(x))))` over the sample's logit map: the generator maximises
    log D(G(x)) instead of minimising log(1 − D(G(x))), whose gradient vanishes while the discriminator rejects the
    samples confidently (Goodfellow et al., sec. 3).

    Args:
        fake_scores: logits for generated images, shape (B,), (B, 1) or (B, h, w, 1).

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> vanilla_generator_loss(np.zeros((1, 1))).numpy()   # log 2
        array([0.69314718])

    Reference:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014 (sec. 3).
    """
    return _per_sample_mean(ops.softplus(-_scores(fake_scores)))


# --- WGAN -----------------------------------------------------------------------------------------------------------


def wgan_critic_loss(real_scores, fake_scores):
    """Wasserstein critic loss: fake scores minus real scores, per sample.

    `L_D = mean(D(G(x))) − mean(D(y))` over the sample's score map; its mean over the batch is the negative of the
    critic's estimate of the Wasserstein-1 distance `E[D(y)] − E[D(G(x))]`, which needs a 1-Lipschitz critic (weight
    clipping in WGAN, `gradient_penalty` in WGAN-GP).

    Args:
        real_scores: critic scores of real images, shape (B,), (B, 1) or (B, h, w, 1).
        fake_scores: critic scores of generated images, the same batch size.

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> wgan_critic_loss(np.array([[3.0], [1.0]]), np.array([[1.0], [1.0]])).numpy()
        array([-2.,  0.])

    Reference:
        Arjovsky, Chintala & Bottou, "Wasserstein GAN", ICML 2017 (Algorithm 1).
    """
    return _per_sample_mean(_scores(fake_scores)) - _per_sample_mean(_scores(real_scores))


def wgan_generator_loss(fake_scores):
    """Wasserstein generator loss: the negative critic score of generated images, per sample.

    `L_G = −mean(D(G(x)))` over the sample's score map.

    Args:
        fake_scores: critic scores of generated images, shape (B,), (B, 1) or (B, h, w, 1).

    Returns:
        Tensor of shape (B,).

    Example:
        >>> import numpy as np
        >>> wgan_generator_loss(np.array([[[[1.0], [2.0]]]])).numpy()
        array([-1.5])

    Reference:
        Arjovsky, Chintala & Bottou, "Wasserstein GAN", ICML 2017 (Algorithm 1).
    """
    return -_per_sample_mean(_scores(fake_scores))


# --- gradient penalty -----------------------------------------------------------------------------------------------


def _check_weight(weight, name="weight"):
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not math.isfinite(weight) or weight < 0:
        raise OptionError(f"{name} must be a finite number >= 0; Received: {name}={weight!r}")


def _check_map_reduction(map_reduction):
    if map_reduction not in MAP_REDUCTIONS:
        raise OptionError(f"map_reduction must be one of: {', '.join(MAP_REDUCTIONS)}; "
                          f"Received: map_reduction={map_reduction!r}")


def _interpolation_coefficients(shape, dtype, seed):
    """ε ~ U[0, 1) of the given shape, drawn as `seed` says (see `gradient_penalty`)."""
    if seed is None:
        return tf.random.uniform(shape, dtype=dtype)
    if isinstance(seed, tf.random.Generator):
        return seed.uniform(shape, dtype=dtype)
    if isinstance(seed, keras.random.SeedGenerator):
        return keras.random.uniform(shape, dtype=dtype, seed=seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return tf.random.stateless_uniform(shape, seed=[int(seed), 0], dtype=dtype)
    if tf.is_tensor(seed) or isinstance(seed, (list, tuple)):
        pair = tf.convert_to_tensor(seed)
        if pair.dtype.is_integer and pair.shape == (2,):
            return tf.random.stateless_uniform(shape, seed=tf.cast(pair, tf.int64), dtype=dtype)
    raise OptionError("seed must be None, an int, a pair of ints, a tf.random.Generator or a "
                      f"keras.random.SeedGenerator; Received: seed={seed!r}")


def gradient_penalty(critic, real, fake, weight=10.0, epsilon=None, seed=None, map_reduction="mean"):
    """WGAN-GP gradient penalty: the critic's input-gradient norm pulled to 1 on random interpolates.

    `GP = λ · mean_i (‖∇_x̂ f(x̂_i)‖₂ − 1)²` with `x̂_i = y_i + ε_i (x̃_i − y_i)` between a real image y_i and a
    generated image x̃_i, one `ε_i ~ U[0, 1]` per sample (shape (B, 1, 1, 1), uniform, not normal), the norm over all
    non-batch dimensions of the gradient, and the mean over the batch. The norm is `sqrt(Σ g² + 1e-12)`
    (`GRADIENT_NORM_EPSILON`): finite gradients where the input gradient is 0.

    The penalty is differentiable with respect to the critic's weights (the input gradient is taken under an inner
    `tf.GradientTape`, so an outer tape records it: double backpropagation). Add it to the critic loss inside the
    tape that computes the critic's weight gradients; it then changes them, as it must. (The reference PyTorch
    CycleGAN code defines a penalty that its `wgangp` mode never calls.) `real` and `fake` are treated as constants:
    the penalty constrains the critic and sends no gradient to the generator.

    Score maps: `f(x)` is the critic's output reduced to one value per sample, by `map_reduction`:

    - "mean" (default): `f(x) = mean over the map of D(x)`. The WGAN losses average the score map, so this is the
      function whose expectations estimate the Wasserstein distance, and the one that must be 1-Lipschitz.
    - "sum": `f(x) = Σ over the map of D(x)`, the input gradient of the PyTorch reference (`grad_outputs=ones`). It is
      h·w times the "mean" gradient: with a large map the penalty asks each patch score to be about 1/(h·w)-Lipschitz.

    For an output of shape (B, 1) both give `∇_x̂ D(x̂)`. The critic must score each sample on its own (no batch
    normalization across the batch, as Gulrajani et al. say), else the gradient of f summed over the batch is not
    the per-sample gradient.

    Args:
        critic: a callable `images → scores` ((B, 1) or (B, h, w, 1)), e.g. a Keras model; wrap it
            (`functools.partial(model, training=True)`) if it must run in training mode.
        real: real images y, shape (B, H, W, C).
        fake: generated images x̃, the same shape.
        weight: λ (10 in Gulrajani et al.); 0 gives 0.
        epsilon: the interpolation coefficients, shape (B, 1, 1, 1) or anything that broadcasts to the images;
            None draws them as `seed` says.
        seed: how ε is drawn when `epsilon` is None:
            None: `tf.random.uniform`, a new draw at each call (also in a `tf.function`);
            a `tf.random.Generator` or a `keras.random.SeedGenerator`: drawn from it, so the draws follow its
            (checkpointable) state: reproducible and new at each call;
            an int or a pair of ints: a stateless draw, the same ε for the same seed (pass e.g. `[seed, step]`).
        map_reduction: "mean" or "sum": how a score map becomes one value per sample (above).

    Returns:
        Scalar tensor (float32, or float64 for float64 images).

    Raises:
        OptionError: for a negative weight, an unknown map_reduction or seed, or images that are not (B, H, W, C).

    Example:
        >>> import tensorflow as tf
        >>> w = tf.constant([[[[3.0, 4.0]]]])              # D(x) = Σ w·x, so ∇D = w and ‖w‖ = 5
        >>> critic = lambda x: tf.reduce_sum(w * x, axis=[1, 2, 3])[:, None]
        >>> real, fake = tf.zeros((2, 1, 1, 2)), tf.ones((2, 1, 1, 2))
        >>> round(float(gradient_penalty(critic, real, fake, weight=10.0)), 4)   # 10·(5 − 1)²
        160.0

    Reference:
        Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville, "Improved Training of Wasserstein GANs", NeurIPS 2017
        (eq. 3 and Algorithm 1).
    """
    _check_weight(weight)
    _check_map_reduction(map_reduction)
    real = tf.convert_to_tensor(real)
    if real.shape.rank != 4:
        raise OptionError(f"gradient_penalty expects images of shape (B, H, W, C); Received: real.shape={real.shape}")
    if not real.dtype.is_floating:
        real = tf.cast(real, tf.float32)
    real = tf.stop_gradient(real)
    fake = tf.stop_gradient(tf.cast(fake, real.dtype))
    if epsilon is None:
        epsilon = _interpolation_coefficients(tf.concat([tf.shape(real)[:1], [1, 1, 1]], axis=0), real.dtype, seed)
    else:
        epsilon = tf.cast(epsilon, real.dtype)
    interpolates = real + epsilon * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        scores = tf.convert_to_tensor(critic(interpolates))
        reduce = tf.reduce_mean if map_reduction == "mean" else tf.reduce_sum
        per_sample = reduce(tf.reshape(scores, [tf.shape(scores)[0], -1]), axis=1)
        # Samples do not interact, so the gradient of the batch sum holds each sample's own gradient.
        total = tf.reduce_sum(per_sample)
    gradients = tape.gradient(total, interpolates)
    if gradients.dtype in (tf.float16, tf.bfloat16):
        gradients = tf.cast(gradients, tf.float32)
    gradients = tf.reshape(gradients, [tf.shape(gradients)[0], -1])
    norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=1) + GRADIENT_NORM_EPSILON)
    return tf.cast(weight, norms.dtype) * tf.reduce_mean(tf.square(norms - 1.0))


# --- objects --------------------------------------------------------------------------------------------------------


class AdversarialObjective:
    """An adversarial objective: the discriminator's and the generator's losses and how to train with them.

    Subclasses define `discriminator_loss` and `generator_loss`, which return scalars: the mean over the batch and
    the score map of the per-sample functions of this module. A training loop uses the rest:

    - `needs_gradient_penalty`, `gradient_penalty_weight` and `gradient_penalty(critic, real, fake, seed=...)`: add
      the penalty to the discriminator loss inside the discriminator's tape when it is needed (WGAN-GP);
    - `critic_steps`: discriminator updates per generator update;
    - `recommended_optimizer`: the Adam settings of the method's authors, as `keras.optimizers.Adam` arguments.

    `get_config()` holds the constructor arguments; the classes are registered Keras serializables, so a model's
    config can store one with `keras.saving.serialize_keras_object`.
    """

    name = None
    critic_steps = 1
    gradient_penalty_weight = 0.0
    map_reduction = "mean"
    recommended_optimizer = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}

    @property
    def needs_gradient_penalty(self):
        """Whether the discriminator loss needs `gradient_penalty` added (a penalty weight above 0)."""
        return self.gradient_penalty_weight > 0

    def discriminator_loss(self, real_scores, fake_scores):
        """The discriminator's (critic's) loss: a scalar, the mean over the batch and the score map."""
        raise NotImplementedError(f"{type(self).__name__} does not define discriminator_loss()")

    def generator_loss(self, fake_scores):
        """The generator's adversarial loss: a scalar, the mean over the batch and the score map."""
        raise NotImplementedError(f"{type(self).__name__} does not define generator_loss()")

    def gradient_penalty(self, critic, real, fake, epsilon=None, seed=None):
        """The gradient penalty with this objective's weight (see the function `gradient_penalty`); 0 without one."""
        if not self.needs_gradient_penalty:
            return tf.constant(0.0, dtype=real.dtype if tf.is_tensor(real) and real.dtype.is_floating else tf.float32)
        return gradient_penalty(critic, real, fake, weight=self.gradient_penalty_weight, epsilon=epsilon, seed=seed,
                                map_reduction=self.map_reduction)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        options = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({options})"


@keras.saving.register_keras_serializable(package="tfstyle")
class LSGAN(AdversarialObjective):
    """LSGAN objective, as in CycleGAN: least squares toward 1 for real and 0 for fake scores.

    Discriminator: `½ · [mean((D(y) − 1)²) + mean(D(G(x))²)]`; generator: `mean((D(G(x)) − 1)²)`, the means over
    the batch and the score map (`lsgan_discriminator_loss`, `lsgan_generator_loss`). One discriminator step per
    generator step; CycleGAN trains with Adam(2e-4, β1 0.5).

    Example:
        >>> import numpy as np
        >>> float(LSGAN().generator_loss(np.full((2, 3, 3, 1), 0.5)))
        0.25

    Reference:
        Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017; Zhu et al., "Unpaired
        Image-to-Image Translation using Cycle-Consistent Adversarial Networks", ICCV 2017.
    """

    name = "lsgan"

    def discriminator_loss(self, real_scores, fake_scores):
        return ops.mean(lsgan_discriminator_loss(real_scores, fake_scores))

    def generator_loss(self, fake_scores):
        return ops.mean(lsgan_generator_loss(fake_scores))


@keras.saving.register_keras_serializable(package="tfstyle")
class VanillaGAN(AdversarialObjective):
    """The original GAN objective on logits, with the non-saturating generator loss.

    Discriminator: `½ · [BCE(D(y), 1) + BCE(D(G(x)), 0)]`; generator: `BCE(D(G(x)), 1)`, the means over the batch
    and the logit map, computed from logits with softplus (`vanilla_discriminator_loss`, `vanilla_generator_loss`):
    the discriminator must output logits, not probabilities.

    Example:
        >>> import numpy as np
        >>> round(float(VanillaGAN().discriminator_loss(np.full((1, 1), 50.0), np.full((1, 1), -50.0))), 6)
        0.0

    Reference:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """

    name = "vanilla"

    def discriminator_loss(self, real_scores, fake_scores):
        return ops.mean(vanilla_discriminator_loss(real_scores, fake_scores))

    def generator_loss(self, fake_scores):
        return ops.mean(vanilla_generator_loss(fake_scores))


@keras.saving.register_keras_serializable(package="tfstyle")
class WGANGP(AdversarialObjective):
    """WGAN-GP objective: Wasserstein losses, a gradient penalty on the critic and several critic steps.

    Critic: `mean(D(G(x))) − mean(D(y))`, plus `gradient_penalty(critic, real, fake)` (λ = `gradient_penalty_weight`)
    which the training loop adds inside the critic's tape; generator: `−mean(D(G(x)))`. The critic must not use
    batch normalization (use layer or instance normalization or none).

    Training settings of Gulrajani et al.: λ = 10, 5 critic steps per generator step, Adam with learning rate 1e-4,
    β1 = 0 (Algorithm 1; 0.5 in some of their experiments) and β2 = 0.9: `recommended_optimizer`.

    Args:
        gradient_penalty_weight: λ; 0 leaves a WGAN without any Lipschitz constraint.
        critic_steps: critic updates per generator update (metadata for the training loop).
        map_reduction: "mean" or "sum", how the penalty reduces a critic's score map (see `gradient_penalty`).

    Example:
        >>> import numpy as np
        >>> objective = WGANGP()
        >>> objective.needs_gradient_penalty, objective.critic_steps
        (True, 5)
        >>> float(objective.discriminator_loss(np.full((2, 1), 3.0), np.full((2, 1), 1.0)))
        -2.0

    Reference:
        Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017; Arjovsky, Chintala & Bottou,
        "Wasserstein GAN", ICML 2017.
    """

    name = "wgan-gp"
    recommended_optimizer = {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9}

    def __init__(self, gradient_penalty_weight=10.0, critic_steps=5, map_reduction="mean"):
        _check_weight(gradient_penalty_weight, "gradient_penalty_weight")
        if isinstance(critic_steps, bool) or not isinstance(critic_steps, numbers.Integral) or critic_steps < 1:
            raise OptionError(f"critic_steps must be an integer >= 1; Received: critic_steps={critic_steps!r}")
        _check_map_reduction(map_reduction)
        self.gradient_penalty_weight = float(gradient_penalty_weight)
        self.critic_steps = int(critic_steps)
        self.map_reduction = map_reduction

    def discriminator_loss(self, real_scores, fake_scores):
        return ops.mean(wgan_critic_loss(real_scores, fake_scores))

    def generator_loss(self, fake_scores):
        return ops.mean(wgan_generator_loss(fake_scores))

    def get_config(self):
        return {
            "gradient_penalty_weight": self.gradient_penalty_weight,
            "critic_steps": self.critic_steps,
            "map_reduction": self.map_reduction,
        }


ADVERSARIAL_OBJECTIVES = {"lsgan": LSGAN, "vanilla": VanillaGAN, "wgan-gp": WGANGP}
ADVERSARIAL_ALIASES = {"wgangp": "wgan-gp"}


def get_adversarial(name, **options):
    """The adversarial objective called `name`, built with `options`.

    Args:
        name: "lsgan" (`LSGAN`), "vanilla" (`VanillaGAN`) or "wgan-gp" / "wgangp" (`WGANGP`), in any case; an
            `AdversarialObjective` is returned as it is (then `options` must be empty).
        **options: constructor arguments of the class (only `WGANGP` has any).

    Returns:
        An `AdversarialObjective`.

    Raises:
        OptionError: for an unknown name or an option the objective does not take.

    Example:
        >>> get_adversarial("wgangp", critic_steps=3)
        WGANGP(gradient_penalty_weight=10.0, critic_steps=3, map_reduction='mean')
    """
    if isinstance(name, AdversarialObjective):
        if options:
            raise OptionError(f"cannot apply options to an existing adversarial objective; Received: {sorted(options)}")
        return name
    key = name.lower() if isinstance(name, str) else name
    key = ADVERSARIAL_ALIASES.get(key, key)
    if not isinstance(key, str) or key not in ADVERSARIAL_OBJECTIVES:
        raise OptionError(f"unknown adversarial objective {name!r}; choose one of: "
                          f"{', '.join(ADVERSARIAL_OBJECTIVES)} (or {', '.join(ADVERSARIAL_ALIASES)})")
    cls = ADVERSARIAL_OBJECTIVES[key]
    accepted = [parameter for parameter in inspect.signature(cls).parameters]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        valid = ", ".join(accepted) if accepted else "none"
        raise OptionError(f"{key} does not take the option(s) {', '.join(unknown)} (valid options: {valid}); "
                          f"Received: {options}")
    return cls(**options)
