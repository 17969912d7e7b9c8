"""Training a CycleGAN from two folders of images: checkpoints, exact resume, Ctrl-C, time limits, TensorBoard.

`train_cyclegan` is the loop behind `tfstyle train-cyclegan`. It runs `CycleGAN.train_step` (the step `fit` runs
too) with `strategy.run`, under any `tf.distribute` strategy: the model and its optimizers are built in
`strategy.scope()` and the batches go through `experimental_distribute_dataset`. Around that step:

- a work folder: `checkpoints/` (`tfstyle.optimize.checkpoint.RunCheckpoint`: the four networks, both
  optimizers, both image pools with their random generators, the model's step counter and the penalty's random
  generator; a resume with other options is refused), `logs/` (TensorBoard), and the exported generators
  `generator_ab.keras` (A → B) and `generator_ba.keras` (B → A) with `generators.json`, written at every
  checkpoint and at the end;
- exact resume: the data stream is a function of the seed (`tfstyle.data.two_folder_dataset(seed=...)`), a resumed
  run skips the batches already used, and everything random in a step is checkpointed state, so an interrupted
  and resumed run equals an uninterrupted one;
- Ctrl-C lets the current step finish, then saves; `max_seconds` stops a run after that much training time (for
  comparisons at equal training time) and saves; a non-finite loss stops the run and keeps the last checkpoint.

Learning rate: `LinearDecaySchedule` for both optimizers: constant for `steps − decay_steps` steps, then linear
to 0 over `decay_steps` (default half the run: the reference trains 100 epochs constant + 100 epochs decay).

Critic steps (WGAN-GP): the generators are updated at every `critic_steps`-th step (see `CycleGAN`). With one
replica the model decides in its traced step; with several, this loop traces two steps (with and without the
generators' update) and picks one by the step number: the same sequence of updates.

Example:
    >>> result = train_cyclegan("photos/", "ink/", "runs/ink", generator="unet_attention", steps=20000)
    >>> result.model.translate_ab(photo)
    >>> result.generator_paths["ab"]
    PosixPath('runs/ink/generator_ab.keras')

Reference:
    Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
    ICCV 2017.
"""

import dataclasses
import math
import numbers
import os
import pathlib
import sys
import time

import numpy as np

from tfstyle.errors import OptionError
from tfstyle.interrupts import InterruptAtStepEnd
from tfstyle.logging import log_training_step

GENERATOR_FILES = {"ab": "generator_ab.keras", "ba": "generator_ba.keras"}
GENERATORS_CONFIG = "generators.json"
_PREVIEW_IMAGES = 4
_OBJECTIVES = ("lsgan", "vanilla", "wgan-gp")


@dataclasses.dataclass
class CycleGANTrainingResult:
    """Outcome of `train_cyclegan`.

    Attributes:
        model: the `CycleGAN`.
        steps: steps done in the whole run (a resumed run counts the steps before the resume).
        reason: `"done"`, `"interrupted"` (Ctrl-C or KeyboardInterrupt from `on_step`), `"time_limit"`
            (`max_seconds` reached) or `"diverged"` (a loss became NaN or infinite).
        seconds: wall time of the training loop of this call.
        history: `{"step": [...], "<term>": [...]}`, one entry every `log_every` steps (means over those steps),
            for every term of `CycleGAN.loss_names`, the steps before a resume included.
        resumed_from: the step a checkpoint was restored at, or 0.
        generator_paths: `{"ab": path, "ba": path}` of the exported generators (empty when none was written).
        skipped_files: image files the data pipeline could not read.
    """

    model: object
    steps: int
    reason: str
    seconds: float
    history: dict
    resumed_from: int = 0
    generator_paths: dict = dataclasses.field(default_factory=dict)
    skipped_files: list = dataclasses.field(default_factory=list)


