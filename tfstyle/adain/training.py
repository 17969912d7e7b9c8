"""Training an AdaIN decoder from two folders of images: checkpoints, exact resume, Ctrl-C, TensorBoard, any strategy.

`train_adain` is the loop behind `tfstyle train-adain`. It runs `AdaINModel.train_step` (the step `fit` runs too)
with `strategy.run`, so there is one training step, and it works under any `tf.distribute` strategy: the model and
optimizer are built in `strategy.scope()` and the batches go through `experimental_distribute_dataset`. Around that step it adds what a long run on a slow machine needs:

- a work folder: `checkpoints/` (decoder, Adam's state, step; `tfstyle.optimize.checkpoint.RunCheckpoint`, which
  refuses to resume with other options), `logs/` (TensorBoard), and the exported decoder (`decoder.weights.h5`
  with `decoder.json`, loadable by `tfstyle adain --decoder WORKDIR/decoder.weights.h5`);
- exact resume: the data stream is a function of the seed (`tfstyle.data.two_folder_dataset(seed=...)`), and a
  resumed run skips the batches already used, so an interrupted and resumed run equals an uninterrupted one;
- Ctrl-C lets the current step finish, then saves a checkpoint and the decoder; a non-finite loss stops the run
  and keeps the last checkpoint.

Learning rate: Adam with the paper's decay `lr / (1 + decay · iteration)` (1e-4 and 5e-5 in the reference code).

Depth / structure-aware AdaIN (Wu & Song 2020): `structure` and `structure_weight` add the term
`λ_d · MSE(D(output), D(content))` of `AdaINModel` to the training loss; both are part of the run's fingerprint (a
resume with another structure network or weight is refused) and of the exported `decoder.json` (as metadata:
loading a decoder for inference does not need D). `"laplacian"` and `"hed"` are structure proxies, not depth.

Example:
    >>> result = train_adain("photos/", "paintings/", "runs/decoder", backbone="vgg16_hed", steps=2000)
    >>> result.model.stylize(content, style)

Reference:
    Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017.
"""

import dataclasses
import functools
import json
import math
import pathlib
import sys
import time

import numpy as np

from tfstyle.augment import as_jitter
from tfstyle.errors import OptionError, check_non_negative
from tfstyle.interrupts import InterruptAtStepEnd
from tfstyle.logging import log_training_step

DECODER_FILE = "decoder.weights.h5"
DECODER_CONFIG = "decoder.json"
_PREVIEW_IMAGES = 4


@dataclasses.dataclass
class TrainingResult:
    """Outcome of `train_adain`.

    Attributes:
        model: the `AdaINModel` with the trained decoder.
        steps: steps done in the whole run (a resumed run counts the steps before the resume).
        reason: `"done"`, `"interrupted"` or `"diverged"`.
        seconds: wall time of this call.
        history: `{"step": [...], "loss": [...], "content_loss": [...], "style_loss": [...]}` (and
            `structure_loss` with a structure network), one entry every `log_every` steps (means over those
            steps), the steps before a resume included.
        resumed_from: the step a checkpoint was restored at, or 0.
        decoder_path: the exported decoder weights (None after a divergence before any checkpoint).
        skipped_files: image files the data pipeline could not read.
    """

    model: object
    steps: int
    reason: str
    seconds: float
    history: dict
    resumed_from: int = 0
    decoder_path: pathlib.Path = None
    skipped_files: list = dataclasses.field(default_factory=list)


