"""Benchmark: one CycleGAN training step in tfstyle against the bare pass of the same networks; self-attention cost.

Claims measured (DESIGN.md, "Performance: how it is measured"; METHODS §6–8):
  1. One `CycleGAN` training step as tfstyle runs it costs at most 1.15x the bare forward+backward pass of the same
     two generators and two discriminators on the same batch. Contenders, all on the same four Keras networks
     and the same (a, b) batch (batch 1, random images in [0, 1]):
     *tfstyle*: the traced step `train_cyclegan` runs (`tf.function(autograph=False)` over
       `strategy.run(model.train_step)` and the per-replica reduction; the logged terms fetched as floats, as the
       loop does), on a `CycleGAN` built and compiled the way `train_cyclegan` builds it: image pools of 50 with
       `image_shape`, `FusedAdam` with `LinearDecaySchedule` for both groups, the loss trackers;
     *fit*: the function Keras's `fit` calls per step (`model.make_train_function()`, then
       `model.train_function(iterator)` on a `tf.data` iterator of the same batch), for the configs in `--fit`;
     *bare* (the floor): one plain `tf.function` that computes the same generator and discriminator losses
       (LSGAN, cycle, identity; WGAN-GP with its gradient penalty, double backprop included) from the same network
       calls and takes both groups' gradients — no pools, no metrics, no optimizer update, no schedule. The
       gradients are returned from the function, so nothing is pruned.
     Configurations (`--configs`): ResNet 6 blocks at 128 px (the reference `resnet_6blocks`), the same at 64 px
     with 32 filters (a smaller step, where fixed costs weigh more), U-Net depth 7 (`unet_128`) and U-Net + self-
     attention at 16×16 at 128 px, and WGAN-GP (ResNet 6 blocks at 128 px, or at 64 px with 32 filters) with
     `critic_steps=1` so that every timed step updates both groups, like its bare equivalent.
     `--breakdown CONFIG` adds contenders that split the gap: *bare + Adam* (the bare pass plus both optimizers'
     updates: the floor of a real step), *tfstyle, no pool* (the same model with `pool_size=0`), *tfstyle, constant
     lr* (Adam with a float learning rate instead of the schedule), *bare + fused Adam* (TensorFlow's one-pass
     `ResourceApplyAdam` kernel instead of Keras's element-wise Adam).
  2. The `SelfAttention` block (64 channels by default, batch 1, γ set to 1) at 32², 64² and 128² feature maps:
     the time of one forward+backward pass (gradients of the input and the weights, one `tf.function`), with and
     without `pool_keys`, interleaved; and its peak memory, measured in a fresh subprocess per size (below).

Memory method: `tf.config.experimental.get_memory_info` has no allocator statistics for CPU devices ("Allocator
stats not available for device 'CPU:0'"), so each size runs in its own subprocess, which traces and runs the pass
once, resets the kernel's resident-set high-water mark (`echo 5 > /proc/self/clear_refs`), reads VmRSS, runs the
pass again and reads VmHWM: the peak is VmHWM − VmRSS before the call, i.e. the memory the pass itself needs on top
of what the process already held. Printed next to it: the analytic size of the attention map β, B·N·N'·4 bytes.

Method: everything runs in one process. Each contender is traced and run once (plus `--warmup` untimed calls)
before timing. Rounds run one call of every contender of a section, in an order rotated from round to round; a
ratio is computed within each round (calls seconds apart) and reported as the median over rounds with the min-max
of the per-repetition medians. Each call is timed twice: wall clock, and the process's CPU time (all threads,
`time.process_time`). On a shared machine the wall time of a call swings by tens of percent with the other jobs'
load, while its CPU time, the work done, is steadier: both ratios are reported. Absolute times are context only.

Usage:
    python benchmarks/cyclegan_step.py                          # full run (30+ min on 2 busy cores)
    python benchmarks/cyclegan_step.py --configs resnet6_128,resnet6_64_f32,unet_128,unet_attention_128,\
        wgangp_resnet6_64_f32 --fit resnet6_64_f32 --rounds 4 --repeats 1 --warmup 0 --min-seconds 60
                                                                # reduced run (12–21 min on 2 busy cores)
    python benchmarks/cyclegan_step.py --quick                  # smoke run: tiny configs, 2 rounds (~2 min)
    python benchmarks/cyclegan_step.py --configs resnet6_64_f32 --breakdown resnet6_64_f32 --no-attention
                                                                # where the time goes in one config
    python benchmarks/cyclegan_step.py --markdown docs/benchmarks.md    # also write the section there
TF_CPP_MIN_LOG_LEVEL=2 is set by default.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

SECTION_BEGIN = "<!-- cyclegan_step:begin -->"
SECTION_END = "<!-- cyclegan_step:end -->"
TARGET_OVERHEAD = 1.15
POOL_SIZE = 50

# name -> the step's configuration; `train_cyclegan`'s defaults for everything not given
CONFIGS = {
    "resnet6_128": {"generator": "resnet", "generator_options": {"blocks": 6}, "size": 128},
    "resnet6_64_f32": {"generator": "resnet", "generator_options": {"blocks": 6, "filters": 32},
                       "discriminator_options": {"filters": 32}, "size": 64},
    "unet_128": {"generator": "unet", "generator_options": {"depth": 7}, "size": 128},
    "unet_attention_128": {"generator": "unet_attention", "generator_options": {"depth": 7}, "size": 128},
    "wgangp_resnet6_128": {"generator": "resnet", "generator_options": {"blocks": 6}, "size": 128,
                           "objective": "wgan-gp"},
    "wgangp_resnet6_64_f32": {"generator": "resnet", "generator_options": {"blocks": 6, "filters": 32},
                              "discriminator_options": {"filters": 32}, "size": 64, "objective": "wgan-gp"},
    # smoke-run configurations
    "resnet2_32_f8": {"generator": "resnet", "generator_options": {"blocks": 2, "filters": 8},
                      "discriminator_options": {"filters": 8}, "size": 32},
    "wgangp_resnet2_32_f8": {"generator": "resnet", "generator_options": {"blocks": 2, "filters": 8},
                             "discriminator_options": {"filters": 8}, "size": 32, "objective": "wgan-gp"},
}
DEFAULT_CONFIGS = "resnet6_128,resnet6_64_f32,unet_128,unet_attention_128,wgangp_resnet6_128"
QUICK_CONFIGS = "resnet2_32_f8,wgangp_resnet2_32_f8"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS,
                        help=f"step configurations, comma-separated (default {DEFAULT_CONFIGS}; all: "
                             f"{', '.join(CONFIGS)})")
    parser.add_argument("--fit", default="resnet6_128",
                        help="configurations that also time Keras's fit step function (default resnet6_128; "
                             "'none' for none)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per repetition of each step section (3)")
    parser.add_argument("--repeats", type=int, default=2, help="repetitions of each step section (2)")
    parser.add_argument("--min-seconds", type=float, default=0.0,
                        help="after the planned rounds of a configuration, add repetitions until its timing has "
                             "taken this long: cheap configurations get more rounds (default 0)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed calls of each contender after its first (tracing) call (default 1)")
    parser.add_argument("--breakdown", default="none",
                        help="configurations that get the breakdown contenders (default none)")
    parser.add_argument("--attention-sizes", default="32,64,128",
                        help="feature-map sides of claim 2, comma-separated (default 32,64,128)")
    parser.add_argument("--attention-channels", type=int, default=64, help="channels of claim 2 (default 64)")
    parser.add_argument("--attention-rounds", type=int, default=3, help="rounds of claim 2's timing (default 3)")
    parser.add_argument("--no-attention", dest="attention", action="store_false", help="skip claim 2")
    parser.add_argument("--no-memory", dest="memory", action="store_false",
                        help="skip claim 2's memory subprocesses")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: configs {QUICK_CONFIGS}, 1 repetition x 2 rounds, attention at 32 and 64")
    parser.add_argument("--markdown", metavar="PATH",
                        help="also write the report into PATH, replacing its cyclegan_step section (or appending)")
    parser.add_argument("--attention-memory-probe", nargs=3, metavar=("SIZE", "CHANNELS", "POOL_KEYS"),
                        help=argparse.SUPPRESS)  # internal: one memory measurement, run in a subprocess
    args = parser.parse_args(argv)
    if args.quick:
        args.configs, args.fit, args.breakdown = QUICK_CONFIGS, "resnet2_32_f8", "none"
        args.rounds, args.repeats, args.attention_sizes, args.attention_rounds = 2, 1, "32,64", 2
    args.configs = _names(args.configs)
    args.fit = _names(args.fit)
    args.breakdown = _names(args.breakdown)
    unknown = sorted(set(args.configs + args.fit + args.breakdown) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown configuration(s) {', '.join(unknown)}; choose from {', '.join(CONFIGS)}")
    args.configs += [name for name in args.fit + args.breakdown if name not in args.configs]
    args.attention_sizes = [int(s) for s in args.attention_sizes.split(",") if s.strip()]
    if min(args.rounds, args.repeats, args.attention_rounds, args.attention_channels) < 1 or args.warmup < 0:
        parser.error("need --rounds, --repeats, --attention-rounds and --attention-channels >= 1, --warmup >= 0")
    if args.attention_sizes and min(args.attention_sizes) < 2:
        parser.error("attention sizes must be at least 2")
    return args


def _names(text):
    return [] if text.strip().lower() == "none" else [name.strip() for name in text.split(",") if name.strip()]


# --------------------------------------------------------------------------------------------------------------
# Timing helpers (as in adain_speed.py)
# --------------------------------------------------------------------------------------------------------------


def timed(run):
    """A zero-argument call turned into one that returns its (wall seconds, process CPU seconds)."""

    def call():
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        return time.perf_counter() - wall, time.process_time() - cpu

    return call


def interleave(contenders, rounds, per_rep, min_seconds=0.0):
    """Run `rounds` rounds; each calls every contender once, in an order rotated from round to round.

    After those, whole repetitions of `per_rep` rounds are added while the section has taken less than
    `min_seconds` (cheap configurations then get more rounds). Returns `(wall, cpu)`: `{name: seconds per round}`
    for wall time and for the process's CPU time (all threads).
    """
    names = list(contenders)
    wall = {name: [] for name in names}
    cpu = {name: [] for name in names}
    start = time.perf_counter()
    r = 0
    while r < rounds or (r % per_rep or time.perf_counter() - start < min_seconds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            seconds, cpu_seconds = contenders[name]()
            wall[name].append(seconds)
            cpu[name].append(cpu_seconds)
        r += 1
        if r % per_rep == 0:
            shown = "  ".join(f"{name} {np.median(values[-per_rep:]) * 1e3:.0f} "
                              f"({np.median(cpu[name][-per_rep:]) * 1e3:.0f})" for name, values in wall.items())
            print(f"  repetition {r // per_rep}: ms/call wall (CPU)  {shown}", flush=True)
    return ({name: np.asarray(values) for name, values in wall.items()},
            {name: np.asarray(values) for name, values in cpu.items()})


def ratio(samples, name, reference, per_rep):
    """(median over rounds, min, max of the per-repetition medians) of name/reference taken within each round."""
    per_round = samples[name] / samples[reference]
    per_repetition = np.median(per_round.reshape(-1, per_rep), axis=1)
    return float(np.median(per_round)), float(per_repetition.min()), float(per_repetition.max())


# --------------------------------------------------------------------------------------------------------------
# Claim 1: the training step
# --------------------------------------------------------------------------------------------------------------


def build_networks(config, seed=0):
    """The four networks of a configuration, shared by every contender."""
    import keras

    from tfstyle.cyclegan import build_discriminator, build_generator

    keras.utils.set_random_seed(seed)
    generator_options = config.get("generator_options", {})
    discriminator_options = config.get("discriminator_options", {})
    return {
        "generator_ab": build_generator(config["generator"], name="generator_ab", **generator_options),
        "generator_ba": build_generator(config["generator"], name="generator_ba", **generator_options),
        "discriminator_a": build_discriminator(name="discriminator_a", **discriminator_options),
        "discriminator_b": build_discriminator(name="discriminator_b", **discriminator_options),
    }


def objective_of(config):
    """The adversarial objective; WGAN-GP with one critic step, so that every timed step updates both groups."""
    from tfstyle.losses.adversarial import get_adversarial

    name = config.get("objective", "lsgan")
    return get_adversarial(name, critic_steps=1) if name == "wgan-gp" else get_adversarial(name)


def tfstyle_model(networks, config, pool_size=POOL_SIZE, schedule=True, steps=20000):
    """A CycleGAN on the given networks, built and compiled as `train_cyclegan` builds it."""
    from tfstyle.cyclegan import CycleGAN, LinearDecaySchedule
    from tfstyle.optimizers import FusedAdam

    objective = objective_of(config)
    size = config["size"]
    model = CycleGAN(None, objective=objective, pool_size=pool_size, image_shape=(size, size, 3), seed=0,
                     **networks)
    learning_rate = objective.recommended_optimizer["learning_rate"]
    betas = {key: objective.recommended_optimizer[key] for key in ("beta_1", "beta_2")}

    def rate(steps_per_update=1):
        if not schedule:
            return learning_rate
        return LinearDecaySchedule(learning_rate, steps - steps // 2, steps // 2, steps_per_update=steps_per_update)

    model.compile(generator_optimizer=FusedAdam(rate(model.critic_steps), **betas),
                  discriminator_optimizer=FusedAdam(rate(), **betas))
    return model


def train_cyclegan_step(model):
    """The traced step `train_cyclegan` runs (its `_train_functions`, one replica): batch → logged floats."""
    import tensorflow as tf

    from tfstyle.cyclegan.training import _train_functions

    functions = _train_functions(model, tf.distribute.get_strategy())
    step = functions[None]

    def run(batch):
        return {key: float(value) for key, value in step(batch).items()}

    return run


def fit_step(model, batch):
    """What `fit` calls per step: Keras's train function on an iterator (of the same batch, repeated)."""
    import tensorflow as tf

    model.make_train_function()
    iterator = iter(tf.data.Dataset.from_tensors(batch).repeat())

    def run():
        return {key: float(value) for key, value in model.train_function(iterator).items()}

    return run


