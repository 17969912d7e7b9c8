"""The image-optimization loop: one function that minimises any objective over an RGB image, with Adam or L-BFGS.

The loop knows nothing about styles or backbones (pystiche's lesson): it receives `objective(image) -> {term:
scalar}` with a `"total"` entry, compiles it with `tf.function` once per image size, and drives it with either
optimizer. The image stays in [0, 1]: Adam clips after each step, L-BFGS-B treats [0, 1] as box bounds. An
objective that computes its own gradient outside one graph (tiled high-resolution runs) instead offers
`value_and_gradient(image) -> (terms, gradient)` on NumPy arrays, and the loop calls that.

XLA: `jit_compile=True` compiles the graph that computes the value and gradient (L-BFGS), or the whole Adam step,
with XLA. It is off by default because on CPU XLA's convolutions and their gradients are slower than TensorFlow's
own kernels, so a step on a VGG backbone takes longer (`benchmarks/xla_step.py`). Where XLA would compute another
function, or cannot compile the objective, the plain graph runs instead: see `compile_objective`.

L-BFGS is SciPy's L-BFGS-B (a well-tested implementation with a proper line search and native bounds), driven
one iterate at a time through `tfstyle.optimize.lbfgsb.LbfgsB`, whose complete state is NumPy arrays that go into the
checkpoint. It costs one device→host copy of the gradient per evaluation (milliseconds against a network's
forward+backward pass) and needs no extra dependency (SciPy comes with scikit-image). TensorFlow Probability would
add a large, version-coupled dependency for the same thing.

Long runs: a `RunCheckpoint` saves the image, the step, the history and the optimizer's state (Adam's moments or
L-BFGS's correction pairs and line-search state) every N steps and when the run stops; the same call with the same
checkpoint resumes exactly. The first Ctrl-C lets the current step finish, so what is saved is consistent; a
second Ctrl-C interrupts at once and, if that is in the middle of a step, writes no new checkpoint.
"""

import dataclasses
import re

import numpy as np
import tensorflow as tf

from tfstyle.errors import OptionError
from tfstyle.interrupts import InterruptAtStepEnd
from tfstyle.optimize.callbacks import StepInfo, Timer, to_floats

OPTIMIZERS = ("lbfgs", "adam")


@dataclasses.dataclass
class OptimizationResult:
    """Outcome of `optimize_image`.

    Attributes:
        image: the final image (H, W, 3) float32 in [0, 1]; on divergence the last image with a finite loss.
        history: `{term: [value per step]}`; for Adam the terms of the image each step started from, for L-BFGS
            the terms at the point each iteration accepted. A resumed run includes the steps before the resume.
        steps: steps completed (a resumed run counts the steps before the resume).
        reason: `"done"`, `"converged"`, `"interrupted"` or `"diverged"`.
        seconds: wall time of this call (compilation included).
        resumed_from: the step a checkpoint was restored at, or 0.
        checkpoint_saved: whether this call wrote a checkpoint when it ended (a second Ctrl-C in the middle of a
            step writes none; the last periodic checkpoint, if any, stays).
    """

    image: np.ndarray
    history: dict
    steps: int
    reason: str
    seconds: float
    resumed_from: int = 0
    checkpoint_saved: bool = False


class _Diverged(Exception):
    pass