def train_adain(content_dir, style_dir, workdir, *, backbone="vgg16_hed", weights="default",
                encoder_layer="block4_conv1", decoder_width=1.0, style_weight=10.0, steps=1000, batch_size=8,
                crop_size=256, resize_to=512, jitter=None, learning_rate=1e-4, lr_decay=5e-5, checkpoint_every=500,
                log_every=10, images_every=200, logdir="default", resume=False, seed=0, cache=True, strategy=None,
                progress=True, verbose=True, on_step=None, structure=None, structure_weight=0.0,
                reconstruction_weight=0.0, tv_weight=0.0, shallow_content_weight=0.0, feature_scale="auto",
                init_decoder=None):
    """Train (or continue training) an AdaIN decoder.

    Args:
        content_dir, style_dir: folders of content photos and style paintings (any image format; unreadable files
            are skipped and counted).
        workdir: the run's folder (created): checkpoints, logs and the exported decoder.
        backbone, weights, encoder_layer, decoder_width, style_weight: see `AdaINModel`.
        steps: total training steps of the run (a resumed run does the steps still missing; may grow).
        batch_size: global batch size (split over the strategy's replicas).
        crop_size, resize_to: images are resized so their short side is `resize_to`, then randomly cropped to
            `crop_size` and flipped.
        jitter: a `tfstyle.augment.Jitter` to zoom and recolour every content and style crop at random (more
            scales and palettes from a few dozen images); None: crop and flip only. Measure before relying on it: a
            329-step jittered fine-tune of the shipped decoder scored worse on held-out paintings
            (tfstyle/weights/README.md).
        learning_rate, lr_decay: Adam's learning rate `learning_rate / (1 + lr_decay · iteration)`.
        checkpoint_every: steps between checkpoints (and decoder exports); the end of the run always saves.
        log_every: steps between TensorBoard scalars and history entries.
        images_every: steps between TensorBoard image grids (content, style, output of a fixed batch); 0 for none.
        logdir: TensorBoard folder; `"default"` is `workdir/logs`, None writes no summaries.
        resume: continue the run saved in `workdir`. Without it, a `workdir` that holds a checkpoint is refused.
        seed: seeds the data stream (crops, flips, order) and the decoder's initialisation.
        cache: keep the decoded, resized images in memory (right for folders of up to a few thousand images).
        strategy: a `tf.distribute.Strategy`; default: the current one.
        progress: show a progress bar.
        verbose: print one line about skipped files.
        on_step: called as `on_step(step, losses)` after every step (e.g. a notebook's live display); raising
            KeyboardInterrupt in it stops the run as Ctrl-C does.
        structure: the structure network D of the structure term (see `AdaINModel`): `"laplacian"`,
            `"laplacian:POOL"`, `"hed"` (structure proxies, not depth), a `.keras` depth model path or a
            `keras.Model`; None for plain AdaIN.
        structure_weight: λ_d of the structure term; 0 with a structure network logs `structure_loss` without
            training on it.
        reconstruction_weight: λ_r of the pixel reconstruction term MSE(g(f(c)), c) (see `AdaINModel`; a
            deviation from the paper, 0 by default).
        tv_weight: λ_tv of the total-variation term on the stylized output (see `AdaINModel`; a deviation from
            the paper, 0 by default).
        shallow_content_weight: λ_c' of the shallow content term at the layer one block above the encoder layer
            (see `AdaINModel`; a deviation from the paper, 0 by default).
        feature_scale: the decoder's input scale (see `AdaINModel`): `"auto"` (default) measures the std of the
            encoder features of the preview content images (the first images of `content_dir`, centre crops) once
            and keeps it for the run and in `decoder.json`; a number sets it; 1.0 is the paper's decoder. With
            `init_decoder`, "auto" takes that decoder's scale.
        init_decoder: start the decoder from these weights instead of a random initialisation: a shipped name
            (`vgg16_hed`) or a `.weights.h5` file with its `.json` (to fine-tune a decoder on your own images, or
            to continue a warm-up run under other losses). Its encoder layer and width must match this run's.
            Ignored on resume (the checkpoint holds the decoder).

    Returns:
        A `TrainingResult`.
    """
    import keras
    import tensorflow as tf

    from tfstyle.adain.encoder import AdaINEncoder, measure_feature_scale
    from tfstyle.adain.model import AdaINModel
    from tfstyle.adain.pretrained import find_decoder
    from tfstyle.data import SkipCounter, evaluation_dataset, two_folder_dataset
    from tfstyle.losses.structure import require_structure, structure_spec
    from tfstyle.optimize.checkpoint import RunCheckpoint

    for name, value, minimum in (("steps", steps, 1), ("batch_size", batch_size, 1), ("crop_size", crop_size, 8),
                                 ("checkpoint_every", checkpoint_every, 0), ("log_every", log_every, 1),
                                 ("images_every", images_every, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise OptionError(f"{name} must be an integer of at least {minimum}; received {value!r}")
    learning_rate = check_non_negative("learning_rate", learning_rate)
    lr_decay = check_non_negative("lr_decay", lr_decay)
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise OptionError(f"batch_size {batch_size} does not split over {replicas} replicas")
    workdir = pathlib.Path(workdir)
    fingerprint = {"content_dir": str(content_dir), "style_dir": str(style_dir), "backbone": backbone,
                   "encoder_layer": encoder_layer, "decoder_width": decoder_width, "style_weight": style_weight,
                   "batch_size": batch_size, "crop_size": crop_size, "resize_to": resize_to,
                   "learning_rate": learning_rate, "lr_decay": lr_decay, "seed": seed}
    structure_weight = check_non_negative("structure_weight", structure_weight)
    require_structure(structure, structure_weight)
    if structure is not None:  # runs without it keep the fingerprint of earlier versions, so they still resume
        fingerprint.update(structure=structure_spec(structure), structure_weight=float(structure_weight))
    reconstruction_weight = check_non_negative("reconstruction_weight", reconstruction_weight)
    tv_weight = check_non_negative("tv_weight", tv_weight)
    shallow_content_weight = check_non_negative("shallow_content_weight", shallow_content_weight)
    if feature_scale != "auto" and (isinstance(feature_scale, bool) or not isinstance(feature_scale, (int, float))
                                    or not 0 < feature_scale < math.inf):
        raise OptionError(f"feature_scale must be 'auto' or a positive number; Received: feature_scale={feature_scale!r}")
    if feature_scale != 1.0:  # likewise: runs of the paper's decoder keep their fingerprint
        fingerprint.update(feature_scale=feature_scale)
    if reconstruction_weight > 0:  # likewise: only runs with the term have it in their fingerprint
        fingerprint.update(reconstruction_weight=float(reconstruction_weight))
    if tv_weight > 0:  # likewise
        fingerprint.update(tv_weight=float(tv_weight))
    if shallow_content_weight > 0:  # likewise
        fingerprint.update(shallow_content_weight=float(shallow_content_weight))
    jitter = as_jitter(jitter)
    if jitter:  # likewise
        fingerprint.update(jitter=jitter.as_dict())
    initial_weights = None
    if init_decoder is not None:
        initial_weights, initial_options = find_decoder(init_decoder)
        initial_layer = initial_options.get("encoder_layer", encoder_layer)
        if initial_layer != encoder_layer:
            raise OptionError(f"the initial decoder inverts {initial_layer}, this run's encoder layer is "
                              f"{encoder_layer}: they must be the same")
        fingerprint.update(init_decoder=str(initial_weights))
        if feature_scale == "auto":
            feature_scale = float(initial_options.get("feature_scale", 1.0))
    checkpoint = RunCheckpoint(workdir / "checkpoints", every=checkpoint_every, keep=2, fingerprint=fingerprint,
                               save_when_done=True)
    if checkpoint.exists() and not resume:
        raise OptionError(f"{workdir} already holds a training checkpoint; resume it (resume=True, --resume) or "
                          f"choose another work folder")
    if resume and not checkpoint.exists():
        raise OptionError(f"nothing to resume: {workdir} holds no training checkpoint")
    checkpoint.check_fingerprint()

    keras.utils.set_random_seed(seed)  # before any random op: the data stream and the decoder's initialisation
    skipped = SkipCounter()
    dataset = two_folder_dataset(content_dir, style_dir, crop_size, resize_to, batch_size, jitter=jitter,
                                 keys=("content", "style"), seed=seed, cache=cache, skip_counter=skipped)
    # a fixed preview (centre crops of the first images), from datasets of its own: iterating `dataset` twice
    # would reshuffle it, and the stream must be the same in a resumed run
    preview = {key: next(iter(evaluation_dataset(folder, crop_size, resize_to, _PREVIEW_IMAGES)))
               for key, folder in (("content", content_dir), ("style", style_dir))}
    count = min(len(preview["content"]), len(preview["style"]))
    preview = {key: value[:count] for key, value in preview.items()}
    if feature_scale == "auto":
        feature_scale = _resumed_feature_scale(workdir) if resume else None
        if feature_scale is None:
            feature_scale = measure_feature_scale(AdaINEncoder(backbone, encoder_layer, weights=weights),
                                                  preview["content"])
    keras.utils.set_random_seed(seed)  # the decoder's initialisation does not depend on the measurement above
    with strategy.scope():
        model = AdaINModel(backbone, weights=weights, encoder_layer=encoder_layer, style_weight=style_weight,
                           decoder_width=decoder_width, structure=structure, structure_weight=structure_weight,
                           reconstruction_weight=reconstruction_weight, tv_weight=tv_weight,
                           shallow_content_weight=shallow_content_weight,
                           feature_scale=feature_scale)
        schedule = keras.optimizers.schedules.InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=lr_decay)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule))
        model.optimizer.build(model.trainable_variables)
        if initial_weights is not None and not resume:
            model.load_decoder(initial_weights)
    step_variable = tf.Variable(0, dtype=tf.int64, name="step")
    checkpoint.attach(decoder=model.decoder, optimizer=model.optimizer, step=step_variable)
    history = checkpoint.restore() if resume else None
    start = int(step_variable.numpy()) if history is not None else 0
    history = {key: [value for value, at in zip(values, history.get("step", [])) if at <= start]
               for key, values in history.items()} if history else {}

    stream = iter(strategy.experimental_distribute_dataset(dataset.skip(start)))

    @tf.function
    def train_function(batch):
        per_replica = strategy.run(model.train_step, args=(batch,))
        return {key: strategy.reduce("MEAN", value, axis=None) for key, value in per_replica.items()}

    writer = None
    if logdir is not None:
        writer = tf.summary.create_file_writer(str(workdir / "logs" if logdir == "default" else logdir))

    bar = _progress_bar(progress, start, steps)
    timer = time.perf_counter()
    step, reason = start, "done"
    save = functools.partial(_save, checkpoint, step_variable, model=model, workdir=workdir, jitter=jitter)
    with InterruptAtStepEnd() as interrupt:
        try:
            while step < steps:
                logs = train_function(next(stream))
                step += 1
                values = {key: float(value) for key, value in logs.items()}
                if not all(math.isfinite(value) for value in values.values()):
                    reason = "diverged"
                    break
                if step % log_every == 0 or step == steps:
                    _log(history, step, values, model, writer)
                    model.reset_metrics()
                if writer is not None and images_every and (step % images_every == 0 or step == 1):
                    _log_images(writer, step, model, preview)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({key: f"{value:.3g}" for key, value in values.items()}, refresh=False)
                if checkpoint.due(step) and step < steps:
                    save(step, history)
                if on_step is not None:
                    on_step(step, values)
                interrupt.check()
        except KeyboardInterrupt:
            reason = "interrupted"
    if bar is not None:
        bar.close()
    decoder_path = None
    if reason != "diverged" and step > start:
        decoder_path = save(step, history)
    elif (workdir / DECODER_FILE).is_file():
        decoder_path = workdir / DECODER_FILE
    if writer is not None:
        writer.flush()
    if verbose and skipped.count:
        print(skipped.summary(), file=sys.stderr)
    return TrainingResult(model, step, reason, time.perf_counter() - timer, history, start, decoder_path,
                          skipped.paths)


