"""Benchmark: the cost of one `tfstyle.stylize` optimization step against its floor and against the TF tutorial.

Claim measured (DESIGN.md, "Performance: how it is measured"): a tfstyle Adam step costs at most 1.10x the bare
forward+backward pass of the same pruned backbone at the same size, and is no slower than a plain loop written the
way the TensorFlow style-transfer tutorial writes it. Also measured: the cost of an L-BFGS iteration (and how many
function evaluations it takes), where any extra time goes, and the time Adam and L-BFGS need to reach the same loss.

Everything runs in one process, interleaved step by step, because the machines are shared and noisy: each *round*
runs one step of every contender, in an order rotated from round to round. The tfstyle contenders are real
`tfstyle.stylize` calls running in worker threads that a callback pauses after every step (`SteppedStylize`), so a
round can run one tfstyle step between two reference steps; only one contender computes at any time. A ratio is
taken within each round (steps seconds apart), then summarised by its median over rounds, with the spread of the
per-repetition medians. Absolute times are printed as context only.

Contenders, per image size:
  bare        the pruned FeatureExtractor stylize uses (vgg16_hed up to block5_conv1: content block4_conv2, style
              block1_conv1 ... block5_conv1), forward + gradient of sum(outputs) w.r.t. the image, in a tf.function.
  adam        a `tfstyle.stylize(..., optimizer="adam")` step; its setup, tracing and first 2 steps are excluded.
  lbfgs       a `tfstyle.stylize(..., optimizer="lbfgs")` iteration; function evaluations are counted, and their
              time inside TensorFlow measured, by wrapping `tfstyle.optimize.loop.compile_objective` at run time.
  tutorial    a loop written the way https://www.tensorflow.org/tutorials/generative/style_transfer writes it
              (StyleContentModel returning Grams and content features, tf.Variable image, Adam(0.02, beta_1=0.99,
              epsilon=0.1), @tf.function train_step, clip to [0, 1]), on the same vgg16_hed layers.
  --breakdown sizes add:
  objective   tfstyle's compiled objective alone (PerceptualLoss + TV, value and gradient, `compile_objective`).
  losses      the loss terms alone (Gram/content/TV and their gradients) on fixed features.
  *_einsum    adam, objective and losses traced with the einsum Gram matrix that tfstyle used before commit
              0abd30e (and the tutorial uses), to keep measuring what `tfstyle.ops.gram_matrix`'s matmul with a
              hand-written symmetric gradient saves.
  lbfgs_blas1 the lbfgs contender with NumPy's and SciPy's OpenBLAS limited to 1 thread during its steps (a
              candidate fix for the per-iteration cost of SciPy's L-BFGS-B on a busy machine).
The library's files are never modified: the wrappers, the einsum Gram and the BLAS limit act in this process only.

Time to loss: at one size (256 by default) tfstyle runs with L-BFGS and with Adam (default weights, content init)
from the same image, advanced alternately (the run that has used less time takes the next step); reported is when
each first reaches the target loss = the worse of the two best losses reached (the loss the weaker run ends at),
and 2x that, in seconds of its own steps and in forward+backward evaluations.

Usage:
    python benchmarks/optimize_step.py                                # default run (8-12 min on 2 shared cores)
    python benchmarks/optimize_step.py --quick                        # 256 px only, few rounds (1.5-3 min)
    python benchmarks/optimize_step.py --markdown docs/benchmarks.md  # also write the section there
TFSTYLE_OFFLINE=1 is set by default (the offline backbone vgg16_hed needs no download).
"""

import argparse
import contextlib
import datetime
import os
import platform
import shlex
import sys
import threading
import time