def bare_step(networks, config, cycle_weight=10.0, identity_weight=0.5, penalty_weight=10.0):
    """The floor: the same losses and gradients from the same network calls, in one plain tf.function."""
    import tensorflow as tf

    g_ab, g_ba = networks["generator_ab"], networks["generator_ba"]
    d_a, d_b = networks["discriminator_a"], networks["discriminator_b"]
    wgan = config.get("objective", "lsgan") == "wgan-gp"
    generator_variables = g_ab.trainable_variables + g_ba.trainable_variables
    discriminator_variables = d_a.trainable_variables + d_b.trainable_variables

    def generator_adversarial(scores):
        return -tf.reduce_mean(scores) if wgan else tf.reduce_mean(tf.square(scores - 1.0))

    def discriminator_adversarial(real_scores, fake_scores):
        if wgan:
            return tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)
        return 0.5 * (tf.reduce_mean(tf.square(real_scores - 1.0)) + tf.reduce_mean(tf.square(fake_scores)))

    def penalty(critic, real, fake):
        epsilon = tf.random.uniform([tf.shape(real)[0], 1, 1, 1])
        mixed = real + epsilon * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            total = tf.reduce_sum(tf.reduce_mean(critic(mixed, training=True), axis=[1, 2, 3]))
        gradients = tape.gradient(total, mixed)
        norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=[1, 2, 3]) + 1e-12)
        return penalty_weight * tf.reduce_mean(tf.square(norms - 1.0))

    @tf.function(autograph=False)
    def step(a, b):
        a, b = a * 2.0 - 1.0, b * 2.0 - 1.0
        with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
            fake_b, fake_a = g_ab(a, training=True), g_ba(b, training=True)
            generator_loss = (generator_adversarial(d_b(fake_b, training=True))
                              + generator_adversarial(d_a(fake_a, training=True))
                              + cycle_weight * (tf.reduce_mean(tf.abs(g_ba(fake_b, training=True) - a))
                                                + tf.reduce_mean(tf.abs(g_ab(fake_a, training=True) - b)))
                              + identity_weight * cycle_weight * (tf.reduce_mean(tf.abs(g_ba(a, training=True) - a))
                                                                  + tf.reduce_mean(tf.abs(g_ab(b, training=True) - b))))
            fake_a, fake_b = tf.stop_gradient(fake_a), tf.stop_gradient(fake_b)
            discriminator_loss = (discriminator_adversarial(d_a(a, training=True), d_a(fake_a, training=True))
                                  + discriminator_adversarial(d_b(b, training=True), d_b(fake_b, training=True)))
            if wgan:
                discriminator_loss += penalty(d_a, a, fake_a) + penalty(d_b, b, fake_b)
        generator_gradients = generator_tape.gradient(generator_loss, generator_variables)
        discriminator_gradients = discriminator_tape.gradient(discriminator_loss, discriminator_variables)
        return generator_loss, discriminator_loss, generator_gradients, discriminator_gradients

    return step, generator_variables, discriminator_variables


