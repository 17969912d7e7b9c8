"""L-BFGS-B whose whole state is a handful of NumPy arrays, so that a run can be checkpointed and resumed exactly.

`scipy.optimize.minimize(method="L-BFGS-B")` keeps the correction pairs, the line search and the counters inside
its loop, where no checkpoint can reach them. This module drives the same routine one level down: SciPy's
reverse-communication `setulb` (its C port of Byrd, Lu, Nocedal & Zhu's L-BFGS-B 3.0, SciPy ≥ 1.15), which keeps
everything it knows in the work arrays it is handed and returns whenever it needs the value and gradient at a new
point or has accepted a new iterate. Because the arrays are the complete state, saving them at an accepted iterate
and handing them back later continues the run bit for bit (tests/test_lbfgsb.py compares against SciPy's
`minimize` and against an uninterrupted run).

`setulb` is not public SciPy API; `minimize` calls it the same way (scipy/optimize/_lbfgsb_py.py). If a future
SciPy changes it, `LbfgsB` fails at construction with one line naming the SciPy version, and the tests here fail.

The saved state is large: the correction pairs are 2·m float64 vectors of the image's size (for a 512 px RGB image
and m = 20, 252 MB). `save` streams the arrays to a file, so saving needs no second copy in memory (serialising
them into a `tf.train.Checkpoint` string tensor needed 5.5 times their size on top, measured at 512 px).
"""

import numpy as np

# task codes returned by setulb in task[0] (scipy/optimize/_lbfgsb_py.py: status_messages)
_NEW_X, _FG = 1, 3
_STATUS = {0: "START", 1: "NEW_X", 2: "RESTART", 3: "FG", 4: "CONVERGENCE", 5: "STOP", 6: "WARNING",
           7: "ERROR", 8: "ABNORMAL"}
_STATE_FIELDS = ("x", "f", "g", "wa", "iwa", "task", "ln_task", "lsave", "isave", "dsave")


def _setulb():
    try:
        from scipy.optimize._lbfgsb import setulb
    except ImportError:  # pragma: no cover - depends on the installed SciPy
        setulb = None
    import scipy

    if setulb is None or "ln_task" not in (setulb.__doc__ or ""):
        raise RuntimeError(f"tfstyle's L-BFGS needs SciPy's reverse-communication L-BFGS-B (SciPy >= 1.15); "
                           f"SciPy {scipy.__version__} does not provide it as expected")
    return setulb


class LbfgsB:
    """Minimise f(x) subject to lower ≤ x ≤ upper, one accepted iterate at a time.

    Args:
        x0: starting point (any shape; flattened, float64, clipped to the bounds).
        memory: number of correction pairs kept (m).
        lower, upper: scalar bounds for every coordinate.
        max_line_search: evaluations allowed in one line search before the run stops as abnormal.

    The run does not stop on its own tolerances (factr = pgtol = 0, as neural-style runs its iterations): `step`
    returns False only when the line search cannot make progress any more.

    Example:
        >>> solver = LbfgsB(x0, memory=20)
        >>> while solver.step(value_and_gradient):   # value_and_gradient(x) -> (f, g), both float64
        ...     print(solver.f)
    """

    def __init__(self, x0, *, memory=20, lower=0.0, upper=1.0, max_line_search=20):
        self._setulb = _setulb()
        x0 = np.asarray(x0, dtype=np.float64).ravel()
        n, m = x0.size, int(memory)
        if m < 1:
            raise ValueError(f"memory must be at least 1; received {memory}")
        self.memory = m
        self.max_line_search = int(max_line_search)
        self.lower = np.full(n, float(lower))
        self.upper = np.full(n, float(upper))
        self.bound_kind = np.full(n, 2, dtype=np.int32)  # 2: both bounds
        self.x = np.clip(x0, lower, upper)
        self.f = np.array(0.0)
        self.g = np.zeros(n)
        self.wa = np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m)
        self.iwa = np.zeros(3 * n, dtype=np.int32)
        self.task = np.zeros(2, dtype=np.int32)
        self.ln_task = np.zeros(2, dtype=np.int32)
        self.lsave = np.zeros(4, dtype=np.int32)
        self.isave = np.zeros(44, dtype=np.int32)
        self.dsave = np.zeros(29)

    @property
    def status(self):
        """setulb's task, e.g. "NEW_X" after an accepted iterate or "ABNORMAL" when the line search failed."""
        return _STATUS.get(int(self.task[0]), str(int(self.task[0])))

    def step(self, value_and_gradient):
        """Advance to the next accepted iterate; returns False when the algorithm stopped instead.

        `value_and_gradient(x)` receives a float64 vector and returns the value and the gradient (any shape that
        flattens to x's, any float dtype). After True, `x`, `f` and `g` are the new iterate, its value and its
        gradient.
        """
        while True:
            self._setulb(self.memory, self.x, self.lower, self.upper, self.bound_kind, self.f, self.g, 0.0, 0.0,
                         self.wa, self.iwa, self.task, self.lsave, self.isave, self.dsave, self.max_line_search,
                         self.ln_task)
            if self.task[0] == _FG:
                value, gradient = value_and_gradient(self.x)
                self.f = np.array(float(value))
                self.g = np.asarray(gradient, dtype=np.float64).ravel().copy()
            elif self.task[0] == _NEW_X:
                return True
            else:
                return False

    @property
    def savable(self):
        """False in the middle of a line search (waiting for an evaluation), the only moment the state is partial.

        A stopped solver can be saved: restored, it reports the same stop again.
        """
        return int(self.task[0]) != _FG

    def state(self):
        """The complete state as a dict of arrays (copies)."""
        return {name: np.array(getattr(self, name), copy=True) for name in _STATE_FIELDS}

    def load_state(self, arrays, copy=True):
        """Continue from a `state()` (or a loaded `save()` file); refuses arrays of another problem size or memory."""
        for name in _STATE_FIELDS:
            value = np.asarray(arrays[name])
            expected = getattr(self, name)
            if value.shape != expected.shape or value.dtype != expected.dtype:
                raise ValueError(f"saved L-BFGS state does not fit this run: {name} has shape {value.shape} "
                                 f"{value.dtype}, expected {expected.shape} {expected.dtype}")
        for name in _STATE_FIELDS:
            setattr(self, name, np.array(arrays[name], copy=copy))

    def save(self, path):
        """Write the state to an uncompressed `.npz` file, streamed from the arrays (no copy of them in memory)."""
        if not self.savable:
            raise RuntimeError("L-BFGS state cannot be saved in the middle of a line search")
        with open(path, "wb") as handle:
            np.savez(handle, **{name: getattr(self, name) for name in _STATE_FIELDS})

    def load(self, path):
        with np.load(path) as arrays:
            self.load_state({name: arrays[name] for name in _STATE_FIELDS}, copy=False)
