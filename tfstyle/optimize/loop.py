"""The image-optimization loop: one function that minimises any objective over an RGB image, with Adam or L-BFGS.

The loop knows nothing about styles or backbones (pystiche's lesson): it receives `objective(image) -> {term:
scalar}` with a `"total"` entry, compiles it with `tf.function` once per image size, and drives it with either
optimizer. The image stays in [0, 1]: Adam clips after each step, L-BFGS-B treats [0, 1] as box bounds.

L-BFGS is SciPy's L-BFGS-B driving the compiled value-and-gradient function: it is a well-tested Fortran
implementation with a proper line search and native bounds, costs one device→host copy of the gradient per
evaluation (milliseconds against a network's forward+backward pass), and needs no extra dependency (SciPy comes
with scikit-image). TensorFlow Probability would add a large, version-coupled dependency for the same thing.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from tfstyle.errors import OptionError
from tfstyle.optimize.callbacks import StepInfo, Timer, to_floats

OPTIMIZERS = ("lbfgs", "adam")


@dataclasses.dataclass
class OptimizationResult:
    """Outcome of `optimize_image`.

    Attributes:
        image: the final image (H, W, 3) float32 in [0, 1]; on divergence the last image with a finite loss.
        history: `{term: [value per step]}`; for Adam the terms of the image each step started from, for L-BFGS
            the terms at the point each iteration accepted.
        steps: steps completed.
        reason: `"done"`, `"converged"`, `"interrupted"` or `"diverged"`.
        seconds: wall time of the loop (compilation included).
    """

    image: np.ndarray
    history: dict
    steps: int
    reason: str
    seconds: float


class _Diverged(Exception):
    pass


def compile_objective(objective, shape):
    """`tf.function` returning `(terms, gradient of terms["total"])` for images of a fixed `shape`."""

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
    def value_and_gradient(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            terms = objective(image)
        return terms, tape.gradient(terms["total"], image)

    return value_and_gradient


def optimize_image(objective, init, *, optimizer="lbfgs", steps=500, learning_rate=0.02, callbacks=(),
                   lbfgs_memory=20):
    """Minimise `objective` over an image, starting from `init`.

    Args:
        objective: callable (1, H, W, 3) float32 tensor → dict of scalar tensors with a `"total"` entry; traced
            once by `tf.function`.
        init: initial image (H, W, 3) or (1, H, W, 3), float in [0, 1].
        optimizer: `"lbfgs"` (SciPy L-BFGS-B with bounds [0, 1]) or `"adam"` (Keras Adam, clipped to [0, 1]).
        steps: L-BFGS iterations or Adam steps.
        learning_rate: Adam's learning rate, in units of the [0, 1] image.
        callbacks: `tfstyle.optimize.callbacks.Callback` objects.
        lbfgs_memory: number of correction pairs L-BFGS keeps.

    Returns:
        An `OptimizationResult`. Ctrl-C ends the loop early with reason `"interrupted"` and the current image; a
        non-finite loss ends it with reason `"diverged"` and the last image whose loss was finite.
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
    run = _adam if optimizer == "adam" else _lbfgs
    timer = Timer()
    for callback in callbacks:
        callback.on_begin(int(steps))
    state = _LoopState(np.clip(init, 0.0, 1.0), int(steps), callbacks, timer)
    try:
        reason = run(objective, state, learning_rate=learning_rate, lbfgs_memory=lbfgs_memory)
    except KeyboardInterrupt:
        reason = "interrupted"
    except _Diverged:
        reason = "diverged"
    info = StepInfo(state.step, state.steps, state.last_terms, timer(), lambda: state.image)
    for callback in callbacks:
        callback.on_end(info, reason)
    return OptimizationResult(state.image, state.history, state.step, reason, timer())


class _LoopState:
    """Book-keeping shared by both optimizers: history, the last good image, callbacks."""

    def __init__(self, init, steps, callbacks, timer):
        self.init = init
        self.steps = steps
        self.callbacks = callbacks
        self.timer = timer
        self.step = 0
        self.history = {}
        self.last_terms = {}
        self.image = init[0].copy()  # the latest image whose loss was finite

    def record(self, terms, image):
        """Record a finished step whose starting image had `terms`; `image` is the image after the step."""
        if not np.isfinite(terms["total"]):
            raise _Diverged
        self.step += 1
        self.last_terms = terms
        for key, value in terms.items():
            self.history.setdefault(key, []).append(value)
        self.image = image
        info = StepInfo(self.step, self.steps, terms, self.timer(), lambda: image)
        for callback in self.callbacks:
            callback.on_step(info)


def _adam(objective, state, learning_rate, **_):
    import keras

    image = tf.Variable(state.init, dtype=tf.float32, name="image")
    adam = keras.optimizers.Adam(learning_rate=learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            terms = objective(image)
        gradient = tape.gradient(terms["total"], image)
        adam.apply_gradients([(gradient, image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return terms

    for _ in range(state.steps):
        terms = to_floats(step())
        # A non-finite loss means the step just taken used a non-finite gradient: `record` raises before
        # replacing state.image, so the image this step started from is kept.
        state.record(terms, image.numpy()[0])
    return "done"


def _lbfgs(objective, state, lbfgs_memory, **_):
    from scipy.optimize import Bounds, minimize
    from threadpoolctl import threadpool_limits

    shape = state.init.shape
    value_and_gradient = compile_objective(objective, shape)
    evaluated = {}

    def fun(x):
        terms, gradient = value_and_gradient(tf.constant(x.reshape(shape), tf.float32))
        terms = to_floats(terms)
        if not np.isfinite(terms["total"]):
            raise _Diverged
        evaluated["terms"] = terms
        return terms["total"], gradient.numpy().astype(np.float64).ravel()

    def callback(intermediate_result):
        # L-BFGS-B's last evaluation before the callback is the accepted point of the line search.
        state.record(evaluated["terms"], intermediate_result.x.reshape(shape)[0].astype(np.float32))

    # ftol/gtol 0: run the requested iterations as neural-style does, unless the line search cannot progress.
    # L-BFGS-B's own work is small vectors: multi-threaded BLAS only waits for descheduled threads on a busy
    # machine (measured 30–330 ms per iteration; benchmarks/optimize_step.py), so run it on one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        minimize(fun, state.init.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
                 bounds=Bounds(0.0, 1.0), callback=callback,
                 options={"maxiter": state.steps, "maxfun": 2 * state.steps + 20, "maxcor": lbfgs_memory,
                          "ftol": 0.0, "gtol": 0.0})
    # Fewer iterations than asked means the line search could not improve the loss any more.
    return "done" if state.step >= state.steps else "converged"