def bare_adam_step(networks, config):
    """The bare pass followed by both groups' Adam updates (constant learning rate): a real step's floor."""
    import keras
    import tensorflow as tf

    step, generator_variables, discriminator_variables = bare_step(networks, config)
    objective = objective_of(config)
    optimizers = [keras.optimizers.Adam(**objective.recommended_optimizer) for _ in range(2)]
    optimizers[0].build(generator_variables)
    optimizers[1].build(discriminator_variables)

    @tf.function(autograph=False)
    def update(a, b):
        generator_loss, discriminator_loss, generator_gradients, discriminator_gradients = step(a, b)
        optimizers[0].apply_gradients(zip(generator_gradients, generator_variables))
        optimizers[1].apply_gradients(zip(discriminator_gradients, discriminator_variables))
        return generator_loss, discriminator_loss

    return update


def bare_fused_adam_step(networks, config):
    """The bare pass followed by TensorFlow's fused Adam kernel (`ResourceApplyAdam`, one pass per variable).

    Keras 3's Adam updates each variable with about ten separate element-wise ops (each a pass over the weights);
    this contender shows what one fused pass would cost instead, on the same variables.
    """
    import tensorflow as tf

    step, generator_variables, discriminator_variables = bare_step(networks, config)
    settings = objective_of(config).recommended_optimizer
    variables = generator_variables + discriminator_variables
    slots = [(tf.Variable(tf.zeros(v.shape), trainable=False), tf.Variable(tf.zeros(v.shape), trainable=False))
             for v in variables]
    iterations = tf.Variable(0.0, trainable=False)

    @tf.function(autograph=False)
    def update(a, b):
        generator_loss, discriminator_loss, generator_gradients, discriminator_gradients = step(a, b)
        t = iterations.assign_add(1.0)
        beta_1, beta_2 = settings["beta_1"], settings["beta_2"]
        for variable, gradient, (m, v) in zip(variables, generator_gradients + discriminator_gradients, slots):
            tf.raw_ops.ResourceApplyAdam(var=variable.handle, m=m.handle, v=v.handle,
                                         beta1_power=tf.pow(beta_1, t), beta2_power=tf.pow(beta_2, t),
                                         lr=settings["learning_rate"], beta1=beta_1, beta2=beta_2, epsilon=1e-7,
                                         grad=gradient)
        return generator_loss, discriminator_loss

    return update