os.environ.setdefault("TFSTYLE_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

SECTION_BEGIN = "<!-- optimize_step:begin -->"
SECTION_END = "<!-- optimize_step:end -->"
WARMUP_STEPS = 2  # tfstyle steps excluded from the steady state (tracing, first line search)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="256,512", help="comma-separated long sides in pixels (default 256,512)")
    parser.add_argument("--steps", type=int, default=4,
                        help="timed steps per contender per repetition (rounds per repetition) at 256 px; larger "
                             "sizes use max(--min-steps, steps*(256/size)^2) (default 4)")
    parser.add_argument("--min-steps", type=int, default=2, help="fewest rounds per repetition (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--content", default="sample:astronaut")
    parser.add_argument("--style", default="sample:waves")
    parser.add_argument("--backbone", default="vgg16_hed")
    parser.add_argument("--breakdown", default="256",
                        help="sizes at which the breakdown contenders (objective alone, loss terms alone, both with "
                             "the einsum Gram, L-BFGS with 1 BLAS thread) also run, "
                             "comma-separated, 'all' or 'none' (default 256)")
    parser.add_argument("--time-to-loss", action=argparse.BooleanOptionalAction, default=True,
                        help="run the time-to-reach-the-same-loss section (default on)")
    parser.add_argument("--ttl-size", type=int, default=256)
    parser.add_argument("--ttl-lbfgs-steps", type=int, default=30, help="L-BFGS iterations (default 30)")
    parser.add_argument("--ttl-adam-steps", type=int, default=70, help="Adam steps (default 70)")
    parser.add_argument("--quick", action="store_true",
                        help="256 px only, 2 repetitions x 3 rounds, no breakdown, short time-to-loss runs")
    parser.add_argument("--markdown", metavar="PATH",
                        help="also write the report into PATH, replacing its optimize_step section (or appending)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.steps, args.min_steps, args.repeats, args.breakdown = "256", 3, 2, 2, "none"
        args.ttl_lbfgs_steps, args.ttl_adam_steps = 10, 25
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.breakdown == "all":
        args.breakdown = set(args.sizes)
    elif args.breakdown == "none":
        args.breakdown = set()
    else:
        args.breakdown = {int(s) for s in args.breakdown.split(",") if s.strip()}
    if args.steps < 1 or args.min_steps < 1 or args.repeats < 1:
        parser.error("need --steps, --min-steps and --repeats >= 1")
    return args


def steps_for(args, size):
    return max(args.min_steps, round(args.steps * (256 / size) ** 2))


# --------------------------------------------------------------------------------------------------------------
# Instrumentation of the library's loop (run-time wrappers only; tfstyle's files are not modified)
# --------------------------------------------------------------------------------------------------------------


class Probe:
    """What the wrappers saw during one stylize call (one worker thread)."""

    def __init__(self):
        self.evals = 0            # calls of the compiled value-and-gradient function (L-BFGS)
        self.tf_seconds = 0.0     # seconds spent inside it
        self.floats_at = None     # perf_counter when the loop last started converting terms (Adam: compute done)


_PROBES = {}  # worker thread id -> Probe


@contextlib.contextmanager
def instrumented_loop():
    """Wrap `compile_objective` and `to_floats` in tfstyle's loop module; each call reports to its thread's Probe.

    Installed once for the whole benchmark (several stylize calls run in paused worker threads at the same time).
    """
    from tfstyle.optimize import loop

    original_compile, original_to_floats = loop.compile_objective, loop.to_floats

    def compile_objective(objective, shape, *args, **kwargs):
        value_and_gradient = original_compile(objective, shape, *args, **kwargs)

        def counted(image):
            start = time.perf_counter()
            result = value_and_gradient(image)
            probe = _PROBES.get(threading.get_ident())
            if probe is not None:
                probe.tf_seconds += time.perf_counter() - start
                probe.evals += 1
            return result

        return counted

    def to_floats(terms):
        probe = _PROBES.get(threading.get_ident())
        if probe is not None:
            probe.floats_at = time.perf_counter()
        return original_to_floats(terms)

    loop.compile_objective, loop.to_floats = compile_objective, to_floats
    try:
        yield
    finally:
        loop.compile_objective, loop.to_floats = original_compile, original_to_floats


class _Stop(KeyboardInterrupt):
    """Ends a paused stylize call early through the loop's Ctrl-C path (it returns the current result)."""


class SteppedStylize:
    """A `tfstyle.stylize` call in a worker thread that pauses after every step until `step()` lets it go on.

    This is how tfstyle is interleaved step by step with the other contenders: a round runs one step of each.
    A step is timed from the moment the loop is released to its `on_step` callback (the callback's own waiting
    is excluded); the first step is timed from the loop's start (it includes tracing).
    """

    def __init__(self, ctx, size, optimizer, steps, einsum=False):
        self.ctx, self.size, self.optimizer, self.steps, self.einsum = ctx, size, optimizer, steps, einsum
        self.probe = Probe()
        self.durations, self.losses, self.evals_at, self.tf_at, self.post = [], [], [], [], []
        self.setup = None
        self.info = None
        self.error = None
        self.finished = False
        self._go, self._done = threading.Semaphore(0), threading.Semaphore(0)
        self._stop = False
        self._thread = None

    def start(self):
        """Start the call and return once its first step (setup and tracing included) is done."""
        with einsum_gram(self.einsum):  # the variant must be in place while the worker traces its step
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
            self._wait()
        if self.finished:
            raise RuntimeError(f"{self.optimizer} ended before its first step: {self.error!r}")

    def step(self):
        """Run one more step; its seconds, or None when the call has ended."""
        if self.finished:
            return None
        count = len(self.durations)
        self._go.release()
        self._wait()
        return self.durations[-1] if len(self.durations) > count else None

    def close(self):
        """Stop the call (through the loop's interrupt path) and wait for its thread."""
        if self._thread is None:
            return
        self._stop = True
        while not self.finished:
            self._go.release()
            self._done.acquire()
        self._thread.join()

    def _wait(self):
        self._done.acquire()
        if self.error is not None:
            raise RuntimeError(f"stylize ({self.optimizer}, {self.size} px) failed") from self.error

    def _run(self):
        import tfstyle
        from tfstyle.optimize.callbacks import Callback

        stepper = self
        call_start = time.perf_counter()

        class Pause(Callback):
            def on_begin(self, steps):
                self.released = time.perf_counter()
                stepper.setup = self.released - call_start

            def on_step(self, info):
                end = time.perf_counter()
                probe = stepper.probe
                stepper.durations.append(end - self.released)
                stepper.losses.append(info.terms["total"])
                stepper.evals_at.append(probe.evals)
                stepper.tf_at.append(probe.tf_seconds)
                stepper.post.append(end - probe.floats_at if probe.floats_at is not None else float("nan"))
                stepper._done.release()
                stepper._go.acquire()
                if stepper._stop:
                    raise _Stop
                self.released = time.perf_counter()

        _PROBES[threading.get_ident()] = self.probe
        try:
            result = tfstyle.stylize(self.ctx.content, self.ctx.style, size=self.size, steps=self.steps,
                                     optimizer=self.optimizer, backbone=self.ctx.backbone, progress=False,
                                     verbose=False, callbacks=[Pause()])
            self.info = result.info
        except BaseException as error:  # reported to the main thread by _wait
            self.error = error
        finally:
            _PROBES.pop(threading.get_ident(), None)
            self.finished = True
            self._done.release()


def _openblas_controls():
    """(get, set) thread-count functions of every OpenBLAS loaded in this process (NumPy's and SciPy's copies).

    Found through /proc/self/maps and ctypes (what threadpoolctl does; it is not installed here). Empty when the
    platform does not say which libraries are loaded.
    """
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f
                            if "openblas" in line.lower() and line.split()[-1].startswith("/")})
    except OSError:
        return []
    controls = []
    for path in paths:
        library = ctypes.CDLL(path)
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                get = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    controls.append((get, set_))
                    break
            else:
                continue
            break
    return controls


