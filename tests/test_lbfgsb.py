"""The checkpointable L-BFGS-B driver: the same iterates as SciPy's minimize, and a saved state that resumes exactly."""

import numpy as np
import pytest
from scipy.optimize import Bounds, minimize

from tfstyle.optimize.lbfgsb import LbfgsB

RNG = np.random.default_rng(0)
TARGET = RNG.uniform(-1.0, 2.0, 200)  # some of the optimum lies outside [0, 1]: the bounds are active
START = np.full(200, 0.5)


def bumpy(x):
    difference = x - TARGET
    value = 5.0 * np.sum(difference ** 2) + np.sum(np.cos(6.0 * difference))
    return value, 10.0 * difference - 6.0 * np.sin(6.0 * difference)


def iterates(solver, count):
    points = []
    for _ in range(count):
        assert solver.step(bumpy)
        points.append(solver.x.copy())
    return points


def test_same_iterates_as_scipy_minimize():
    reference = []
    minimize(bumpy, START, jac=True, method="L-BFGS-B", bounds=Bounds(0.0, 1.0),
             callback=lambda x: reference.append(x.copy()),
             options={"maxiter": 12, "maxcor": 4, "ftol": 0.0, "gtol": 0.0})
    ours = iterates(LbfgsB(START, memory=4), 12)
    assert len(reference) == 12
    for theirs, mine in zip(reference, ours):
        np.testing.assert_array_equal(mine, theirs)
    assert ours[-1].min() == 0.0 and ours[-1].max() == 1.0  # the bounds hold and are active


def test_value_and_gradient_belong_to_the_iterate():
    solver = LbfgsB(START, memory=4)
    solver.step(bumpy)
    value, gradient = bumpy(solver.x)
    assert float(solver.f) == value
    np.testing.assert_array_equal(solver.g, gradient)


def test_resume_from_a_file_is_exact(tmp_path):
    straight = iterates(LbfgsB(START, memory=4), 10)
    first = LbfgsB(START, memory=4)
    iterates(first, 4)
    first.save(tmp_path / "state.npz")
    resumed = LbfgsB(np.zeros(200), memory=4)  # the starting point is part of the saved state
    resumed.load(tmp_path / "state.npz")
    np.testing.assert_array_equal(iterates(resumed, 6)[-1], straight[-1])


def test_resume_from_a_copy_of_the_state_is_exact():
    straight = iterates(LbfgsB(START, memory=4), 10)
    first = LbfgsB(START, memory=4)
    iterates(first, 4)
    resumed = LbfgsB(START, memory=4)
    resumed.load_state(first.state())
    iterates(first, 1)  # the copy does not share memory with the solver it came from
    np.testing.assert_array_equal(iterates(resumed, 6)[-1], straight[-1])


def test_resume_without_the_memory_would_differ():
    # The check above can fail: a fresh solver from the same point takes other steps.
    straight = iterates(LbfgsB(START, memory=4), 10)
    first = LbfgsB(START, memory=4)
    restarted = LbfgsB(iterates(first, 4)[-1], memory=4)
    assert np.abs(iterates(restarted, 6)[-1] - straight[-1]).max() > 1e-4


def test_state_of_another_problem_is_refused():
    saved = LbfgsB(START, memory=4).state()
    with pytest.raises(ValueError, match="saved L-BFGS state does not fit this run: wa has shape"):
        LbfgsB(START, memory=5).load_state(saved)
    with pytest.raises(ValueError, match="x has shape"):
        LbfgsB(np.zeros(10), memory=4).load_state(saved)


def test_not_savable_in_the_middle_of_a_line_search(tmp_path):
    solver = LbfgsB(START, memory=4)

    def interrupted(x):
        assert not solver.savable
        with pytest.raises(RuntimeError, match="middle of a line search"):
            solver.save(tmp_path / "state.npz")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        solver.step(interrupted)


def test_a_flat_function_stops_and_stays_stopped():
    solver = LbfgsB(START, memory=4)
    assert not solver.step(lambda x: (1.0, np.zeros_like(x)))
    assert solver.status in ("CONVERGENCE", "ABNORMAL", "WARNING")
    restored = LbfgsB(START, memory=4)
    restored.load_state(solver.state())
    assert not restored.step(lambda x: (1.0, np.zeros_like(x)))
