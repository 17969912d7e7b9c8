"""Coarse-to-fine planning (`tfstyle.optimize.pyramid`) and the pyramid run of `stylize`."""

import pytest

from tfstyle.errors import OptionError
from tfstyle.optimize import Callback, StepInfo
from tfstyle.optimize.pyramid import LevelCallback, level_steps, pyramid_sizes


@pytest.mark.parametrize("size,sizes,expected", [
    (512, None, [512]),
    (1024, "auto", [256, 512, 1024]),
    (512, "auto", [256, 512]),
    (300, "auto", [300]),
    (2000, "auto", [500, 1000, 2000]),
    (999, [128, 256, 640], [128, 256, 640]),
])
def test_pyramid_sizes(size, sizes, expected):
    assert pyramid_sizes(size, sizes) == expected


@pytest.mark.parametrize("sizes,message", [
    ([256, 256], r"sizes must increase from coarse to fine; received \[256, 256\]"),
    ([0, 256], r"sizes must be positive; received \[0, 256\]"),
    ("big", r"sizes must be 'auto' or a list of increasing sizes; received 'big'"),
])
def test_bad_sizes(sizes, message):
    with pytest.raises(OptionError, match=message):
        pyramid_sizes(512, sizes)


def test_level_steps():
    assert level_steps(100, [256, 512]) == [100, 100]
    assert level_steps([300, 50], [256, 512]) == [300, 50]
    with pytest.raises(OptionError, match=r"got 3 step counts for 2 sizes \[256, 512\]"):
        level_steps([1, 2, 3], [256, 512])
    with pytest.raises(OptionError, match=r"steps must be at least 1 at every level; received \[5, 0\]"):
        level_steps([5, 0], [256, 512])


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_begin(self, steps):
        self.events.append(("begin", steps))

    def on_step(self, info):
        self.events.append(("step", info.step, info.steps))

    def on_end(self, info, reason):
        self.events.append(("end", info.step, reason))


def info(step, steps):
    return StepInfo(step, steps, {}, 0.0, lambda: None)


def test_level_callback_presents_levels_as_one_run():
    recorder = Recorder()
    wrapped = LevelCallback(recorder, total_steps=5)
    wrapped.start_level(0, last=False)
    wrapped.on_begin(3)
    for step in (1, 2, 3):
        wrapped.on_step(info(step, 3))
    wrapped.on_end(info(3, 3), "converged")  # an early level that converged: the run goes on
    wrapped.start_level(3, last=True)
    wrapped.on_begin(2)
    for step in (1, 2):
        wrapped.on_step(info(step, 2))
    wrapped.on_end(info(2, 2), "done")
    assert recorder.events == [("begin", 5), ("step", 1, 5), ("step", 2, 5), ("step", 3, 5), ("step", 4, 5),
                               ("step", 5, 5), ("end", 5, "done")]


def test_level_callback_ends_when_an_early_level_is_interrupted():
    recorder = Recorder()
    wrapped = LevelCallback(recorder, total_steps=10)
    wrapped.start_level(0, last=False)
    wrapped.on_begin(5)
    wrapped.on_step(info(1, 5))
    wrapped.on_end(info(1, 5), "interrupted")
    assert recorder.events[-1] == ("end", 1, "interrupted")