def step_contenders(name, config, with_fit, with_breakdown, warmup_calls=1):
    """Claim 1's contenders for one configuration, each traced and run (`warmup_calls` more calls untimed)."""
    import tensorflow as tf

    size = config["size"]
    rng = np.random.default_rng(0)
    a = tf.constant(rng.random((1, size, size, 3), dtype=np.float32))
    b = tf.constant(rng.random((1, size, size, 3), dtype=np.float32))
    batch = {"a": a, "b": b}
    networks = build_networks(config)
    bare, _, _ = bare_step(networks, config)
    model = tfstyle_model(networks, config)
    tfstyle_run = train_cyclegan_step(model)
    contenders = {
        "bare": lambda: [float(value) for value in bare(a, b)[:2]],
        "tfstyle": lambda: tfstyle_run(batch),
    }
    if with_fit:
        contenders["fit"] = fit_step(tfstyle_model(networks, config), batch)
    if with_breakdown:
        bare_adam = bare_adam_step(networks, config)
        contenders["bare_adam"] = lambda: [float(value) for value in bare_adam(a, b)]
        bare_fused = bare_fused_adam_step(networks, config)
        contenders["bare_fused_adam"] = lambda: [float(value) for value in bare_fused(a, b)]
        no_pool = train_cyclegan_step(tfstyle_model(networks, config, pool_size=0))
        contenders["no_pool"] = lambda: no_pool(batch)
        constant_lr = train_cyclegan_step(tfstyle_model(networks, config, schedule=False))
        contenders["constant_lr"] = lambda: constant_lr(batch)
    warmup = {}
    for key, run in contenders.items():
        start = time.perf_counter()
        run()  # trace and first run
        middle = time.perf_counter()
        for _ in range(warmup_calls):
            run()
        warmup[key] = (middle - start, (time.perf_counter() - middle) / warmup_calls if warmup_calls else None)
    weights = {key: int(sum(int(np.prod(v.shape)) for v in network.trainable_variables))
               for key, network in networks.items()}
    return {key: timed(run) for key, run in contenders.items()}, warmup, weights, model


