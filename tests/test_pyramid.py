"""Coarse-to-fine planning (`tfstyle.optimize.pyramid`) and the pyramid run of `stylize`."""

import numpy as np
import pytest

import tfstyle
from tfstyle.errors import OptionError
from tfstyle.optimize import Callback, StepInfo
from tfstyle.optimize.pyramid import LevelCallback, default_schedule, level_steps, pyramid_sizes, schedule_steps


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


# --- stylize with sizes ------------------------------------------------------------------------------------------

def smooth(height, width, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    phase = rng.uniform(0, 6, 3)
    image = np.stack([np.sin(7 * xx + phase[k]) * np.cos(5 * yy - phase[k]) for k in range(3)], axis=-1)
    return np.clip(0.5 + 0.4 * image, 0, 1).astype(np.float32)


TINY = {"backbone": "vgg16", "weights": None, "progress": False, "verbose": False}


class Images(Callback):
    def __init__(self):
        self.images = {}

    def on_step(self, info):
        self.images[info.step] = info.image.copy()


def test_stylize_runs_the_levels_in_order():
    content, style = smooth(48, 64, 0), smooth(64, 64, 1)
    recorder, images = Recorder(), Images()
    result = tfstyle.stylize(content, style, sizes=[48, 64], steps=[3, 2], optimizer="adam", learning_rate=0.05,
                             callbacks=[recorder, images], **TINY)
    assert result.info["sizes"] == [48, 64] and result.info["level_steps"] == [3, 2]
    assert result.info["steps"] == 5 and result.info["reason"] == "done"
    assert result.image.shape == (48, 64, 3)
    assert len(result.history["total"]) == 5
    assert recorder.events[0] == ("begin", 5) and recorder.events[-1] == ("end", 5, "done")
    assert [event[1] for event in recorder.events if event[0] == "step"] == [1, 2, 3, 4, 5]
    # the coarse level worked at 48 px, the fine level started from its result upsampled to 64 px
    assert images.images[3].shape == (36, 48, 3) and images.images[4].shape == (48, 64, 3)
    upsampled = tfstyle.io.resize_image(images.images[3], size=(48, 64))
    content_64 = tfstyle.io.resize_image(content, size=(48, 64))
    assert np.abs(upsampled - content_64).max() > 0.1  # level 1 moved away from the content ...
    assert np.abs(images.images[4] - upsampled).max() < 0.07  # ... and level 2 began there (one Adam step away)


def test_stylize_auto_sizes_and_a_single_level():
    content, style = smooth(48, 64, 0), smooth(64, 64, 1)
    single = tfstyle.stylize(content, style, size=64, steps=2, sizes=None, **TINY)
    assert single.info["sizes"] == [64] and single.info["steps"] == 2
    with pytest.raises(OptionError, match=r"got 2 step counts for 1 sizes \[64\]"):
        tfstyle.stylize(content, style, size=64, steps=[2, 2], **TINY)


def test_pyramid_checks_the_coarsest_level_first():
    with pytest.raises(OptionError, match=r"the output is 16x12 pixels at pyramid size 16 but vgg16 needs at least "
                                          r"32 on each side; increase size"):
        tfstyle.stylize(smooth(48, 64, 0), smooth(64, 64, 1), sizes=[16, 64], steps=1, **TINY)


@pytest.mark.parametrize("size,sizes,steps", [
    (100, [100], [200]),
    (255, [255], [200]),
    (256, [128, 256], [200, 30]),
    (512, [128, 256, 512], [200, 100, 30]),
    (700, [175, 350, 700], [200, 100, 30]),
    (2048, [128, 256, 512, 1024, 2048], [200, 100, 50, 30, 30]),
])
def test_default_schedule(size, sizes, steps):
    assert default_schedule(size) == (sizes, steps)
    assert schedule_steps(len(sizes)) == steps


def test_stylize_runs_the_default_schedule_unless_steps_or_sizes_are_given(monkeypatch):
    from tfstyle.optimize import pyramid

    monkeypatch.setattr(pyramid, "SCHEDULE_COARSE_SIZE", 40)
    monkeypatch.setattr(pyramid, "SCHEDULE_COARSE_STEPS", 3)
    monkeypatch.setattr(pyramid, "SCHEDULE_FINE_STEPS", 1)
    content, style = smooth(48, 64, 0), smooth(64, 64, 1)
    default = tfstyle.stylize(content, style, size=96, **TINY)
    assert default.info["sizes"] == [48, 96] and default.info["level_steps"] == [3, 1]
    # sizes without steps: the schedule's steps for that many levels; steps without sizes: one level, as neural-style
    levels = tfstyle.stylize(content, style, sizes=[48, 56, 64], **TINY)
    assert levels.info["sizes"] == [48, 56, 64] and levels.info["level_steps"] == [3, 1, 1]
    single = tfstyle.stylize(content, style, size=64, steps=2, **TINY)
    assert single.info["sizes"] == [64] and single.info["level_steps"] == [2]


def test_progress_bar_advances_by_cost_across_levels():
    import io

    from tfstyle.optimize.callbacks import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(file=stream, step_costs=[1, 1, 4, 4])  # two cheap steps, then two 4× dearer ones
    bar.on_begin(4)
    done = []
    for step in range(1, 5):
        bar.on_step(StepInfo(step, 4, {"total": 1.0}, 0.0, lambda: None))
        done.append(bar.bar.n)
    bar.on_end(None, "done")
    np.testing.assert_allclose(done, [0.1, 0.2, 0.6, 1.0])
    assert "step=4/4" in stream.getvalue()