@contextlib.contextmanager
def blas_threads(count):
    """Limit every loaded OpenBLAS to `count` threads inside the block (process-wide; one contender runs at a time)."""
    controls = _openblas_controls()
    previous = [get() for get, _ in controls]
    for _, set_ in controls:
        set_(count)
    try:
        yield
    finally:
        for (_, set_), value in zip(controls, previous):
            set_(value)


class WithBlasThreads:
    """A contender whose steps run with OpenBLAS limited to `count` threads (a candidate fix for L-BFGS)."""

    def __init__(self, inner, count=1):
        self.inner, self.count = inner, count

    def start(self):
        with blas_threads(self.count):
            self.inner.start()

    def step(self):
        with blas_threads(self.count):
            return self.inner.step()

    def close(self):
        self.inner.close()


class SteppedCall:
    """A plain reference (a zero-argument function, already traced) with the same `start/step/close` surface."""

    def __init__(self, run):
        self.run = run

    def start(self):
        self.run()  # one untimed call after tracing

    def step(self):
        start = time.perf_counter()
        self.run()
        return time.perf_counter() - start

    def close(self):
        pass


# --------------------------------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------------------------------


class Context:
    def __init__(self, args):
        from tfstyle.io import load_image
        from tfstyle.optimize.stylize import _layers

        self.args = args
        self.backbone = args.backbone
        self.content = args.content
        self.style = args.style
        self.content_full = load_image(args.content)
        self.style_full = load_image(args.style)
        self.layers = _layers(args.backbone, None, None)  # stylize's own default layer set, in network order
        self.spec = __import__("tfstyle.backbones", fromlist=["get_spec"]).get_spec(args.backbone)

    def extractor(self):
        """The FeatureExtractor instance stylize uses (stylize caches it per backbone, weights, pooling, layers)."""
        from tfstyle.optimize.stylize import DEFAULTS, _extractor

        return _extractor(self.backbone, DEFAULTS["weights"], DEFAULTS["pooling"], self.layers)

    def images(self, size):
        from tfstyle.io import resize_image

        return (resize_image(self.content_full, long_side=size)[None],
                resize_image(self.style_full, long_side=size)[None])