def train_cyclegan(a_dir, b_dir, workdir, *, generator="resnet", generator_options=None,
                   discriminator_options=None, objective="lsgan", critic_steps=None, gp_weight=None,
                   cycle_weight=10.0, identity_weight=0.5, pool_size=50, steps=20000, decay_steps=None,
                   batch_size=1, crop_size=128, resize_to=None, learning_rate=None,
                   discriminator_learning_rate=None, beta_1=None, beta_2=None, checkpoint_every=1000, log_every=50,
                   images_every=500, logdir="default", resume=False, seed=0, cache=True, strategy=None, progress=True,
                   verbose=True, max_seconds=None, on_step=None):
    """Train (or continue training) a CycleGAN on two unpaired folders of images.

    Args:
        a_dir, b_dir: folders of domain A and domain B images (any image format; unreadable files are skipped and
            counted). G translates A → B, F translates B → A.
        workdir: the run's folder (created): checkpoints, logs and the exported generators.
        generator: "resnet", "unet" or "unet_attention" (both generators).
        generator_options: `build_generator` options. Unset, the ResNet gets 6 blocks below 256 px crops and 9
            from 256 px (the reference's `resnet_6blocks` / `resnet_9blocks`), and the U-Nets the largest depth up
            to 8 that divides the crop (7 for 128 px, the reference's `unet_128`; 8 for 256 px).
        discriminator_options: `build_discriminator` options (n_layers, filters, norm, spectral_norm, attention).
        objective: "lsgan" (default), "vanilla" or "wgan-gp".
        critic_steps: WGAN-GP only: critic updates per generator update (default 5).
        gp_weight: WGAN-GP only: λ of the gradient penalty (default 10).
        cycle_weight, identity_weight, pool_size: see `CycleGAN` (10, 0.5, 50). Under a strategy with several
            replicas `pool_size` must be 0.
        steps: total training steps (one batch each) of the run.
        decay_steps: the last `decay_steps` steps decay the learning rates linearly to 0; default `steps // 2`.
            `steps` and `decay_steps` define the schedule: a resume must keep both.
        batch_size: global batch size (split over the strategy's replicas; CycleGAN uses 1).
        crop_size: side of the random square crops; a multiple of the generator's `size_multiple`.
        resize_to: short side images are resized to before cropping; default `round(crop_size · 286/256)` (the
            reference resizes to 286 and crops 256).
        learning_rate: the generators' Adam learning rate; default the objective's (2e-4 for LSGAN and the
            vanilla GAN, 1e-4 for WGAN-GP). Adam's β1, β2 are the objective's `recommended_optimizer` values
            (0.5, 0.999; for WGAN-GP 0, 0.9).
        discriminator_learning_rate: the discriminators' learning rate; default `learning_rate`.
        beta_1, beta_2: Adam's moment decays for both networks; default the objective's (see `learning_rate`).
            WGAN-GP's β1 = 0 comes from Gulrajani et al.; Shi & Zhu's comparison and many CycleGAN ports keep
            CycleGAN's 0.5, so `beta_1=0.5` tries that.
        checkpoint_every: steps between checkpoints and generator exports; 0 saves only at the end (and on
            Ctrl-C or the time limit).
        log_every: steps between TensorBoard scalars and history entries.
        images_every: steps between TensorBoard translation grids of a fixed preview set (the first images of
            each folder, centre-cropped): `samples/a_to_b_to_a` and `samples/b_to_a_to_b`, one row per image:
            real | translated | reconstructed. 0 for none.
        logdir: TensorBoard folder; `"default"` is `workdir/logs`, None writes no summaries.
        resume: continue the run saved in `workdir`. Without it, a `workdir` that holds a checkpoint is refused.
        seed: seeds the data stream, the networks' initialisation and the pools' and the penalty's draws.
        cache: keep the decoded, resized images in memory.
        strategy: a `tf.distribute.Strategy`; default: the current one.
        progress: show a progress bar.
        verbose: print one line about skipped files.
        max_seconds: stop after this much wall time of this call's training loop (the first step's tracing
            included), save, and return with reason `"time_limit"`; None for no limit.
        on_step: called as `on_step(step, losses)` after every step; raising KeyboardInterrupt in it stops the run
            as Ctrl-C does.

    Returns:
        A `CycleGANTrainingResult`.

    Raises:
        OptionError: a bad option value, a folder without usable images, a checkpoint of another run.
    """
    import keras
    import tensorflow as tf

    from tfstyle.cyclegan.generators import GENERATORS
    from tfstyle.cyclegan.model import CycleGAN, _check_replicas
    from tfstyle.cyclegan.schedules import LinearDecaySchedule
    from tfstyle.data import SkipCounter, evaluation_dataset, two_folder_dataset
    from tfstyle.losses.adversarial import get_adversarial
    from tfstyle.optimize.checkpoint import RunCheckpoint
    from tfstyle.optimizers import FusedAdam

    for name, value, minimum in (("steps", steps, 1), ("batch_size", batch_size, 1), ("crop_size", crop_size, 8),
                                 ("checkpoint_every", checkpoint_every, 0), ("log_every", log_every, 1),
                                 ("images_every", images_every, 0)):
        _check_int(name, value, minimum)
    decay_steps = steps // 2 if decay_steps is None else decay_steps
    _check_int("decay_steps", decay_steps, 0)
    if decay_steps > steps:
        raise OptionError(f"decay_steps must be at most steps={steps}; Received: decay_steps={decay_steps!r}")
    if max_seconds is not None and (isinstance(max_seconds, bool) or not isinstance(max_seconds, numbers.Real)
                                    or not math.isfinite(max_seconds) or max_seconds < 0):
        raise OptionError(f"max_seconds must be a finite number >= 0 or None; Received: max_seconds={max_seconds!r}")
    if not isinstance(generator, str) or generator not in GENERATORS:
        raise OptionError(f"generator must be one of {', '.join(GENERATORS)}; Received: generator={generator!r}")
    objective_name = objective.lower().replace("wgangp", "wgan-gp") if isinstance(objective, str) else objective
    if objective_name not in _OBJECTIVES:
        raise OptionError(f"objective must be one of {', '.join(_OBJECTIVES)}; Received: objective={objective!r}")
    objective_options = {}
    for name, value, key in (("critic_steps", critic_steps, "critic_steps"),
                             ("gp_weight", gp_weight, "gradient_penalty_weight")):
        if value is None:
            continue
        if objective_name != "wgan-gp":
            raise OptionError(f"{name} applies to the wgan-gp objective only; Received: objective={objective_name!r}, "
                              f"{name}={value!r}")
        objective_options[key] = value
    objective = get_adversarial(objective_name, **objective_options)
    if learning_rate is None:
        learning_rate = objective.recommended_optimizer["learning_rate"]
    if discriminator_learning_rate is None:
        discriminator_learning_rate = learning_rate
    for name, value in (("learning_rate", learning_rate), ("discriminator_learning_rate",
                                                           discriminator_learning_rate)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise OptionError(f"{name} must be a finite number > 0; Received: {name}={value!r}")
    default_betas = {key: objective.recommended_optimizer[key] for key in ("beta_1", "beta_2")}
    betas = dict(default_betas)
    for key, value in (("beta_1", beta_1), ("beta_2", beta_2)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
            raise OptionError(f"{key} must be a number in [0, 1); Received: {key}={value!r}")
        betas[key] = float(value)
    generator_options = _generator_options(generator, generator_options, crop_size)
    discriminator_options = dict(discriminator_options or {})
    n_layers = discriminator_options.get("n_layers", 3)
    if isinstance(n_layers, int) and crop_size < 3 * 2 ** n_layers:
        raise OptionError(f"crop_size {crop_size} is too small for a PatchGAN discriminator with n_layers={n_layers}:"
                          f" it needs at least {3 * 2 ** n_layers} px (or fewer layers)")
    if resize_to is None:
        resize_to = round(crop_size * 286 / 256)
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise OptionError(f"batch_size {batch_size} does not split over {replicas} replicas")
    _check_replicas(pool_size, replicas)

    workdir = pathlib.Path(workdir)
    fingerprint = {
        "a_dir": str(a_dir), "b_dir": str(b_dir), "generator": generator, "generator_options": generator_options,
        "discriminator_options": discriminator_options, "objective": objective.name,
        "objective_options": objective.get_config(), "cycle_weight": cycle_weight,
        "identity_weight": identity_weight, "pool_size": pool_size, "batch_size": batch_size,
        "crop_size": crop_size, "resize_to": resize_to, "learning_rate": learning_rate,
        "discriminator_learning_rate": discriminator_learning_rate, "constant_steps": steps - decay_steps,
        "decay_steps": decay_steps, "seed": seed,
    }
    if betas != default_betas:  # runs with the objective's betas keep the fingerprint of earlier versions
        fingerprint.update(betas=betas)
    checkpoint = RunCheckpoint(workdir / "checkpoints", every=checkpoint_every, keep=2, fingerprint=fingerprint,
                               save_when_done=True)
    if checkpoint.exists() and not resume:
        raise OptionError(f"{workdir} already holds a training checkpoint; resume it (resume=True, --resume) or "
                          f"choose another work folder")
    if resume and not checkpoint.exists():
        raise OptionError(f"nothing to resume: {workdir} holds no training checkpoint")
    checkpoint.check_fingerprint()

    keras.utils.set_random_seed(seed)  # before any random op: the data stream and the networks' initialisation
    skipped = SkipCounter()
    dataset = two_folder_dataset(a_dir, b_dir, crop_size, resize_to, batch_size, keys=("a", "b"), seed=seed,
                                 cache=cache, skip_counter=skipped)
    with strategy.scope():
        model = CycleGAN(generator, generator_options, discriminator_options, objective=objective,
                         cycle_weight=cycle_weight, identity_weight=identity_weight, pool_size=pool_size,
                         image_shape=(crop_size, crop_size, 3), seed=seed)
        if crop_size % model.size_multiple:
            raise OptionError(f"crop_size {crop_size} is not a multiple of {model.size_multiple}, which the "
                              f"{generator} generator needs (options {generator_options})")
        constant_steps = steps - decay_steps
        model.compile(
            generator_optimizer=FusedAdam(LinearDecaySchedule(
                learning_rate, constant_steps, decay_steps, steps_per_update=model.critic_steps), **betas),
            discriminator_optimizer=FusedAdam(LinearDecaySchedule(
                discriminator_learning_rate, constant_steps, decay_steps), **betas))
    step_variable = tf.Variable(0, dtype=tf.int64, name="step")
    checkpoint.attach(step=step_variable, **model.checkpoint_objects())
    history = checkpoint.restore() if resume else None
    start = int(step_variable.numpy()) if history is not None else 0
    history = {key: [value for value, at in zip(values, history.get("step", [])) if at <= start]
               for key, values in history.items()} if history else {}

    writer = None
    if logdir is not None:
        writer = tf.summary.create_file_writer(str(workdir / "logs" if logdir == "default" else logdir))
    preview = None
    if writer is not None and images_every:
        # a fixed preview from datasets of its own (iterating `dataset` twice would change the training stream)
        preview = {key: next(iter(evaluation_dataset(folder, crop_size, resize_to, _PREVIEW_IMAGES)))
                   for key, folder in (("a", a_dir), ("b", b_dir))}
    stream = iter(strategy.experimental_distribute_dataset(dataset.skip(start)))
    train_functions = _train_functions(model, strategy)
    metadata = {
        "generator": generator, "generator_options": generator_options,
        "discriminator_options": discriminator_options, "objective": objective.name,
        "objective_options": objective.get_config(), "cycle_weight": cycle_weight,
        "identity_weight": identity_weight, "pool_size": pool_size, "batch_size": batch_size,
        "crop_size": crop_size, "resize_to": resize_to, "seed": seed,
        "domains": {"a": _domain_name(a_dir), "b": _domain_name(b_dir)},
    }

    bar = _progress_bar(progress, start, steps)
    timer = time.perf_counter()
    step, reason = start, "done"
    with InterruptAtStepEnd() as interrupt:
        try:
            while step < steps:
                update_generators = None if None in train_functions else (step + 1) % model.critic_steps == 0
                logs = train_functions[update_generators](next(stream))
                step += 1
                values = {key: float(value) for key, value in logs.items()}
                if not all(math.isfinite(value) for value in values.values()):
                    reason = "diverged"
                    break
                if step % log_every == 0 or step == steps:
                    _log(history, step, values, model, writer)
                    model.reset_metrics()
                if preview is not None and (step % images_every == 0 or step == 1):
                    _log_images(writer, step, model, preview)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({key: f"{values[key]:.3g}" for key in ("generator", "discriminator")},
                                    refresh=False)
                if checkpoint.due(step) and step < steps:
                    _save(checkpoint, step_variable, step, history, model, workdir, metadata)
                if on_step is not None:
                    on_step(step, values)
                interrupt.check()
                if max_seconds is not None and time.perf_counter() - timer >= max_seconds and step < steps:
                    reason = "time_limit"
                    break
        except KeyboardInterrupt:
            reason = "interrupted"
    seconds = time.perf_counter() - timer
    if bar is not None:
        bar.close()
    paths = {}
    if reason != "diverged" and step > start:
        paths = _save(checkpoint, step_variable, step, history, model, workdir, metadata)
    elif all((workdir / name).is_file() for name in GENERATOR_FILES.values()):
        paths = {key: workdir / name for key, name in GENERATOR_FILES.items()}
    if writer is not None:
        writer.flush()
    if verbose and skipped.count:
        print(skipped.summary(), file=sys.stderr)
    return CycleGANTrainingResult(model, step, reason, seconds, history, start, paths, skipped.paths)


def export_generators(model, folder, **metadata):
    """Write a CycleGAN's generators as `generator_ab.keras`, `generator_ba.keras` and `generators.json`.

    Each `.keras` file is self-contained (config and weights of one generator; load it with
    `keras.saving.load_model(path)` after importing `tfstyle.cyclegan`, safe mode on) and is written to a
    temporary file that then replaces the old one, so a crash never leaves half a file. The generators take and
    give images in [−1, 1]: scale [0, 1] images with `2x − 1` and the output with `(y + 1)/2`. `generators.json`
    records that range, the files, the translation directions, `size_multiple` (image sides must be multiples of
    it for both generators; pad otherwise) and `metadata`.

    Args:
        model: a `CycleGAN`.
        folder: an existing folder.
        **metadata: JSON-able values stored in `generators.json` (steps, options, domain names, ...); a `domains`
            entry `{"a": name, "b": name}` also names the directions.

    Returns:
        `{"ab": path, "ba": path}` of the two `.keras` files.

    Example:
        >>> export_generators(model, "runs/ink", steps=20000, domains={"a": "photos", "b": "ink"})
        {'ab': PosixPath('runs/ink/generator_ab.keras'), 'ba': PosixPath('runs/ink/generator_ba.keras')}
    """
    from tfstyle import __version__
    from tfstyle.io import save_json

    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise OptionError(f"folder does not exist: {folder}")
    paths = {}
    for direction, name in GENERATOR_FILES.items():
        path = folder / name
        temporary = folder / f".{path.stem}.{os.getpid()}.tmp.keras"
        try:
            getattr(model, f"generator_{direction}").save(temporary)
            os.replace(temporary, path)
        finally:
            if temporary.exists():
                temporary.unlink()
        paths[direction] = path
    domains = metadata.pop("domains", None) or {"a": "A", "b": "B"}
    record = {
        "generator_ab": GENERATOR_FILES["ab"], "generator_ba": GENERATOR_FILES["ba"],
        "directions": {"ab": f"{domains['a']} -> {domains['b']}", "ba": f"{domains['b']} -> {domains['a']}"},
        "domains": domains, "value_range": [-1.0, 1.0], "size_multiple": int(model.size_multiple),
        "tfstyle_version": __version__,
    }
    record.update(metadata)
    save_json(folder / GENERATORS_CONFIG, record)
    return paths


def _train_functions(model, strategy):
    """`{None: step}` (the model gates its generators' update) or `{True: step, False: step}` (this loop does)."""
    import tensorflow as tf

    def traced(update_generators):
        step = model.train_step if update_generators is None else (
            lambda batch: model.train_step_with(batch, update_generators))

        # autograph=False: the step has no Python control flow on tensors, and converting it doubles the tracing
        @tf.function(autograph=False)
        def train_function(batch):
            per_replica = strategy.run(step, args=(batch,))
            return {key: strategy.reduce("MEAN", value, axis=None) for key, value in per_replica.items()}

        return train_function

    if model.critic_steps == 1 or strategy.num_replicas_in_sync == 1:
        return {None: traced(None)}
    return {True: traced(True), False: traced(False)}


def _generator_options(generator, options, crop_size):
    """The options with the reference's size-dependent defaults filled in (ResNet blocks, U-Net depth)."""
    if options is not None and not isinstance(options, dict):
        raise OptionError(f"generator_options must be a dict; Received: generator_options={options!r}")
    options = dict(options or {})
    if generator == "resnet":
        options.setdefault("blocks", 6 if crop_size < 256 else 9)
    else:
        power = (crop_size & -crop_size).bit_length() - 1  # the largest k with 2^k dividing the crop
        options.setdefault("depth", max(1, min(8, power)))
    if isinstance(options.get("attention"), tuple):
        options["attention"] = list(options["attention"])
    return options


def _save(checkpoint, step_variable, step, history, model, workdir, metadata):
    """Checkpoint everything, then export the generators with their metadata; returns their paths."""
    step_variable.assign(step)
    checkpoint.save(step, history)
    return export_generators(model, workdir, steps=int(step), **metadata)


def _log(history, step, values, model, writer):
    log_training_step(history, step, values, writer)
    if writer is None:
        return
    import tensorflow as tf

    with writer.as_default(step=step):
        for key in ("generator", "discriminator"):
            optimizer = getattr(model, f"{key}_optimizer")
            tf.summary.scalar(f"train/{key}_learning_rate", float(np.asarray(optimizer.learning_rate)))


def _log_images(writer, step, model, preview):
    """Two grids, A → B → A and B → A → B: one row per preview image, real | translated | reconstructed."""
    import tensorflow as tf

    from tfstyle.cyclegan.model import from_network_range, to_network_range

    def grid(images, forward, backward):
        translated = forward(to_network_range(images), training=False)
        reconstructed = backward(translated, training=False)
        columns = [np.asarray(images)] + [np.clip(np.asarray(from_network_range(x)), 0.0, 1.0)
                                          for x in (translated, reconstructed)]
        return np.concatenate([np.concatenate([column[i] for column in columns], axis=1)
                               for i in range(columns[0].shape[0])], axis=0)[None]

    with writer.as_default(step=step):
        tf.summary.image("samples/a_to_b_to_a", grid(preview["a"], model.generator_ab, model.generator_ba), step=step)
        tf.summary.image("samples/b_to_a_to_b", grid(preview["b"], model.generator_ba, model.generator_ab), step=step)


def _domain_name(folder):
    return pathlib.Path(folder).resolve().name or str(folder)


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise OptionError(f"{name} must be an integer of at least {minimum}; received {value!r}")


def _progress_bar(progress, start, steps):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=steps, initial=start, unit="step", dynamic_ncols=True, file=sys.stderr)