def compile_objective(objective, shape, jit_compile=False):
    """A compiled function returning `(terms, gradient of terms["total"])` for images of a fixed `shape`.

    It is a plain `tf.function` graph, or with `jit_compile=True` one compiled with XLA unless XLA would not
    compute the same function. The first call decides, and the choice is kept: the plain graph is used when the
    traced objective draws random numbers (XLA generates other numbers than TensorFlow's kernels from the same
    seed, so e.g. the fixed permutations of the MMD style loss would change), or when XLA fails to compile it (an
    op XLA has no kernel for, such as `tf.numpy_function` or `tf.py_function`): that first call then runs the
    plain graph instead of raising. The returned function's `jit_compile` attribute says which one runs (None
    before the first call).

    Otherwise XLA computes the same values and gradients up to float32 rounding, except where a max-pooling window
    holds several equal maxima (flat regions of a photograph, such as the content image a run starts from): XLA
    may send that window's gradient to another of them. Both are valid gradients, but not the same numbers; Adam,
    whose first steps move every pixel with a non-zero gradient by about the learning rate, then changes those
    pixels differently.
    """

    def value_and_gradient(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            terms = objective(image)
        return terms, tape.gradient(terms["total"], image)

    return _XlaOrGraph(value_and_gradient, [tf.TensorSpec(shape, tf.float32)], jit_compile)


# Random-number ops (stateful and stateless): XLA implements them with other generators than TensorFlow's kernels.
_RANDOM_OPS = re.compile(r"Random|TruncatedNormal|Multinomial|Shuffle|Rng|StatefulUniform|StatefulStandardNormal")


class _XlaOrGraph:
    """`function` as a `tf.function` compiled with XLA, or as a plain graph where XLA would change the result.

    See `compile_objective`. `jit_compile` is None until the first call, then whether the calls run XLA.
    """

    def __init__(self, function, input_signature=None, jit_compile=False):
        self._xla = tf.function(function, input_signature=input_signature, jit_compile=True)
        self._plain = tf.function(function, input_signature=input_signature)
        self.jit_compile = None if jit_compile else False

    def __call__(self, *args):
        if self.jit_compile is None:
            if _draws_random_numbers(self._xla.get_concrete_function(*args)):
                self.jit_compile = False
            else:
                try:
                    result = self._xla(*args)
                except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
                    # XLA cannot compile the graph; a genuine error in the objective is raised again below
                    self.jit_compile = False
                else:
                    self.jit_compile = True
                    return result
        return (self._xla if self.jit_compile else self._plain)(*args)


def _draws_random_numbers(concrete_function):
    """Whether a traced function, or a function it calls, contains a random-number op."""
    graph = concrete_function.graph.as_graph_def()
    nodes = [*graph.node, *(node for function in graph.library.function for node in function.node_def)]
    return any(_RANDOM_OPS.search(node.op) for node in nodes)


def optimize_image(objective, init, *, optimizer="lbfgs", steps=500, learning_rate=0.02, callbacks=(),
                   lbfgs_memory=20, checkpoint=None, jit_compile=False):
    """Minimise `objective` over an image, starting from `init`.

    Args:
        objective: callable (1, H, W, 3) float32 tensor → dict of scalar tensors with a `"total"` entry; traced
            once by `tf.function`. Or an object with `value_and_gradient(image)` taking and returning NumPy arrays
            (`(terms as floats, gradient (1, H, W, 3))`), e.g. `tfstyle.optimize.tiling.TiledObjective`.
        init: initial image (H, W, 3) or (1, H, W, 3), float in [0, 1].
        optimizer: `"lbfgs"` (L-BFGS-B with bounds [0, 1]) or `"adam"` (Keras Adam, clipped to [0, 1]).
        steps: L-BFGS iterations or Adam steps in the whole run (a resumed run does the steps still missing).
        learning_rate: Adam's learning rate, in units of the [0, 1] image.
        callbacks: `tfstyle.optimize.callbacks.Callback` objects.
        lbfgs_memory: number of correction pairs L-BFGS keeps.
        checkpoint: a `tfstyle.optimize.checkpoint.RunCheckpoint`; if its folder holds a checkpoint the run
            resumes from it exactly.
        jit_compile: compile the value and gradient (L-BFGS) or the Adam step with XLA, except where XLA would
            change the result or cannot compile the objective (then the plain graph runs; see
            `compile_objective`). Off by default: slower than the plain graph on CPU. Objects with
            `value_and_gradient` are called as they are.

    Returns:
        An `OptimizationResult`. Ctrl-C ends the loop early with reason `"interrupted"` and the current image (and
        writes a checkpoint); a non-finite loss ends it with reason `"diverged"` and the last image whose loss was
        finite.
    """
    if optimizer not in OPTIMIZERS:
        raise OptionError(f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
    if int(steps) < 1:
        raise OptionError(f"steps must be at least 1; received {steps}")
    init = np.asarray(init, dtype=np.float32)
    if init.ndim == 3:
        init = init[None]
    if init.ndim != 4 or init.shape[0] != 1 or init.shape[-1] != 3:
        raise ValueError(f"init must be an image (H, W, 3); received shape {init.shape}")
    if checkpoint is not None:
        checkpoint.check_fingerprint()
    run = _adam if optimizer == "adam" else _lbfgs
    timer = Timer()
    state = _LoopState(np.clip(init, 0.0, 1.0), int(steps), callbacks, timer, checkpoint)
    with InterruptAtStepEnd() as interrupt:
        state.interrupt = interrupt
        try:
            reason = run(objective, state, learning_rate=learning_rate, lbfgs_memory=lbfgs_memory,
                         jit_compile=jit_compile)
        except KeyboardInterrupt:
            reason = "interrupted"
        except _Diverged:
            reason = "diverged"
        # Ctrl-C always saves; a finished run saves if its checkpoint asks for it (periodic checkpoints, levels of
        # a pyramid); a diverged run keeps its last periodic checkpoint, whose loss was finite.
        saved = False
        if reason == "interrupted" or (checkpoint is not None and checkpoint.save_when_done
                                       and reason != "diverged"):
            saved = state.save_checkpoint()
    info = StepInfo(state.step, state.steps, state.last_terms, timer(), lambda: state.image)
    for callback in callbacks:
        callback.on_end(info, reason)
    return OptimizationResult(state.image, state.history, state.step, reason, timer(), state.resumed_from, saved)


class _LoopState:
    """Book-keeping shared by both optimizers: history, the last good image, callbacks, checkpoints."""

    def __init__(self, init, steps, callbacks, timer, checkpoint):
        self.init = init
        self.steps = steps
        self.callbacks = callbacks
        self.timer = timer
        self.checkpoint = checkpoint
        self.interrupt = None
        self.step = 0
        self.resumed_from = 0
        self.history = {}
        self.last_terms = {}
        self.image = init[0].copy()  # the latest image whose loss was finite
        self._step_variable = None
        self._image_variable = None
        self.mid_step = False  # set by an optimizer when it starts a step, cleared when the step is recorded

    def attach(self, image_variable, **objects):
        """Track the image variable (and optimizer state) in the checkpoint and restore it if one exists.

        Returns True when the run resumed from a checkpoint.
        """
        self._image_variable = image_variable
        self._step_variable = tf.Variable(0, dtype=tf.int64, name="step")
        if self.checkpoint is None:
            return False
        self.checkpoint.attach(image=image_variable, step=self._step_variable, **objects)
        history = self.checkpoint.restore()
        if history is None:
            return False
        self.step = self.resumed_from = int(self._step_variable.numpy())
        # history.json may be one save ahead of the checkpoint if a run was killed between the two writes
        self.history = {key: list(values[:self.step]) for key, values in history.items()}
        self.last_terms = {key: values[-1] for key, values in self.history.items() if values}
        self.image = image_variable.numpy()[0].copy()
        self.init = image_variable.numpy()
        return True

    def on_begin(self):
        for callback in self.callbacks:
            callback.on_begin(self.steps)

    def record(self, terms, image, image_is_in_variable=True):
        """Record a finished step whose starting image had `terms`; `image` is the image after the step."""
        if not np.isfinite(terms["total"]):
            raise _Diverged
        self.step += 1
        self.mid_step = False
        self.last_terms = terms
        for key, value in terms.items():
            self.history.setdefault(key, []).append(value)
        self.image = image
        info = StepInfo(self.step, self.steps, terms, self.timer(), lambda: image)
        for callback in self.callbacks:
            callback.on_step(info)
        if self.checkpoint is not None and self.checkpoint.due(self.step) and self.step < self.steps:
            self.save_checkpoint(image_is_in_variable)
        self.interrupt.check()

    def save_checkpoint(self, image_is_in_variable=False):
        """Save the state after the last recorded step; returns False when there is nothing consistent to save."""
        if self.checkpoint is None or self._image_variable is None or self.step == 0 or self.mid_step:
            return False
        if not image_is_in_variable:
            self._image_variable.assign(self.image[None])
        self._step_variable.assign(self.step)
        self.checkpoint.save(self.step, self.history)
        return True


def _host_value_and_gradient(objective, shape, jit_compile):
    """NumPy (terms, gradient) of `objective`, compiled once unless it computes its own gradient."""
    if hasattr(objective, "value_and_gradient"):
        return objective.value_and_gradient
    compiled = compile_objective(objective, shape, jit_compile)

    def value_and_gradient(image):
        terms, gradient = compiled(tf.constant(image, tf.float32))
        return to_floats(terms), gradient.numpy()

    return value_and_gradient


def _adam(objective, state, learning_rate, jit_compile, **_):
    import keras

    image = tf.Variable(state.init, dtype=tf.float32, name="image")
    adam = keras.optimizers.Adam(learning_rate=learning_rate)
    adam.build([image])
    state.attach(image, optimizer=adam)
    state.on_begin()

    if hasattr(objective, "value_and_gradient"):
        def step():
            terms, gradient = objective.value_and_gradient(image.numpy())
            adam.apply_gradients([(tf.constant(gradient, tf.float32), image)])
            image.assign(tf.clip_by_value(image, 0.0, 1.0))
            return terms
    else:
        def update():
            with tf.GradientTape() as tape:
                terms = objective(image)
            gradient = tape.gradient(terms["total"], image)
            adam.apply_gradients([(gradient, image)])
            image.assign(tf.clip_by_value(image, 0.0, 1.0))
            return terms

        step = _XlaOrGraph(update, jit_compile=jit_compile)

    while state.step < state.steps:
        state.mid_step = True
        terms = to_floats(step())
        # A non-finite loss means the step just taken used a non-finite gradient: `record` raises before
        # replacing state.image, so the image this step started from is kept.
        state.record(terms, image.numpy()[0])
    return "done"


def _lbfgs(objective, state, lbfgs_memory, jit_compile, **_):
    from threadpoolctl import threadpool_limits

    from tfstyle.optimize.lbfgsb import LbfgsB

    shape = state.init.shape
    solver = LbfgsB(state.init, memory=lbfgs_memory, lower=0.0, upper=1.0)
    state.attach(tf.Variable(state.init, dtype=tf.float32, name="image"), array_state=solver)
    state.on_begin()
    value_and_gradient = _host_value_and_gradient(objective, shape, jit_compile)
    evaluated = {}

    def fun(x):
        terms, gradient = value_and_gradient(x.reshape(shape).astype(np.float32))
        if not np.isfinite(terms["total"]):
            raise _Diverged
        evaluated["terms"] = terms
        return terms["total"], gradient

    # L-BFGS-B's own work is small vectors: multi-threaded BLAS only waits for descheduled threads on a busy
    # machine (measured 30–330 ms per iteration; benchmarks/optimize_step.py), so run it on one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        while state.step < state.steps:
            state.mid_step = True
            if not solver.step(fun):
                # the line search could not improve the loss any more; the stopped state is saved as it is
                state.mid_step = False
                return "converged"
            # the last evaluation of a step is the point it accepted
            state.record(evaluated["terms"], solver.x.reshape(shape)[0].astype(np.float32),
                         image_is_in_variable=False)
    return "done"