def build_bare(ctx, size, jit_compile=False):
    """The bare forward + backward pass of stylize's pruned backbone (with `jit_compile=True`: compiled by XLA)."""
    import tensorflow as tf

    extractor = ctx.extractor()
    content, _ = ctx.images(size)
    image = tf.constant(content)

    @tf.function(input_signature=[tf.TensorSpec(content.shape, tf.float32)], jit_compile=jit_compile)
    def bare(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            features = extractor(x)
            total = tf.add_n([tf.reduce_sum(value) for value in features.values()])
        return total, tape.gradient(total, x)

    def run():
        total, _ = bare(image)
        total.numpy()

    run()  # trace
    return run


def _gram_einsum(x, normalize=True):
    """The Gram matrix as tfstyle computed it before commit 0abd30e, and as the TF tutorial does: one einsum.

    Autodiff then differentiates each operand of `einsum("bhwc,bhwd->bcd", x, x)` separately (two large products
    plus transposes of the feature map), where the library now runs one matmul with the symmetric gradient.
    """
    from keras import ops

    x = ops.convert_to_tensor(x)
    gram = ops.einsum("bhwc,bhwd->bcd", x, x)
    if normalize:
        shape = ops.shape(x)
        gram = gram / ops.cast(shape[1] * shape[2], gram.dtype)
    return gram


@contextlib.contextmanager
def einsum_gram(enabled):
    """Temporarily route tfstyle's Gram style loss through `_gram_einsum` (in this process only)."""
    if not enabled:
        yield
        return
    import tfstyle.losses.style as style_module

    original = style_module.gram_matrix
    style_module.gram_matrix = _gram_einsum
    try:
        yield
    finally:
        style_module.gram_matrix = original


def build_objective(ctx, size, einsum=False, jit_compile=None):
    """tfstyle's objective (as stylize builds it, with its defaults) and the loss terms alone on fixed features.

    With `einsum=True` the same, traced with the einsum Gram (`_gram_einsum`). `jit_compile` is passed to
    `compile_objective` (None: its default).
    """
    with einsum_gram(einsum):
        return _build_objective(ctx, size, jit_compile)


def _build_objective(ctx, size, jit_compile):
    import tensorflow as tf

    from tfstyle import ops
    from tfstyle.losses.perceptual import PerceptualLoss
    from tfstyle.losses.style import GramStyleLoss
    from tfstyle.optimize.loop import compile_objective
    from tfstyle.optimize.stylize import LOSS_DEFAULTS

    extractor = ctx.extractor()
    content, style = ctx.images(size)
    criterion = PerceptualLoss(extractor, None, None, style_loss=GramStyleLoss(),
                               content_weight=LOSS_DEFAULTS["vgg16_hed"]["content_weight"],
                               style_weight=LOSS_DEFAULTS["vgg16_hed"]["style_weight"])
    criterion.set_content(content)
    criterion.set_styles([style])

    def objective(image):
        terms = criterion(image)
        terms["tv"] = LOSS_DEFAULTS["vgg16_hed"]["tv_weight"] * ops.total_variation(image)[0]
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        return terms

    value_and_gradient = compile_objective(objective, content.shape,
                                           **({} if jit_compile is None else {"jit_compile": jit_compile}))
    image = tf.constant(content)

    def run_objective():
        terms, _ = value_and_gradient(image)
        terms["total"].numpy()

    # The loss terms alone: fixed features (of a slightly perturbed content image, so content terms are non-zero).
    noisy = tf.constant(np.clip(content + np.random.default_rng(0).normal(0, 0.05, content.shape), 0, 1)
                        .astype(np.float32))
    features = {name: tf.identity(value) for name, value in extractor(noisy).items()}

    @tf.function
    def losses_only(features, image):
        sources = [*features.values(), image]
        with tf.GradientTape() as tape:
            tape.watch(sources)
            terms = criterion(None, features=features)
            tv = LOSS_DEFAULTS["vgg16_hed"]["tv_weight"] * ops.total_variation(image)[0]
            total = terms["content"] + terms["style"] + tv
        return total, tape.gradient(total, sources)

    def run_losses():
        total, _ = losses_only(features, noisy)
        total.numpy()

    run_objective()
    run_losses()
    run_objective.value_and_gradient = value_and_gradient
    return run_objective, run_losses


def build_tutorial(ctx, size):
    """The TensorFlow style-transfer tutorial's loop, on vgg16_hed (its preprocessing, its layers)."""
    import keras
    import tensorflow as tf

    from tfstyle.backbones import build_backbone
    from tfstyle.backbones.preprocessing import HED_BGR_MEAN

    content_layers = list(ctx.spec.content_layers)
    style_layers = list(ctx.spec.style_layers)

    def vgg_layers(layer_names):
        vgg = build_backbone(ctx.backbone)
        vgg.trainable = False
        outputs = [vgg.get_layer(name).output for name in layer_names]
        return keras.Model([vgg.input], outputs)

    def gram_matrix(input_tensor):
        result = tf.linalg.einsum("bijc,bijd->bcd", input_tensor, input_tensor)
        input_shape = tf.shape(input_tensor)
        num_locations = tf.cast(input_shape[1] * input_shape[2], tf.float32)
        return result / num_locations

    def preprocess_input(x):
        # HED's "caffe" preprocessing: RGB in [0, 255] -> BGR minus the HED training mean.
        return tf.reverse(x, axis=[-1]) - tf.constant(HED_BGR_MEAN, tf.float32)

    class StyleContentModel(keras.Model):
        def __init__(self, style_layers, content_layers):
            super().__init__()
            self.vgg = vgg_layers(style_layers + content_layers)
            self.style_layers = style_layers
            self.content_layers = content_layers
            self.num_style_layers = len(style_layers)
            self.vgg.trainable = False

        def call(self, inputs):
            inputs = inputs * 255.0
            preprocessed_input = preprocess_input(inputs)
            outputs = self.vgg(preprocessed_input)
            style_outputs, content_outputs = (outputs[:self.num_style_layers], outputs[self.num_style_layers:])
            style_outputs = [gram_matrix(style_output) for style_output in style_outputs]
            content_dict = {name: value for name, value in zip(self.content_layers, content_outputs)}
            style_dict = {name: value for name, value in zip(self.style_layers, style_outputs)}
            return {"content": content_dict, "style": style_dict}

    content_image, style_image = ctx.images(size)
    extractor = StyleContentModel(style_layers, content_layers)
    style_targets = extractor(tf.constant(style_image))["style"]
    content_targets = extractor(tf.constant(content_image))["content"]
    image = tf.Variable(content_image)
    opt = tf.optimizers.Adam(learning_rate=0.02, beta_1=0.99, epsilon=1e-1)
    style_weight, content_weight = 1e-2, 1e4
    num_style_layers, num_content_layers = len(style_layers), len(content_layers)

    def clip_0_1(image):
        return tf.clip_by_value(image, clip_value_min=0.0, clip_value_max=1.0)

    def style_content_loss(outputs):
        style_outputs = outputs["style"]
        content_outputs = outputs["content"]
        style_loss = tf.add_n([tf.reduce_mean((style_outputs[name] - style_targets[name]) ** 2)
                               for name in style_outputs.keys()])
        style_loss *= style_weight / num_style_layers
        content_loss = tf.add_n([tf.reduce_mean((content_outputs[name] - content_targets[name]) ** 2)
                                 for name in content_outputs.keys()])
        content_loss *= content_weight / num_content_layers
        return style_loss + content_loss

    @tf.function()
    def train_step(image):
        with tf.GradientTape() as tape:
            outputs = extractor(image)
            loss = style_content_loss(outputs)
        grad = tape.gradient(loss, image)
        opt.apply_gradients([(grad, image)])
        image.assign(clip_0_1(image))
        return loss

    def run():
        train_step(image).numpy()  # one scalar fetched per step, to time each step on its own

    run()  # trace
    return run


def scipy_lbfgsb_overhead(n, iterations=12, memory=20):
    """Seconds per iteration of SciPy's L-BFGS-B alone at n variables with bounds [0, 1] (a cheap quadratic),
    excluding the time of the function itself."""
    from scipy.optimize import Bounds, minimize

    # Like the real problem: start from an image in [0, 1], optimum nearby, few bounds active.
    rng = np.random.default_rng(0)
    start = rng.uniform(0, 1, n)
    centre = start + rng.normal(0, 0.05, n)
    curvature = np.exp(rng.uniform(0, np.log(1e3), n))
    stamps, fun_seconds = [], [0.0]

    def fun(x):
        start = time.perf_counter()
        d = x - centre
        value, grad = 0.5 * float(np.dot(curvature * d, d)), curvature * d
        fun_seconds[0] += time.perf_counter() - start
        return value, grad

    def callback(intermediate_result):
        stamps.append((time.perf_counter(), fun_seconds[0]))

    minimize(fun, start, jac=True, method="L-BFGS-B", bounds=Bounds(0.0, 1.0), callback=callback,
             options={"maxiter": iterations, "maxfun": 2 * iterations + 20, "maxcor": memory, "ftol": 0.0,
                      "gtol": 0.0})
    if len(stamps) < 4:
        return float("nan")
    times = np.diff([s[0] for s in stamps[1:]])
    funs = np.diff([s[1] for s in stamps[1:]])
    return float(np.median(times - funs))


def conversion_overhead(shape, repeats=20):
    """Seconds of one evaluation's host conversions on the L-BFGS path (float64 x -> float32 tensor, and back)."""
    import tensorflow as tf

    x = np.random.default_rng(0).uniform(0, 1, int(np.prod(shape)))
    gradient = tf.constant(np.zeros(shape, np.float32))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.constant(x.reshape(shape), tf.float32)
        gradient.numpy().astype(np.float64).ravel()
        x.reshape(shape)[0].astype(np.float32)  # the copy `record` makes of the accepted point
        samples.append(time.perf_counter() - start)
    return float(np.median(samples))


# --------------------------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------------------------


def bench_size(ctx, size):
    """Every contender at one size, interleaved step by step: each round runs one step of each, in a rotated order."""
    args = ctx.args
    per_rep = steps_for(args, size)
    rounds = per_rep * args.repeats
    breakdown = size in args.breakdown
    print(f"\n== {size} px: {args.repeats} repetitions x {per_rep} rounds; each round runs one step of every "
          f"contender ==", flush=True)
    setup_start = time.perf_counter()
    planned = WARMUP_STEPS + rounds + 1  # the calls are stopped after the last round
    contenders = {"bare": SteppedCall(build_bare(ctx, size)),
                  "adam": SteppedStylize(ctx, size, "adam", planned),
                  "lbfgs": SteppedStylize(ctx, size, "lbfgs", planned),
                  "tutorial": SteppedCall(build_tutorial(ctx, size))}
    if breakdown:
        objective, losses = build_objective(ctx, size)
        objective_einsum, losses_einsum = build_objective(ctx, size, einsum=True)
        contenders.update(objective=SteppedCall(objective), losses=SteppedCall(losses),
                          adam_einsum=SteppedStylize(ctx, size, "adam", planned, einsum=True),
                          objective_einsum=SteppedCall(objective_einsum), losses_einsum=SteppedCall(losses_einsum),
                          lbfgs_blas1=WithBlasThreads(SteppedStylize(ctx, size, "lbfgs", planned)))
    names = list(contenders)
    samples = {name: [] for name in names}
    try:
        for contender in contenders.values():
            contender.start()
            if isinstance(getattr(contender, "inner", contender), SteppedStylize):
                for _ in range(WARMUP_STEPS - 1):
                    contender.step()
        print(f"  setup (build, trace, stylize setup and {WARMUP_STEPS} warm-up steps) "
              f"{time.perf_counter() - setup_start:.0f} s", flush=True)
        for r in range(rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                seconds = contenders[name].step()
                if seconds is None:
                    raise RuntimeError(f"{name} ended before round {r + 1}")
                samples[name].append(seconds)
            if (r + 1) % per_rep == 0:
                chunk = {name: np.median(values[-per_rep:]) for name, values in samples.items()}
                shown = "  ".join(f"{name} {1e3 * chunk[name]:.0f}" for name in names)
                print(f"  repetition {(r + 1) // per_rep}: ms/step  {shown}", flush=True)
    finally:
        for contender in contenders.values():
            contender.close()
    stylized = {name: getattr(c, "inner", c) for name, c in contenders.items()
                if isinstance(getattr(c, "inner", c), SteppedStylize)}
    return {"size": size, "per_rep": per_rep, "rounds": rounds,
            "samples": {name: np.asarray(values) for name, values in samples.items()}, "stylized": stylized}


def summarise(result):
    """Medians over rounds; ratios per round, as median over rounds (min–max of the per-repetition medians)."""
    samples, per_rep, rounds = result["samples"], result["per_rep"], result["rounds"]
    timed = slice(WARMUP_STEPS, WARMUP_STEPS + rounds)  # the rounds' steps in a SteppedStylize's lists

    def ratio(values, reference="bare"):
        if values is None or reference not in samples:
            return None
        per_round = np.asarray(values) / samples[reference]
        per_repetition = np.median(per_round.reshape(-1, per_rep), axis=1)
        return float(np.median(per_round)), float(per_repetition.min()), float(per_repetition.max())

    summary = {name: float(np.median(values)) for name, values in samples.items()}

    def lbfgs_split(name):
        """(evaluations, seconds inside TF) of each timed iteration of an L-BFGS contender."""
        run = result["stylized"][name]
        return (np.diff(run.evals_at)[timed.start - 1:timed.stop - 1],
                np.diff(run.tf_at)[timed.start - 1:timed.stop - 1])

    evals, tf_time = lbfgs_split("lbfgs")
    iteration = samples["lbfgs"]
    summary.update(
        evals_per_iter=float(evals.mean()),
        tf_per_eval=float(np.median(tf_time / evals)),
        outside_tf_per_iter=float(np.median(iteration - tf_time)),
        python_after_compute=float(np.nanmedian(result["stylized"]["adam"].post[timed])),
    )
    blas1 = tf_eval_1 = None
    if "lbfgs_blas1" in samples:
        evals_1, tf_time_1 = lbfgs_split("lbfgs_blas1")
        summary["outside_tf_per_iter_blas1"] = float(np.median(samples["lbfgs_blas1"] - tf_time_1))
        blas1 = samples["lbfgs_blas1"]
        tf_eval_1 = tf_time_1 / evals_1
    for name in ("adam", "lbfgs"):
        summary[f"{name}_setup"] = result["stylized"][name].setup
        summary[f"{name}_first_step"] = result["stylized"][name].durations[0]
    get = samples.get
    summary["ratios"] = {
        "adam/bare": ratio(get("adam")),
        "lbfgs/bare": ratio(get("lbfgs")),
        "lbfgs_eval/bare": ratio(iteration / evals),
        "lbfgs_tf_eval/bare": ratio(tf_time / evals),
        "tutorial/bare": ratio(get("tutorial")),
        "adam/tutorial": ratio(get("adam"), "tutorial"),
        "objective/bare": ratio(get("objective")),
        "losses/bare": ratio(get("losses")),
        "lbfgs_blas1/bare": ratio(blas1),
        "lbfgs_blas1/lbfgs": ratio(blas1, "lbfgs"),
        "lbfgs_blas1_tf_eval/bare": ratio(tf_eval_1),
        "adam_einsum/bare": ratio(get("adam_einsum")),
        "adam/adam_einsum": ratio(get("adam"), "adam_einsum"),
        "objective_einsum/bare": ratio(get("objective_einsum")),
        "losses_einsum/bare": ratio(get("losses_einsum")),
    }
    return summary


def time_to_loss(ctx):
    """Adam and L-BFGS from the same start, advanced alternately so both see the same machine conditions.

    At each turn the run that has used less time so far takes one step; a run's time is the sum of its own steps
    (the first includes tracing), so the waiting while the other run works is not counted.
    """
    args = ctx.args
    size = args.ttl_size
    print(f"\n== time to loss at {size} px: L-BFGS {args.ttl_lbfgs_steps} iterations and Adam "
          f"{args.ttl_adam_steps} steps, interleaved ==", flush=True)
    runs = {"lbfgs": SteppedStylize(ctx, size, "lbfgs", args.ttl_lbfgs_steps),
            "adam": SteppedStylize(ctx, size, "adam", args.ttl_adam_steps)}
    try:
        for run in runs.values():
            run.start()
        while True:
            active = [run for run in runs.values() if not run.finished and len(run.durations) < run.steps]
            if not active:
                break
            min(active, key=lambda run: sum(run.durations)).step()
    finally:
        for run in runs.values():
            run.close()
    best = {name: min(run.losses) for name, run in runs.items()}
    target = max(best.values())
    rows = []
    for name, run in runs.items():
        elapsed = np.cumsum(run.durations)
        evals = run.evals_at if name == "lbfgs" else list(range(1, len(run.losses) + 1))
        row = {"optimizer": name, "steps": len(run.losses), "best": best[name], "seconds": float(elapsed[-1]),
               "evals": evals[-1], "first_step": run.durations[0]}
        for label, level in (("1x", target), ("2x", 2 * target)):
            hit = next((i for i, loss in enumerate(run.losses) if loss <= level * (1 + 1e-9)), None)
            row[label] = None if hit is None else (float(elapsed[hit]), hit + 1, evals[hit])
        rows.append(row)
        print(f"  {name}: {row['steps']} steps, best loss {row['best']:.4g}, {row['seconds']:.0f} s of its own "
              f"steps", flush=True)
    return {"size": size, "target": target, "rows": rows}


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------


def fmt_ratio(value):
    if value is None:
        return "–"
    mid, low, high = value
    return f"**{mid:.2f}×** ({low:.2f}–{high:.2f})"


def fmt_ms(seconds):
    return "–" if seconds is None or not np.isfinite(seconds) else f"{1e3 * seconds:.0f} ms"


def machine_lines():
    import keras
    import scipy
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
        f"NumPy {np.__version__}, SciPy {scipy.__version__}, tfstyle {tfstyle.__version__}",
    ]


def report(ctx, results, summaries, ttl, started, machine, command):
    args = ctx.args
    lines = [
        "## Optimization step: tfstyle vs the bare pass and the TF tutorial (`benchmarks/optimize_step.py`)",
        "",
        f"- date: {started:%Y-%m-%d %H:%M}; command: `{command}`",
        *machine,
        f"- backbone {args.backbone} (layers {', '.join(ctx.layers)}); content `{args.content}`, style "
        f"`{args.style}`. All contenders run in one process, interleaved step by step: each *round* runs one step "
        "of every contender in a rotated order (the tfstyle calls run in worker threads paused between steps; their "
        f"setup, tracing and first {WARMUP_STEPS} steps are excluded). Times are medians over the rounds; a ratio "
        "is computed within each round and shown as **median over rounds** (min–max of the per-repetition "
        "medians).",
        "",
        "| size | rounds | bare fwd+bwd (floor) | tfstyle Adam step | tfstyle L-BFGS iteration (evals/iter) "
        "| TF-tutorial step | Adam / bare | L-BFGS iter / bare | tutorial / bare | Adam / tutorial |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result, s in zip(results, summaries):
        r = s["ratios"]
        lines.append(
            f"| {result['size']} | {result['rounds']} | {fmt_ms(s['bare'])} | {fmt_ms(s['adam'])} | "
            f"{fmt_ms(s['lbfgs'])} ({s['evals_per_iter']:.2f}) | {fmt_ms(s['tutorial'])} | "
            f"{fmt_ratio(r['adam/bare'])} | {fmt_ratio(r['lbfgs/bare'])} | {fmt_ratio(r['tutorial/bare'])} | "
            f"{fmt_ratio(r['adam/tutorial'])} |")
    lines += ["", "Target: tfstyle Adam step ≤ 1.10× the bare pass. "
              + "; ".join(f"{res['size']} px: {s['ratios']['adam/bare'][0]:.2f}× "
                          f"({'met' if s['ratios']['adam/bare'][0] <= 1.10 else 'NOT met'})"
                          for res, s in zip(results, summaries)) + "."]
    if any(s["ratios"]["objective/bare"] for s in summaries):
        lines += [
            "",
            "Where the time goes (same rounds; contenders that only run with `--breakdown`). *objective*: tfstyle's "
            "compiled PerceptualLoss + TV value-and-gradient alone (`compile_objective`, no optimizer, no Python "
            "loop); *loss terms*: the Gram/content/TV terms and their gradients on fixed features (no backbone); "
            "*einsum*: the same, or the whole `stylize` Adam step, traced with the einsum Gram tfstyle used "
            "before commit 0abd30e (and the tutorial uses) instead of `tfstyle.ops.gram_matrix` (one matmul with a "
            "hand-written symmetric gradient).",
            "",
            "| size | objective / bare | loss terms / bare | Adam (einsum Gram) / bare | Adam / Adam (einsum Gram) "
            "| objective (einsum) / bare | loss terms (einsum) / bare |",
            "|---|---|---|---|---|---|---|",
        ]
        for result, s in zip(results, summaries):
            r = s["ratios"]
            if r["objective/bare"] is None:
                continue
            lines.append(
                f"| {result['size']} | {fmt_ratio(r['objective/bare'])} | {fmt_ratio(r['losses/bare'])} | "
                f"{fmt_ratio(r['adam_einsum/bare'])} | {fmt_ratio(r['adam/adam_einsum'])} | "
                f"{fmt_ratio(r['objective_einsum/bare'])} | {fmt_ratio(r['losses_einsum/bare'])} |")
    lines += [
        "",
        "Loop overheads. *Adam Python*: per step, from the end of the compiled step to the callback (terms to "
        "floats, image copy, history). *L-BFGS*: per evaluation, the iteration time divided by its evaluations and "
        "the time inside the compiled function alone, both relative to the bare pass; *outside TF*: per iteration, "
        "the time not spent in the compiled function (SciPy's L-BFGS-B, float64↔float32 conversions, history); "
        "*SciPy alone*: L-BFGS-B's own cost per iteration at the same number of variables (a cheap quadratic, "
        "memory 20, bounds [0, 1]); *conversions*: one evaluation's host copies. *1 BLAS thread*: the same with "
        "NumPy's and SciPy's OpenBLAS limited to one thread around each step (with `--breakdown`: a second "
        "`stylize` L-BFGS call in the same rounds), a candidate fix.",
        "",
        "| size | Adam Python per step | L-BFGS per eval / bare | in-TF per eval / bare | outside TF per iter "
        "| SciPy alone per iter | conversions per eval | L-BFGS iter, 1 BLAS thread / bare "
        "| … / L-BFGS iter | in-TF per eval, 1 BLAS thread / bare | outside TF per iter, 1 BLAS thread "
        "| SciPy alone, 1 BLAS thread |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result, s in zip(results, summaries):
        r = s["ratios"]
        lines.append(
            f"| {result['size']} | {1e3 * s['python_after_compute']:.1f} ms | {fmt_ratio(r['lbfgs_eval/bare'])} | "
            f"{fmt_ratio(r['lbfgs_tf_eval/bare'])} | {fmt_ms(s['outside_tf_per_iter'])} | {fmt_ms(s['scipy'])} | "
            f"{1e3 * s['conversions']:.1f} ms | {fmt_ratio(r['lbfgs_blas1/bare'])} | "
            f"{fmt_ratio(r['lbfgs_blas1/lbfgs'])} | {fmt_ratio(r['lbfgs_blas1_tf_eval/bare'])} | "
            f"{fmt_ms(s.get('outside_tf_per_iter_blas1'))} | "
            f"{fmt_ms(s['scipy_blas1'])} |")
    lines += [
        "",
        "One-off costs of a `stylize` call (not in the steady-state step): *setup* = from the call to the loop's "
        "start (load and resize the images, the cached extractor, content and style targets); *first step* = from "
        "the loop's start to the first step's end (tracing and graph optimisation of a new `tf.function`, plus "
        "the step; for L-BFGS usually several evaluations).",
        "",
        "| size | Adam setup | Adam first step | Adam steady step | L-BFGS setup | L-BFGS first iteration "
        "| L-BFGS steady iteration |",
        "|---|---|---|---|---|---|---|",
    ]
    for result, s in zip(results, summaries):
        lines.append(f"| {result['size']} | {fmt_ms(s['adam_setup'])} | {fmt_ms(s['adam_first_step'])} | "
                     f"{fmt_ms(s['adam'])} | {fmt_ms(s['lbfgs_setup'])} | {fmt_ms(s['lbfgs_first_step'])} | "
                     f"{fmt_ms(s['lbfgs'])} |")
    if ttl:
        from tfstyle.optimize.stylize import DEFAULTS, LOSS_DEFAULTS

        hed = LOSS_DEFAULTS["vgg16_hed"]
        lines += [
            "",
            f"Time to reach the same loss at {ttl['size']} px (tfstyle defaults: init {DEFAULTS['init']}, content "
            f"weight {hed['content_weight']:g}, style {hed['style_weight']:g}, TV {hed['tv_weight']:g}, "
            f"Adam lr {DEFAULTS['learning_rate']:g}). The two runs start from the same image and are advanced "
            "alternately (the one that has used less time takes the next step); a run's seconds are the sum of "
            "its own steps, tracing included. Target = the worse of the two best losses reached (the loss the "
            f"weaker run ends at) = **{ttl['target']:.4g}**; also 2× that.",
            "",
            "| optimizer | steps run | best loss | seconds of its steps | forward+backward evaluations "
            "| reaches target: seconds (steps, evals) | reaches 2× target: seconds (steps, evals) |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in ttl["rows"]:
            cells = []
            for label in ("1x", "2x"):
                hit = row[label]
                cells.append("not reached" if hit is None else f"{hit[0]:.1f} s ({hit[1]}, {hit[2]})")
            lines.append(f"| {row['optimizer']} | {row['steps']} | {row['best']:.4g} | {row['seconds']:.1f} s | "
                         f"{row['evals']} | {cells[0]} | {cells[1]} |")
        hits = {row["optimizer"]: row["1x"] for row in ttl["rows"]}
        if all(hits.values()):
            lines += ["", f"To the target, Adam / L-BFGS: seconds **{hits['adam'][0] / hits['lbfgs'][0]:.2f}×**, "
                          f"forward+backward evaluations **{hits['adam'][2] / hits['lbfgs'][2]:.2f}×**."]
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
    started = datetime.datetime.now()
    command = " ".join(["python", *map(shlex.quote, [os.path.relpath(sys.argv[0]), *sys.argv[1:]])])
    import tensorflow as tf  # noqa: F401  (import before timing anything)

    machine = machine_lines()
    print("\n".join(machine), flush=True)
    ctx = Context(args)
    wall = time.perf_counter()
    results, summaries = [], []
    with instrumented_loop():
        for size in args.sizes:
            result = bench_size(ctx, size)
            summary = summarise(result)
            result.pop("stylized")
            content, _ = ctx.images(size)
            summary["scipy"] = scipy_lbfgsb_overhead(int(np.prod(content.shape)))
            with blas_threads(1):
                summary["scipy_blas1"] = scipy_lbfgsb_overhead(int(np.prod(content.shape)))
            summary["conversions"] = conversion_overhead(content.shape)
            results.append(result)
            summaries.append(summary)
        ttl = time_to_loss(ctx) if args.time_to_loss else None
    machine.append(f"- total benchmark wall time {(time.perf_counter() - wall) / 60:.1f} min; load average at end "
                   f"{os.getloadavg()[0]:.1f}")
    text = report(ctx, results, summaries, ttl, started, machine, command)
    print("\n" + text, flush=True)
    if args.markdown:
        write_markdown(args.markdown, text)
        print(f"wrote {args.markdown}", flush=True)


if __name__ == "__main__":
    main()
