"""CycleGAN: two generators and two discriminators trained together with `fit` under any `tf.distribute` strategy."""

import math
import numbers

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfstyle.cyclegan.discriminators import build_discriminator
from tfstyle.cyclegan.generators import build_generator
from tfstyle.cyclegan.image_pool import ImagePool
from tfstyle.errors import OptionError, check_non_negative
from tfstyle.losses.adversarial import get_adversarial
from tfstyle.optimizers import FusedAdam

GENERATOR_TERMS = ("adv_ab", "adv_ba", "cycle_a", "cycle_b", "identity_a", "identity_b", "generator")
DISCRIMINATOR_TERMS = ("d_a", "d_b", "gp_a", "gp_b", "discriminator")
NETWORKS = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")


def to_network_range(images):
    """Images in [0, 1] (tfstyle's convention) → [-1, 1], the range the generators take and give (tanh)."""
    return ops.convert_to_tensor(images) * 2.0 - 1.0


def from_network_range(images):
    """Generator images in [-1, 1] → [0, 1] (not clipped)."""
    return (ops.convert_to_tensor(images) + 1.0) * 0.5


@keras.saving.register_keras_serializable(package="tfstyle")
class CycleGAN(keras.Model):
    """Unpaired image-to-image translation: G: A → B and F: B → A, with discriminators D_A and D_B.

    With real images a (domain A) and b (domain B), all in [−1, 1] inside the model, the loss terms are

        adv_ab     = L_G(D_B(G(a)))                 adv_ba     = L_G(D_A(F(b)))
        cycle_a    = mean |F(G(a)) − a|             cycle_b    = mean |G(F(b)) − b|
        identity_a = mean |F(a) − a|                identity_b = mean |G(b) − b|
        generator  = adv_ab + adv_ba + λ·(cycle_a + cycle_b) + λ_id·λ·(identity_a + identity_b)

        d_a = L_D(D_A(a), D_A(pool_A(F(b))))        d_b = L_D(D_B(b), D_B(pool_B(G(a))))
        gp_a, gp_b = the WGAN-GP gradient penalties of D_A and D_B (0 for LSGAN and the vanilla GAN)
        discriminator = d_a + d_b + gp_a + gp_b

    with L_G, L_D the adversarial objective's generator and discriminator losses (`tfstyle.losses.adversarial`:
    LSGAN by default, the vanilla GAN, WGAN-GP), λ = `cycle_weight` = 10 and λ_id = `identity_weight` = 0.5, so
    the identity term is 0.5·λ·(‖G(b) − b‖₁ + ‖F(a) − a‖₁) (METHODS §6). The L1 means are over all elements of
    the [−1, 1] images, as in the reference code (twice the mean over [0, 1] images). The identity term needs
    generators that map 3 channels to 3 channels.

    Value range: the public images of this model (batches, `call`, `translate_ab`, `translate_ba`) are RGB in
    [0, 1], tfstyle's convention. The networks work in [−1, 1] (their output is a tanh): the model converts at
    its boundary (`to_network_range`, `from_network_range`), so a generator used on its own (an exported
    `generator_ab.keras`) takes and gives [−1, 1] images.

    Training (`train_step`, which `fit` and `tfstyle.cyclegan.train_cyclegan` run): one forward pass gives every
    term (`compute_losses`, also run by `test_step`), two tapes give the generators' gradients of `generator` and
    the discriminators' gradients of `discriminator`, and each optimizer applies its own; both updates are taken
    from the same forward pass, as in the reference code, where D's update uses the fakes of the step. The
    discriminators see the generated images through image pools of `pool_size` images (`ImagePool`) and without
    a gradient path to the generators. With WGAN-GP the penalty is computed under the discriminators' tape, so
    its gradient (double backpropagation through the critic) reaches the critics' weights.

    Critic steps: with n = the objective's `critic_steps` (5 for WGAN-GP), the discriminators are updated at every
    training step and the generators only at every n-th (training steps n, 2n, …; `step_counter` counts the
    steps and is saved with the model and in training checkpoints). So every critic update sees a fresh batch
    and the generators' optimizer takes one update per n steps (its learning-rate schedule is given in
    optimizer updates: `LinearDecaySchedule(steps_per_update=n)` keeps it on the training-step schedule). The
    forward pass, and so every logged term, runs at every step; a generator step sees the critics as they were
    after n − 1 of their n updates. `train_step` decides in the graph (`tf.cond` on `step_counter`), which
    needs one replica; under several replicas `train_cyclegan` makes the same decision outside the traced step
    (`train_step_with`), and `fit` with `critic_steps > 1` raises `OptionError`.

    Distribution: under a strategy each replica computes the mean losses of its share of the batch and both
    losses are divided by the number of replicas before differentiation (the optimizers sum the replicas'
    gradients), so a step over R replicas equals the one-device step on the whole batch. The image pool keeps
    one history in which each image's fate depends on the ones before it; split over replicas it would be another
    algorithm (and `ImagePool` refuses replica contexts), so under a strategy with more than one replica the
    model requires `pool_size=0` and raises `OptionError` otherwise.

    Saving: `get_config` holds the four networks' configs (and the objective's), so `model.save("x.keras")` and
    `keras.saving.load_model` round-trip the whole model, the optimizers' state included when compiled. The
    image pools and the penalty's random generator are training state, saved by `tf.train.Checkpoint` (see
    `checkpoint_objects`), not in `.keras` files.

    Args:
        generator: the generators' name for `build_generator` ("resnet", "unet", "unet_attention"); ignored for
            a generator passed as a model.
        generator_options: `build_generator` options (both generators get the same; `name` is set here).
        discriminator_options: `build_discriminator` options.
        objective: "lsgan", "vanilla", "wgan-gp" or an `AdversarialObjective` (`get_adversarial`).
        cycle_weight: λ.
        identity_weight: λ_id, relative to λ (0 disables the identity term and its two generator passes).
        pool_size: images kept by each image pool (50 in CycleGAN; 0 = no pool).
        image_shape: (H, W, 3) of the training crops: creates the pools' buffers now (a checkpoint then restores
            them at once); None creates them at the first training step.
        seed: seed of the pools' and the penalty's random draws (None: non-deterministic).
        generator_ab, generator_ba, discriminator_a, discriminator_b: networks to use instead of building them
            (Keras models taking and giving (B, H, W, 3) images in [−1, 1]; discriminators give raw scores).
        **kwargs: `keras.Model` arguments (name, ...).

    Example:
        >>> model = CycleGAN("resnet", {"blocks": 6}, pool_size=50, image_shape=(128, 128, 3), seed=0)
        >>> model.compile()                                    # Adam(2e-4, β1 0.5) for both, as the reference
        >>> model.fit(two_folder_dataset("horses", "zebras", 128, 143, batch_size=1), steps_per_epoch=1000)
        >>> zebras = model.translate_ab(horse_photos)          # [0, 1] in, [0, 1] out

    Reference:
        Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
        Networks", ICCV 2017 (sec. 3–4 and the authors' code); Gulrajani et al., "Improved Training of Wasserstein
        GANs", NeurIPS 2017 (critic steps, gradient penalty).
    """

    def __init__(self, generator="resnet", generator_options=None, discriminator_options=None, objective="lsgan",
                 cycle_weight=10.0, identity_weight=0.5, pool_size=50, image_shape=None, seed=None,
                 generator_ab=None, generator_ba=None, discriminator_a=None, discriminator_b=None, **kwargs):
        kwargs.setdefault("name", "cyclegan")
        super().__init__(**kwargs)
        self.cycle_weight = check_non_negative("cycle_weight", cycle_weight)
        self.identity_weight = check_non_negative("identity_weight", identity_weight)
        if isinstance(pool_size, bool) or not isinstance(pool_size, numbers.Integral) or pool_size < 0:
            raise OptionError(f"pool_size must be an integer >= 0 (0 = no pool); Received: pool_size={pool_size!r}")
        self.pool_size = int(pool_size)
        _check_replicas(self.pool_size, tf.distribute.get_strategy().num_replicas_in_sync)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise OptionError(f"seed must be an integer >= 0 or None; Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        if isinstance(objective, dict):
            objective = keras.saving.deserialize_keras_object(objective)
        self.objective = get_adversarial(objective)
        self.generator_name = generator
        self.generator_options = _options("generator_options", generator_options)
        self.discriminator_options = _options("discriminator_options", discriminator_options)
        if generator is not None and not isinstance(generator, str):
            raise OptionError(f"generator must be a name (resnet, unet, unet_attention) or None with generator "
                              f"models given; Received: generator={generator!r}")
        given = {"generator_ab": generator_ab, "generator_ba": generator_ba, "discriminator_a": discriminator_a,
                 "discriminator_b": discriminator_b}
        for key, value in given.items():
            if isinstance(value, dict):
                given[key] = keras.saving.deserialize_keras_object(value)
            elif value is not None and not isinstance(value, keras.Model):
                raise OptionError(f"{key} must be a keras.Model; Received: {type(value).__name__}")
        generator_options = {key: value for key, value in self.generator_options.items() if key != "name"}
        discriminator_options = {key: value for key, value in self.discriminator_options.items() if key != "name"}
        if generator is None and (given["generator_ab"] is None or given["generator_ba"] is None):
            raise OptionError("generator=None needs both generator_ab and generator_ba models")
        self.generator_ab = given["generator_ab"] or build_generator(generator, name="generator_ab",
                                                                     **generator_options)
        self.generator_ba = given["generator_ba"] or build_generator(generator, name="generator_ba",
                                                                     **generator_options)
        self.discriminator_a = given["discriminator_a"] or build_discriminator(name="discriminator_a",
                                                                               **discriminator_options)
        self.discriminator_b = given["discriminator_b"] or build_discriminator(name="discriminator_b",
                                                                               **discriminator_options)
        if self.identity_weight > 0:
            for key in ("generator_ab", "generator_ba"):
                _check_three_channels(key, getattr(self, key))
        self.image_shape = None if image_shape is None else tuple(int(n) for n in image_shape)
        seeds = [None] * 3 if self.seed is None else [self.seed, self.seed + 1, self.seed + 2]
        self.pool_a = ImagePool(self.pool_size, self.image_shape, seed=seeds[0], name="pool_a")
        self.pool_b = ImagePool(self.pool_size, self.image_shape, seed=seeds[1], name="pool_b")
        self.penalty_random = None
        if self.objective.needs_gradient_penalty:
            self.penalty_random = (tf.random.Generator.from_non_deterministic_state() if seeds[2] is None
                                   else tf.random.Generator.from_seed(seeds[2]))
        # Counts train steps: it gates the generators' updates (critic steps) and is saved with the model.
        self.step_counter = self.add_weight(shape=(), dtype="int64", initializer="zeros", trainable=False,
                                            aggregation="only_first_replica", name="step_counter")
        self.generator_optimizer = None
        self.discriminator_optimizer = None
        self._trackers = {name: keras.metrics.Mean(name=name) for name in self.loss_names}
        self.built = True

    # --- properties ----------------------------------------------------------------------------------------------

    @property
    def critic_steps(self):
        """Discriminator updates per generator update (the objective's `critic_steps`)."""
        return int(self.objective.critic_steps)

    @property
    def loss_names(self):
        """Names of the terms `fit` logs: every term of `compute_losses` (the penalties only with WGAN-GP)."""
        names = GENERATOR_TERMS + DISCRIMINATOR_TERMS
        if not self.objective.needs_gradient_penalty:
            names = tuple(name for name in names if name not in ("gp_a", "gp_b"))
        return names

    @property
    def size_multiple(self):
        """Image height and width must be multiples of this (the generators' `size_multiple`, 1 if unknown)."""
        return math.lcm(*(int(getattr(getattr(self, key), "size_multiple", 1)) for key in ("generator_ab",
                                                                                            "generator_ba")))

    @property
    def generator_variables(self):
        return self.generator_ab.trainable_variables + self.generator_ba.trainable_variables

    @property
    def discriminator_variables(self):
        return self.discriminator_a.trainable_variables + self.discriminator_b.trainable_variables

    def checkpoint_objects(self):
        """Everything a training checkpoint must hold to continue exactly: `{name: trackable}`.

        The four networks, both optimizers (once compiled), both image pools, the step counter and the penalty's
        random generator (WGAN-GP). Pass them to `tf.train.Checkpoint(**model.checkpoint_objects())`.
        """
        objects = {key: getattr(self, key) for key in NETWORKS}
        objects.update(pool_a=self.pool_a, pool_b=self.pool_b, step_counter=self.step_counter.value)
        if self.generator_optimizer is not None:
            objects.update(generator_optimizer=self.generator_optimizer,
                           discriminator_optimizer=self.discriminator_optimizer)
        if self.penalty_random is not None:
            objects["penalty_random"] = self.penalty_random
        return objects

    # --- forward -------------------------------------------------------------------------------------------------

    def call(self, inputs, training=False):
        """`(G(a), F(b))` for a batch `(a, b)` or `{"a": a, "b": b}`, all in [0, 1] (the outputs not clipped)."""
        a, b = _split_batch(inputs)
        return (from_network_range(self.generator_ab(to_network_range(a), training=training)),
                from_network_range(self.generator_ba(to_network_range(b), training=training)))

    def translate_ab(self, images):
        """Translate images of domain A to domain B with G; see `translate`."""
        return self.translate(images, "ab")

    def translate_ba(self, images):
        """Translate images of domain B to domain A with F; see `translate`."""
        return self.translate(images, "ba")

    def translate(self, images, direction="ab"):
        """Translate images with one generator: RGB in [0, 1] in, RGB in [0, 1] out (clipped).

        Sides that are not multiples of the generator's `size_multiple` are reflection-padded up to one and the
        result is cropped back, so any image size works.

        Args:
            images: (H, W, 3) or (B, H, W, 3), values in [0, 1].
            direction: "ab" (G: A → B) or "ba" (F: B → A).

        Returns:
            float32 NumPy array with the shape of `images`.

        Example:
            >>> model.translate(photo, "ab").shape
            (300, 451, 3)
        """
        if direction not in ("ab", "ba"):
            raise OptionError(f"direction must be 'ab' or 'ba'; Received: direction={direction!r}")
        generator = self.generator_ab if direction == "ab" else self.generator_ba
        images = np.asarray(images, dtype="float32")
        single = images.ndim == 3
        if single:
            images = images[None]
        if images.ndim != 4 or images.shape[-1] != 3:
            raise OptionError(f"images must be (H, W, 3) or (B, H, W, 3); Received: shape={images.shape}")
        height, width = images.shape[1:3]
        multiple = int(getattr(generator, "size_multiple", 1))
        pad = ((0, 0), (0, -height % multiple), (0, -width % multiple), (0, 0))
        padded = np.pad(images, pad, mode="reflect" if min(height, width) > 1 else "edge")
        output = from_network_range(generator(to_network_range(padded), training=False))
        output = np.clip(ops.convert_to_numpy(output)[:, :height, :width], 0.0, 1.0).astype("float32")
        return output[0] if single else output

    # --- losses --------------------------------------------------------------------------------------------------

    # compute_losses, train_step and test_step have no Python control flow on tensors (tf.cond is explicit):
    # keeping autograph out of them (and so out of the networks and the pools) halves the tracing of `fit`.
    @tf.autograph.experimental.do_not_convert
    def compute_losses(self, batch, training=False):
        """Every loss term of one batch; the single definition used by `train_step` and `test_step`.

        Args:
            batch: `(a, b)` or `{"a": a, "b": b}`, RGB in [0, 1], (B, H, W, 3) each.
            training: run the networks in training mode and pass the fakes shown to the discriminators through
                the image pools (which then change); evaluation (False) leaves the pools alone.

        Returns:
            Dict of scalars: `adv_ab`, `adv_ba`, `cycle_a`, `cycle_b`, `identity_a`, `identity_b` (unweighted),
            `generator` (the generators' total), `d_a`, `d_b`, `gp_a`, `gp_b` (weighted penalties; 0 without
            one) and `discriminator` (the discriminators' total). See the class docstring for the formulas.
        """
        a, b = (to_network_range(x) for x in _split_batch(batch))
        fake_b = self.generator_ab(a, training=training)
        fake_a = self.generator_ba(b, training=training)
        losses = {
            "adv_ab": self.objective.generator_loss(self.discriminator_b(fake_b, training=training)),
            "adv_ba": self.objective.generator_loss(self.discriminator_a(fake_a, training=training)),
            "cycle_a": ops.mean(ops.abs(self.generator_ba(fake_b, training=training) - a)),
            "cycle_b": ops.mean(ops.abs(self.generator_ab(fake_a, training=training) - b)),
        }
        if self.identity_weight > 0:
            losses["identity_a"] = ops.mean(ops.abs(self.generator_ba(a, training=training) - a))
            losses["identity_b"] = ops.mean(ops.abs(self.generator_ab(b, training=training) - b))
        else:  # the two extra generator passes are skipped
            losses["identity_a"] = losses["identity_b"] = ops.zeros((), dtype=losses["cycle_a"].dtype)
        losses["generator"] = (losses["adv_ab"] + losses["adv_ba"]
                               + self.cycle_weight * (losses["cycle_a"] + losses["cycle_b"])
                               + self.identity_weight * self.cycle_weight * (losses["identity_a"]
                                                                              + losses["identity_b"]))

        # The discriminators' fakes: no gradient path to the generators; in training, through the pools.
        shown_a, shown_b = tf.stop_gradient(fake_a), tf.stop_gradient(fake_b)
        if training:
            shown_a, shown_b = self.pool_a(shown_a), self.pool_b(shown_b)
        discriminators = {"a": (self.discriminator_a, a, shown_a), "b": (self.discriminator_b, b, shown_b)}
        for domain, (discriminator, real, fake) in discriminators.items():
            losses[f"d_{domain}"] = self.objective.discriminator_loss(discriminator(real, training=training),
                                                                      discriminator(fake, training=training))
            # Under the caller's tape: the penalty's input gradient is differentiated again (double backprop).
            losses[f"gp_{domain}"] = self.objective.gradient_penalty(
                lambda x, network=discriminator: network(x, training=training), real, fake,
                seed=self.penalty_random)
        losses["discriminator"] = losses["d_a"] + losses["d_b"] + losses["gp_a"] + losses["gp_b"]
        return losses

    # --- training ------------------------------------------------------------------------------------------------

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, **kwargs):
        """Configure training with one optimizer for the generators and one for the discriminators.

        Defaults: Adam (`tfstyle.optimizers.FusedAdam`: Keras's update in one TensorFlow kernel per variable,
        which keeps the U-Net steps near the bare forward+backward cost) with the objective's
        `recommended_optimizer` settings, a new instance for each:
        learning rate 2e-4, β1 0.5, β2 0.999 for LSGAN and the vanilla GAN (CycleGAN's); 1e-4, β1 0, β2 0.9 for
        WGAN-GP (Gulrajani et al., Algorithm 1). Both optimizers are built here on their networks' variables.
        `jit_compile` defaults to False (the image pool is a while loop over the batch with a random generator,
        which XLA would draw differently). Losses are built in: `loss` and `metrics` are not taken.

        Args:
            generator_optimizer: a Keras optimizer (or its name/config) for G and F.
            discriminator_optimizer: a Keras optimizer for D_A and D_B.
            **kwargs: `keras.Model.compile` arguments such as `run_eagerly`, `steps_per_execution`.
        """
        for key in ("optimizer", "loss", "metrics"):
            if key in kwargs:
                raise OptionError(f"CycleGAN.compile takes generator_optimizer and discriminator_optimizer, not "
                                  f"{key}; Received: {key}={kwargs[key]!r}")
        kwargs.setdefault("jit_compile", False)
        self.generator_optimizer = self._optimizer(generator_optimizer)
        self.discriminator_optimizer = self._optimizer(discriminator_optimizer)
        if self.generator_optimizer is self.discriminator_optimizer:
            raise OptionError("the generators and the discriminators need two optimizer instances")
        super().compile(optimizer=None, **kwargs)
        self.generator_optimizer.build(self.generator_variables)
        self.discriminator_optimizer.build(self.discriminator_variables)

    def _optimizer(self, optimizer):
        if optimizer is None:
            return FusedAdam(**self.objective.recommended_optimizer)
        return keras.optimizers.get(optimizer)

    def get_compile_config(self):
        if self.generator_optimizer is None:
            return {}
        return {"generator_optimizer": keras.saving.serialize_keras_object(self.generator_optimizer),
                "discriminator_optimizer": keras.saving.serialize_keras_object(self.discriminator_optimizer)}

    def compile_from_config(self, config):
        """Re-compile a model loaded from a `.keras` file (the optimizers' state is loaded after this)."""
        self.compile(**{key: keras.saving.deserialize_keras_object(value) for key, value in config.items()})

    @property
    def metrics(self):
        return list(self._trackers.values())

    def _record(self, losses):
        for name, tracker in self._trackers.items():
            tracker.update_state(losses[name])
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    @tf.autograph.experimental.do_not_convert
    def train_step(self, data):
        """One training step: the discriminators' update, and the generators' update every `critic_steps` steps.

        The generators are updated when `(step_counter + 1) % critic_steps == 0`, decided in the graph by a
        `tf.cond`. Losses are divided by the strategy's number of replicas before differentiation (the optimizers
        sum the replicas' gradients), so the step equals the one-device step on the global batch. Metrics record
        the undivided per-replica means (Keras averages them over replicas).

        With `critic_steps > 1` this needs one replica: under several replicas Keras optimizers synchronise the
        replicas inside `apply_gradients` (a `merge_call` on MirroredStrategy), which TensorFlow does not allow
        inside a `tf.cond`. There, run `train_step_with` with the decision made outside the traced step, as
        `train_cyclegan` does (two traced steps, chosen by the step number); `fit` raises `OptionError`.
        """
        if self.critic_steps == 1:
            return self.train_step_with(data, True)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            raise OptionError(f"critic_steps={self.critic_steps} with {replicas} replicas: the generators' update "
                              f"cannot be gated inside one traced step there; train with "
                              f"tfstyle.cyclegan.train_cyclegan (it alternates two traced steps) or one replica")
        return self.train_step_with(data, tf.equal((self.step_counter.value + 1) % self.critic_steps, 0))

    @tf.autograph.experimental.do_not_convert
    def train_step_with(self, data, update_generators):
        """One training step whose generators' update is decided by the caller.

        Args:
            data: a batch, as for `compute_losses`.
            update_generators: True or False (decided when tracing: no control flow in the graph, so it works
                under any strategy), or a boolean scalar tensor (a `tf.cond`; one replica only).

        Returns:
            The metrics' results, as `train_step`.
        """
        if self.generator_optimizer is None:
            raise OptionError("compile() the CycleGAN before training it")
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        _check_replicas(self.pool_size, replicas)
        with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
            losses = self.compute_losses(data, training=True)
            # scale_loss: loss scaling under mixed precision (a LossScaleOptimizer); the identity otherwise
            generator_loss = self.generator_optimizer.scale_loss(losses["generator"] / float(replicas))
            discriminator_loss = self.discriminator_optimizer.scale_loss(losses["discriminator"] / float(replicas))
        discriminator_variables = self.discriminator_variables
        discriminator_gradients = discriminator_tape.gradient(discriminator_loss, discriminator_variables)

        def update_generators_now():
            variables = self.generator_variables
            gradients = generator_tape.gradient(generator_loss, variables)
            self.generator_optimizer.apply_gradients(zip(gradients, variables))
            return tf.constant(True)

        if isinstance(update_generators, bool):
            if update_generators:
                update_generators_now()
        else:  # the generators' backward pass runs only in the steps that use it
            tf.cond(update_generators, update_generators_now, lambda: tf.constant(False))
        self.discriminator_optimizer.apply_gradients(zip(discriminator_gradients, discriminator_variables))
        self.step_counter.assign_add(1)
        return self._record(losses)

    @tf.autograph.experimental.do_not_convert
    def test_step(self, data):
        return self._record(self.compute_losses(data, training=False))

    def predict_step(self, data):
        return self(data, training=False)

    # --- saving --------------------------------------------------------------------------------------------------

    def get_config(self):
        base = super().get_config()
        config = {key: base[key] for key in ("name", "trainable") if key in base}
        config.update(
            generator=self.generator_name,
            generator_options=dict(self.generator_options),
            discriminator_options=dict(self.discriminator_options),
            objective=keras.saving.serialize_keras_object(self.objective),
            cycle_weight=self.cycle_weight,
            identity_weight=self.identity_weight,
            pool_size=self.pool_size,
            image_shape=None if self.image_shape is None else list(self.image_shape),
            seed=self.seed,
        )
        for key in NETWORKS:
            config[key] = keras.saving.serialize_keras_object(getattr(self, key))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in (*NETWORKS, "objective"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _check_replicas(pool_size, replicas):
    if pool_size > 0 and replicas > 1:
        raise OptionError(f"the image pool keeps one history of generated images and cannot be split over "
                          f"{replicas} replicas: use pool_size=0 under a multi-replica strategy; "
                          f"Received: pool_size={pool_size}")


def _check_three_channels(key, model):
    shapes = []
    for shape in (getattr(model, "input_shape", None), getattr(model, "output_shape", None)):
        shapes.append(shape[-1] if isinstance(shape, tuple) and shape else None)
    if any(channels is not None and channels != 3 for channels in shapes):
        raise OptionError(f"the identity loss needs generators from 3 to 3 channels; {key} maps {shapes[0]} to "
                          f"{shapes[1]} channels: use identity_weight=0")


def _split_batch(batch):
    """`(a, b)` from a pair, a dict with keys a/b, or either wrapped in a 1-tuple."""
    if isinstance(batch, (tuple, list)) and len(batch) == 1:
        batch = batch[0]
    if isinstance(batch, dict):
        missing = {"a", "b"} - set(batch)
        if missing:
            raise OptionError(f"a CycleGAN batch needs keys a and b; Received: keys={sorted(batch)}")
        return batch["a"], batch["b"]
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise OptionError(f"a CycleGAN batch is (a, b) or {{'a': ..., 'b': ...}}; Received: {type(batch).__name__}")


def _options(name, options):
    """A copy of an options dict with tuples as lists, as the config will read back from a `.keras` file."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise OptionError(f"{name} must be a dict of options; Received: {name}={options!r}")
    return {key: list(value) if isinstance(value, tuple) else value for key, value in options.items()}