def claim_steps(args):
    results = []
    for name in args.configs:
        config = CONFIGS[name]
        with_fit, with_breakdown = name in args.fit, name in args.breakdown
        rounds = args.rounds * args.repeats
        print(f"\n== claim 1, {name}: {config} ; {args.repeats} repetitions x {args.rounds} rounds ==", flush=True)
        start = time.perf_counter()
        contenders, warmup, weights, model = step_contenders(name, config, with_fit, with_breakdown, args.warmup)
        setup = time.perf_counter() - start
        print(f"  setup {setup:.0f} s; trace + first call: "
              + ", ".join(f"{key} {t:.1f} s" for key, (t, _) in warmup.items()), flush=True)
        wall, cpu = interleave(contenders, rounds, args.rounds, args.min_seconds)
        rounds = len(wall["bare"])
        pairs = [(key, "bare") for key in wall if key != "bare"]
        if with_breakdown:
            pairs += [(key, "bare_adam") for key in ("tfstyle", "no_pool", "constant_lr", "bare_fused_adam")]
            pairs += [("tfstyle", "no_pool"), ("tfstyle", "constant_lr")]
        result = {
            "name": name, "config": config, "rounds": rounds, "weights": weights, "warmup": warmup,
            "objective": model.objective.name, "critic_steps": model.critic_steps, "pool_size": model.pool_size,
            "seconds": {key: float(np.median(values)) for key, values in wall.items()},
            "cpu_seconds": {key: float(np.median(values)) for key, values in cpu.items()},
            "ratios": {f"{key}/{reference}": ratio(wall, key, reference, args.rounds) for key, reference in pairs},
            "cpu_ratios": {f"{key}/{reference}": ratio(cpu, key, reference, args.rounds) for key, reference in pairs},
        }
        results.append(result)
        del contenders, model
    return results