def _resumed_feature_scale(workdir):
    """The feature scale a resumed run measured at its start (from its exported decoder config), or None."""
    try:
        value = json.loads((pathlib.Path(workdir) / DECODER_CONFIG).read_text()).get("feature_scale", 1.0)
    except (OSError, ValueError):
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _save(checkpoint, step_variable, step, history, *, model, workdir, jitter):
    """Checkpoint (decoder, Adam, step, history), then export the decoder with its config; returns its path."""
    from tfstyle.adain.pretrained import export_decoder

    step_variable.assign(step)
    checkpoint.save(step, history)
    metadata = {"steps": int(step)}
    if model.structure is not None:  # for the record: inference does not need D
        metadata.update(structure=model.structure.spec or model.structure.name,
                        structure_is_proxy=bool(model.structure.is_proxy), structure_weight=model.structure_weight)
    if model.reconstruction_weight > 0:
        metadata.update(reconstruction_weight=model.reconstruction_weight)
    if model.tv_weight > 0:
        metadata.update(tv_weight=model.tv_weight)
    if model.shallow_content_weight > 0:
        metadata.update(shallow_content_weight=model.shallow_content_weight)
    if jitter:  # for the record, like the structure term
        metadata.update(jitter=jitter.as_dict())
    path, _ = export_decoder(model, workdir / DECODER_FILE, **metadata)
    return path


def _log(history, step, values, model, writer):
    log_training_step(history, step, values, writer)
    if writer is None:
        return
    import tensorflow as tf

    with writer.as_default(step=step):
        learning_rate = model.optimizer.learning_rate
        tf.summary.scalar("train/learning_rate", float(learning_rate() if callable(learning_rate) else
                                                       learning_rate))


def _log_images(writer, step, model, preview):
    """One grid per preview pair: content | style | output, the rows stacked."""
    import tensorflow as tf

    output = np.clip(np.asarray(model((preview["content"], preview["style"]), training=False)), 0.0, 1.0)
    rows = [np.concatenate([np.asarray(preview["content"][i]), np.asarray(preview["style"][i]), output[i]], axis=1)
            for i in range(output.shape[0])]
    with writer.as_default(step=step):
        tf.summary.image("samples/content_style_output", np.concatenate(rows, axis=0)[None], step=step)


def _progress_bar(progress, start, steps):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=steps, initial=start, unit="step", dynamic_ncols=True, file=sys.stderr)