# --------------------------------------------------------------------------------------------------------------
# Claim 2: the self-attention block
# --------------------------------------------------------------------------------------------------------------


def attention_pass(size, channels, pool_keys):
    """(forward+backward tf.function, input) of one SelfAttention block with γ = 1, batch 1."""
    import tensorflow as tf

    from tfstyle.cyclegan import SelfAttention

    layer = SelfAttention(pool_keys=pool_keys)
    x = tf.constant(np.random.default_rng(0).standard_normal((1, size, size, channels), dtype=np.float32))
    layer.build(x.shape)
    layer.gamma.assign(1.0)  # γ = 0 (the initial value) would make the attention path's weight gradients 0
    variables = layer.trainable_variables

    @tf.function(autograph=False)
    def forward_backward(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_mean(tf.square(layer(x, training=True)))
        return tape.gradient(loss, [x, *variables])

    return forward_backward, x


def attention_map_bytes(size, pool_keys, batch=1):
    n = size * size
    keys = ((size + 1) // 2) ** 2 if pool_keys else n
    return batch * n * keys * 4


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def attention_memory_probe(size, channels, pool_keys):
    """Run in a subprocess: the peak memory of one forward+backward pass; prints one JSON line."""
    import tensorflow as tf  # noqa: F401

    run, x = attention_pass(size, channels, pool_keys)
    baseline = _status("VmRSS")
    start = time.perf_counter()
    _ = [g.numpy() for g in run(x)]  # trace and first run
    first = time.perf_counter() - start
    first_peak = _status("VmHWM") - baseline
    del _
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)
    before = _status("VmRSS")
    _ = [g.numpy() for g in run(x)]
    peak = _status("VmHWM") - before
    print(json.dumps({"size": size, "channels": channels, "pool_keys": pool_keys, "peak": peak,
                      "first_peak": first_peak, "rss_before": before, "first_seconds": first}), flush=True)


def measure_attention_memory(size, channels, pool_keys):
    command = [sys.executable, os.path.abspath(__file__), "--attention-memory-probe", str(size), str(channels),
               "1" if pool_keys else "0"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode or not lines:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
        print(f"  memory probe {size}² pool_keys={pool_keys} failed (exit {completed.returncode}): "
              + " | ".join(tail), flush=True)
        return None
    return json.loads(lines[-1])


def claim_attention(args):
    channels = args.attention_channels
    print(f"\n== claim 2: SelfAttention forward+backward, {channels} channels, batch 1, sizes "
          f"{args.attention_sizes}; {args.attention_rounds} rounds ==", flush=True)
    contenders = {}
    for size in args.attention_sizes:
        for pool_keys in (False, True):
            run, x = attention_pass(size, channels, pool_keys)
            fetch = (lambda run=run, x=x: [g.numpy() for g in run(x)])
            fetch()
            fetch()
            contenders[(size, pool_keys)] = timed(fetch)
    samples, _ = interleave({f"{s}{'p' if p else ''}": run for (s, p), run in contenders.items()},
                            args.attention_rounds, args.attention_rounds)
    rows = []
    for size in args.attention_sizes:
        row = {"size": size, "channels": channels, "rounds": args.attention_rounds,
               "seconds": float(np.median(samples[f"{size}"])),
               "seconds_pooled": float(np.median(samples[f"{size}p"])),
               "map_bytes": attention_map_bytes(size, False), "map_bytes_pooled": attention_map_bytes(size, True),
               "memory": None, "memory_pooled": None}
        if args.memory:
            row["memory"] = measure_attention_memory(size, channels, False)
            row["memory_pooled"] = measure_attention_memory(size, channels, True)
            shown = [f"{(m['peak'] / 2 ** 20):.0f} MiB" if m else "failed"
                     for m in (row["memory"], row["memory_pooled"])]
            print(f"  {size}²: peak above the process's RSS {shown[0]} (pooled keys {shown[1]}); attention map "
                  f"{row['map_bytes'] / 2 ** 20:.1f} MiB ({row['map_bytes_pooled'] / 2 ** 20:.1f} MiB)", flush=True)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------


def fmt_ratio(value):
    mid, low, high = value
    return f"**{mid:.2f}×** ({low:.2f}–{high:.2f})"


def fmt_ms(seconds):
    return f"{seconds * 1e3:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def fmt_bytes(count):
    if count is None:
        return "–"
    for unit, scale in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if abs(count) >= scale:
            return f"{count / scale:.{1 if unit == 'GiB' else 0}f} {unit}"
    return f"{count} B"


def machine_lines():
    import keras
    import tensorflow as tf

    import tfstyle

    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    return [
        f"- machine: {os.cpu_count()} CPU cores ({cpu}), {platform.system()} {platform.machine()}, no GPU used; "
        f"load average at start {load[0]:.1f} (shared machine)",
        f"- software: Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"NumPy {np.__version__}, tfstyle {tfstyle.__version__}",
    ]


def verdict(value):
    return f"{value:.2f}× ({'met' if value <= TARGET_OVERHEAD else 'NOT met'})"


def describe(config):
    generator = config["generator"] + "".join(f", {k} {v}" for k, v in config.get("generator_options", {}).items())
    discriminator = ", ".join(f"{k} {v}" for k, v in config.get("discriminator_options", {}).items()) or "defaults"
    return f"{generator}; PatchGAN {discriminator}"


def report(args, steps, attention, started, machine, command):
    lines = [
        "## CycleGAN training step and self-attention cost (`benchmarks/cyclegan_step.py`)",
        "",
        f"- date: {started:%Y-%m-%d %H:%M}; command: `{command}`",
        *machine,
        "- All contenders run in one process on the same four Keras networks and the same batch (1 image per "
        "domain, random values), interleaved call by call, each traced and run (plus `--warmup` untimed calls) "
        "before timing; a ratio is computed within each round and shown as **median over rounds** (min–max of the "
        "per-repetition medians). Absolute times are medians, context only.",
    ]
    if steps:
        lines += [
            "",
            "Claim 1, one training step. *bare*: one plain `tf.function` computing the same generator and "
            "discriminator losses from the same network calls and both groups' gradients (no pools, metrics, "
            "optimizer updates or schedule): the floor. *tfstyle*: the traced step `train_cyclegan` runs "
            "(`CycleGAN.train_step` under `strategy.run`, image pools of 50, `FusedAdam` with `LinearDecaySchedule` "
            "for both groups, loss trackers, the logged terms fetched as floats). *fit*: Keras's `train_function` on a "
            "`tf.data` iterator, what `fit` runs per step. WGAN-GP runs with `critic_steps=1` (both groups updated at "
            "every step, the penalty's double backprop in both contenders). Times are wall-clock medians; *CPU* "
            "ratios use the process's CPU time (all threads) per call, which depends less on what else the shared "
            "machine runs.",
            "",
            "| config | networks | size | objective | rounds | bare fwd+bwd (floor) | tfstyle step | fit step "
            "| tfstyle / bare | tfstyle / bare, CPU | fit / bare | fit / bare, CPU |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in steps:
            s, q, c = r["seconds"], r["ratios"], r["cpu_ratios"]
            fit = "fit" in s
            lines.append(
                f"| {r['name']} | {describe(r['config'])} | {r['config']['size']} | {r['objective']} | {r['rounds']} "
                f"| {fmt_ms(s['bare'])} | {fmt_ms(s['tfstyle'])} | {fmt_ms(s['fit']) if fit else '–'} "
                f"| {fmt_ratio(q['tfstyle/bare'])} | {fmt_ratio(c['tfstyle/bare'])} "
                f"| {fmt_ratio(q['fit/bare']) if fit else '–'} | {fmt_ratio(c['fit/bare']) if fit else '–'} |")
        verdicts = [f"{r['name']} {verdict(r['ratios']['tfstyle/bare'][0])} wall, "
                    f"{verdict(r['cpu_ratios']['tfstyle/bare'][0])} CPU" for r in steps]
        lines += ["", f"Target: tfstyle step ≤ {TARGET_OVERHEAD:.2f}× the bare pass. " + "; ".join(verdicts) + "."]
        broken = [r for r in steps if "bare_adam" in r["seconds"]]
        if broken:
            lines += [
                "",
                "Breakdown (wall / CPU ratios). *bare + Adam*: the bare pass plus both groups' Keras `Adam` "
                "updates (constant learning rate), the floor of a real step; *no pool*: tfstyle with `pool_size=0`; "
                "*constant lr*: tfstyle with a float learning rate instead of `LinearDecaySchedule`; *bare + fused "
                "Adam*: the bare pass plus TensorFlow's fused `ResourceApplyAdam` kernel on the same variables (one "
                "pass over each weight tensor, where Keras 3's Adam runs about ten element-wise ops).",
                "",
                "| config | bare + Adam | bare + fused Adam | no pool | constant lr | bare + Adam / bare "
                "| bare + fused Adam / bare | tfstyle / bare + Adam | no pool / bare + Adam "
                "| constant lr / bare + Adam | tfstyle / no pool | tfstyle / constant lr |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|",
            ]
            for r in broken:
                s, q, c = r["seconds"], r["ratios"], r["cpu_ratios"]
                cells = [f"{fmt_ratio(q[key])} / {c[key][0]:.2f}×" for key in (
                    "bare_adam/bare", "bare_fused_adam/bare", "tfstyle/bare_adam", "no_pool/bare_adam",
                    "constant_lr/bare_adam", "tfstyle/no_pool", "tfstyle/constant_lr")]
                lines.append(f"| {r['name']} | {fmt_ms(s['bare_adam'])} | {fmt_ms(s['bare_fused_adam'])} | "
                             f"{fmt_ms(s['no_pool'])} | {fmt_ms(s['constant_lr'])} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "Weights (generator / discriminator, each of two) and one-off costs (trace + first call):",
            "",
            "| config | generator weights | discriminator weights | bare: trace + first call "
            "| tfstyle: trace + first call |",
            "|---|---|---|---|---|",
        ]
        for r in steps:
            w, t = r["weights"], r["warmup"]
            lines.append(f"| {r['name']} | {w['generator_ab']:,} | {w['discriminator_a']:,} | "
                         f"{t['bare'][0]:.1f} s | {t['tfstyle'][0]:.1f} s |")
    if attention:
        channels = attention[0]["channels"]
        lines += [
            "",
            f"Claim 2, `SelfAttention` ({channels} channels, reduction 8, batch 1, γ = 1): one forward+backward pass "
            "(gradients of the input and the weights) in a `tf.function`, all sizes and both variants interleaved, "
            f"{attention[0]['rounds']} rounds. *Peak*: the memory the pass needs on top of the process's resident "
            "set, measured in a fresh subprocess per row (trace and run once, reset the RSS high-water mark through "
            "`/proc/self/clear_refs`, run again: VmHWM − VmRSS before the call); "
            "`tf.config.experimental.get_memory_info` has no allocator statistics for CPU devices. *Map*: the "
            "analytic size of the attention map β, N·N'·4 bytes.",
            "",
            "| feature map | N = H·W | fwd+bwd | peak | map β | peak / map | pooled keys: fwd+bwd | pooled: peak "
            "| pooled: map β |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in attention:
            peak = row["memory"]["peak"] if row["memory"] else None
            pooled = row["memory_pooled"]["peak"] if row["memory_pooled"] else None
            per_map = f"{peak / row['map_bytes']:.1f}" if peak else "–"
            lines.append(f"| {row['size']}×{row['size']} | {row['size'] ** 2:,} | {fmt_ms(row['seconds'])} | "
                         f"{fmt_bytes(peak)} | {fmt_bytes(row['map_bytes'])} | {per_map} | "
                         f"{fmt_ms(row['seconds_pooled'])} | {fmt_bytes(pooled)} | "
                         f"{fmt_bytes(row['map_bytes_pooled'])} |")
    return "\n".join(lines) + "\n"


def write_markdown(path, text):
    section = f"{SECTION_BEGIN}\n{text}{SECTION_END}\n"
    old = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = f.read()
    if SECTION_BEGIN in old and SECTION_END in old:
        head, rest = old.split(SECTION_BEGIN, 1)
        tail = rest.split(SECTION_END, 1)[1].lstrip("\n")
        new = head + section + ("\n" + tail if tail else "")
    else:
        new = (old.rstrip("\n") + "\n\n" if old else "# Benchmarks\n\n") + section
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    if args.attention_memory_probe:
        size, channels, pool_keys = args.attention_memory_probe
        attention_memory_probe(int(size), int(channels), pool_keys == "1")
        return
    started = datetime.datetime.now()
    command = " ".join(["python", *map(shlex.quote, [os.path.relpath(sys.argv[0]), *sys.argv[1:]])])
    import tensorflow as tf  # noqa: F401  (import before timing anything)

    machine = machine_lines()
    print("\n".join(machine), flush=True)
    wall = time.perf_counter()
    steps = claim_steps(args)
    attention = claim_attention(args) if args.attention and args.attention_sizes else []
    machine.append(f"- total benchmark wall time {(time.perf_counter() - wall) / 60:.1f} min; load average at end "
                   f"{os.getloadavg()[0]:.1f}")
    text = report(args, steps, attention, started, machine, command)
    print("\n" + text, flush=True)
    if args.markdown:
        write_markdown(args.markdown, text)
        print(f"wrote {args.markdown}", flush=True)


if __name__ == "__main__":
    main()
